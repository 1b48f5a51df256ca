"""The leads export: every lead updated inside a window, complete while leads keep changing.

Pure: no Airflow, no httpx. :func:`read_changes` takes ``afetch`` (the hook's
``afetch_content``), so transport, limits and retries stay the hook's.

Why not offset paging: a lead updated while the export runs moves to the end of the update
order (or out of the window), and every later offset shifts back by one, so the lead at the
next page's first position is never read. Keyset paging asks each page from the update time
the last one ended at instead, at offset 0:

* the service answers a window in ascending update order, so a page holds every lead of
  ``[cursor, last time on the page)``; asking again from that last time (inclusive) reads
  the leads of that second again, which the dedupe drops;
* a lead updated during the export gets an update time at or after every time read so far,
  so it lands at or after the cursor and is read at its new place;
* only a page whose leads all share one second cannot move the cursor: that second is read
  by offset, and read again while its total moves between pages.

Every lead whose update time is inside the window when the read ends is therefore read, and
the copy kept is the last read, its newest. Offsets stay at 0 but in such a second, so an
offset cap matters only past that many leads updated in one second.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from airflow_provider_convoso.endpoints.leads.query import LeadsQuery
from airflow_provider_convoso.endpoints.leads.records import page_keys
from airflow_provider_convoso.exceptions import ConvosoOffsetError, ConvosoResponseError
from airflow_provider_convoso.wire.local_time import shifted
from airflow_provider_convoso.wire.paging import IdMap

#: Passes over one crowded second before its moving total is an error.
SECOND_PASSES = 3


@dataclasses.dataclass
class LeadStats:
    """What an export read: pages, crowded seconds re-read, and the last page each lead was in."""

    pages: int = 0
    re_reads: int = 0
    crowded_seconds: int = 0
    last_page: IdMap = dataclasses.field(default_factory=IdMap)


async def read_changes(
    afetch: Callable[[LeadsQuery], Awaitable[bytes]],
    query: LeadsQuery,
    spool: Any,
    *,
    log: logging.Logger | logging.LoggerAdapter[Any],
    max_pages: int = 1_000_000,
) -> LeadStats:
    """Read every lead updated inside ``query``'s window into ``spool``, page by page.

    Each page's body goes to the spool in a worker thread while the next page is asked
    for (one body in the thread at a time, so memory holds two pages at most).

    :param afetch: returns the checked body of one page (the hook's ``afetch_content``).
    :param query: the window, filters and page size.
    :param spool: a :class:`~airflow_provider_convoso.spool.BodySpool`; pages are keyed in read order.
    :param log: where re-reads are logged.
    :param max_pages: requests at most.
    :return: what was read.
    :raises ConvosoResponseError: an answer out of update order or outside the window, a
        page that stops short of its total with no leads, or a second too crowded to read.
    """
    stats = LeadStats()
    end = query.updated_at_end_date
    cursor = query.updated_at_start_date
    adding: list[asyncio.Future[None]] = []

    async def get(page_query: LeadsQuery) -> tuple[list[str], list[str], int]:
        if stats.pages >= max_pages:
            raise ConvosoResponseError(f"leads/search still had leads after {max_pages} pages")
        body = await afetch(page_query)
        ids, times, total = page_keys(body, page_query.to_params())
        _check_order(times, page_query)
        index = stats.pages
        stats.pages += 1
        if adding:
            await adding.pop()
        adding.append(asyncio.ensure_future(asyncio.to_thread(spool.add, f"{index:010d}", body)))
        for lead_id in ids:
            stats.last_page[lead_id] = index
        return ids, times, total

    try:
        while cursor <= end:
            ids, times, total = await get(query.window(cursor, end))
            if len(ids) >= total:
                break
            if not ids:
                raise ConvosoResponseError(
                    f"leads/search reported {total} leads updated from {cursor} to {end} but sent none"
                )
            if times[-1] > cursor:
                cursor = times[-1]  # inclusive: that second's leads again, the dedupe drops them
                continue
            await _read_second(get, query.window(cursor, cursor), stats, log)
            cursor = shifted(cursor, 1)
    finally:
        if adding:  # a thread cannot be cancelled: let the last add finish, whatever ended the read
            await asyncio.gather(*adding, return_exceptions=True)
    if adding:
        adding.pop().result()
    return stats


def _check_order(times: list[str], page_query: LeadsQuery) -> None:
    """Refuse a page the keyset cannot trust: out of update order, or outside its window."""
    start, end = page_query.updated_at_start_date, page_query.updated_at_end_date
    if times and (times[0] < start or times[-1] > end):
        raise ConvosoResponseError(
            f"leads/search answered a lead updated outside {start} - {end}: the export cannot page it completely"
        )
    if any(later < earlier for earlier, later in itertools.pairwise(times)):
        raise ConvosoResponseError(
            "leads/search answered out of ascending update order: the export cannot page it completely"
        )


async def _read_second(
    get: Callable[[LeadsQuery], Awaitable[tuple[list[str], list[str], int]]],
    second: LeadsQuery,
    stats: LeadStats,
    log: logging.Logger | logging.LoggerAdapter[Any],
) -> None:
    """Read one second holding more leads than a page, by offset, again while its total moves.

    Leads only leave a past second (an update moves them later), so a pass whose total held
    still from its first page to its last shifted nothing and missed nothing.
    """
    stats.crowded_seconds += 1
    moment = second.updated_at_start_date
    for attempt in range(SECOND_PASSES):
        if attempt:
            stats.re_reads += 1
            log.info("Leads updated at %s changed while read; reading that second again", moment)
        totals: set[int] = set()
        offset = 0
        while True:
            try:
                ids, _, total = await get(second.page(offset))
            except ConvosoOffsetError:
                raise ConvosoResponseError(
                    f"more leads were updated at {moment} than leads/search lets one filter set page "
                    f"through (offset {offset} refused): add a filter such as list_id"
                ) from None
            totals.add(total)
            offset += len(ids)
            if not ids or offset >= total:
                break
        if len(totals) == 1:
            return
    raise ConvosoResponseError(f"the leads updated at {moment} kept changing over {SECOND_PASSES} reads")


def iter_leads(
    read: Callable[[Any], LeadStats],
    timezone: str,
    custom_fields: Mapping[str, str] | None = None,
    stats: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield every lead of an export, typed, each once (its newest copy), in update order.

    ``read`` fills a spool on local disk with every page first, so memory holds the ids
    and not the leads.

    :param read: reads every page into the spool it is given (the hook's ``read_leads``).
    :param timezone: the account's zone, for the ``*_utc`` companions.
    :param custom_fields: ``field_N`` -> column name.
    :param stats: receives ``pages``, ``re_reads`` and ``duplicates_dropped``.
    :return: the leads.
    """
    import zoneinfo

    from airflow_provider_convoso.endpoints.leads.records import check_custom_fields, spooled_leads
    from airflow_provider_convoso.spool import BodySpool

    names = check_custom_fields(custom_fields)
    zone = zoneinfo.ZoneInfo(timezone)
    with BodySpool() as spool:
        read_stats = read(spool)
        dropped = [0]
        yield from spooled_leads(spool, read_stats.last_page, zone, names, dropped)
    if stats is not None:
        stats.update(pages=read_stats.pages, re_reads=read_stats.re_reads, duplicates_dropped=dropped[0])
