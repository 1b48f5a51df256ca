"""Agent productivity (``agent-productivity/search``): state-change events, paged by day.

Pure: no Airflow, no httpx. :func:`iter_day` asks ``fetch`` (the hook's
``fetch_payload``) for every page of one account-local day and yields typed events,
each ``id`` once; past the offset cap it asks again per campaign. Every value arrives as
a string: ``event_epoch`` (Unix seconds, the only absolute time) becomes an aware UTC
``event_time``, ``created_at`` stays the account-local text, ``event_sec`` stays as sent
beside its value in seconds, and ``state_normalized`` is ``state`` upper-cased.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from airflow_provider_convoso.exceptions import ConvosoInputError, ConvosoResponseError
from airflow_provider_convoso.tables import Column, Table
from airflow_provider_convoso.wire.envelope import count_of, data_of, records_in, snippet
from airflow_provider_convoso.wire.paging import offset_pages, unique_by_id
from airflow_provider_convoso.wire.query import Query, _page_number, _search_text, iter_days, parse_date_range

#: The CSV/Parquet columns, in order.
COLUMNS: tuple[str, ...] = (
    "id",
    "event_time",
    "created_at",
    "user_id",
    "user_name",
    "state",
    "state_normalized",
    "availability_code",
    "availability_name",
    "availability_code_name",
    "campaign_id",
    "campaign_name",
    "campaign_type",
    "event_epoch",
    "event_sec",
    "event_seconds",
    "ip_address",
    "user_uid",
    "campaign_uid",
    "browser",
)

#: The published table: one row per state-change event.
TABLE = Table(
    "agent_productivity",
    columns=tuple(
        Column(name, "timestamp" if name == "event_time" else "int" if name == "event_seconds" else "string")
        for name in COLUMNS
    ),
    key=("id",),
)


@dataclasses.dataclass(frozen=True)
class AgentProductivityQuery(Query):
    """One page of ``agent-productivity/search``: one account-local day, filters, paging.

    A day at a time (``date_start`` = ``date_end``): whether an end date covers its whole
    day is not documented, and one day's events are what a run loads.
    """

    endpoint: ClassVar[str] = "/agent-productivity/search"

    date_start: dt.date | None = None
    date_end: dt.date | None = None
    campaign_id: str | None = None
    agent_emails: str | None = None
    limit: int = 1000
    offset: int = 0

    #: Rows one filter set can reach: the offset cap (50,000) plus a page.
    OFFSET_CAP: ClassVar[int] = 50_000
    #: The largest page the endpoint sends.
    PAGE_CAP: ClassVar[int] = 1000

    @classmethod
    def _validated(cls, inputs: Mapping[str, Any]) -> AgentProductivityQuery:
        start, end = parse_date_range(inputs.get("date_start"), inputs.get("date_end"))
        if start is None or end is None:
            raise ConvosoInputError("agent productivity needs date_start and date_end")
        campaign = _search_text("campaign_id", inputs.get("campaign_id"))
        if campaign is not None and not campaign.isdigit():
            raise ConvosoInputError(f"campaign_id must be one numeric id, got {campaign!r}")
        emails = inputs.get("agent_emails")
        if isinstance(emails, list | tuple):
            emails = ",".join(str(email).strip() for email in emails)
        return cls(
            date_start=start,
            date_end=end,
            campaign_id=campaign,
            agent_emails=_search_text("agent_emails", emails),
            limit=min(_page_number("limit", inputs.get("limit", cls.PAGE_CAP)) or 1, cls.PAGE_CAP),
            offset=_page_number("offset", inputs.get("offset", 0), maximum=cls.OFFSET_CAP),
        )

    def days(self) -> list[dt.date]:
        """Return every day of the range, both ends included.

        :return: the dates, in order.
        """
        if self.date_start is None or self.date_end is None:
            raise ConvosoInputError("agent productivity needs date_start and date_end")
        return iter_days(self.date_start, self.date_end)

    def page(self, offset: int) -> AgentProductivityQuery:
        """Return the same day and filters at another offset.

        :param offset: the first row wanted.
        :return: the query.
        """
        return dataclasses.replace(self, offset=offset)


#: Pages read for one filter set at most (the offset cap over the smallest page, and some).
MAX_PAGES = 1000
ID_FIELDS = ("id", "user_id", "campaign_id")
_DURATION = re.compile(r"(?:(\d{1,9}):)?([0-5]?\d):([0-5]\d)")

_log = logging.getLogger(__name__)

Fetch = Callable[[Query], Any]


def read_page(payload: Any, params: Mapping[str, str] | None = None) -> tuple[list[dict[str, Any]], int]:
    """Return the events of one answer and the day's ``total``.

    :param payload: the decoded answer: ``data.entries`` is the list, ``data.total`` a string.
    :param params: the request's parameters, for error messages.
    :return: ``(entries, total)``.
    """
    data = data_of(payload, params)
    if data is None or data in ({}, []):
        return [], 0
    if not isinstance(data, Mapping):
        raise ConvosoResponseError(f"agent-productivity 'data' is a JSON {type(data).__name__}, not an object")
    rows = records_in(data.get("entries"), "agent-productivity 'entries'")
    return rows, count_of(data.get("total", len(rows)), "total")


def event_seconds(value: Any) -> int | None:
    """Seconds in an ``event_sec`` value (``HH:MM:SS`` or ``MM:SS``); ``None`` when unreadable.

    :param value: the raw value.
    :return: the seconds, or ``None``.
    """
    if not isinstance(value, str):
        return None
    match = _DURATION.fullmatch(value.strip())
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)


def type_event(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return a typed copy of one productivity event.

    :param raw: the event as sent.
    :return: the event with ``event_time`` (aware UTC), ``event_seconds`` and
        ``state_normalized`` added, ids as strings; unknown fields pass through.
    """
    record = dict(raw)
    for field in ID_FIELDS:
        value = record.get(field)
        if value is not None and not isinstance(value, bool):
            record[field] = str(value).strip()
    epoch = record.get("event_epoch")
    try:
        seconds = int(str(epoch).strip()) if epoch is not None else None
        record["event_time"] = None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise ConvosoResponseError(f"event_epoch is not Unix seconds: {snippet(repr(epoch), 40)}") from None
    record["event_seconds"] = event_seconds(record.get("event_sec"))
    state = record.get("state")
    record["state_normalized"] = state.strip().upper() if isinstance(state, str) else None
    return record


def _filter_set(
    fetch: Fetch, query: AgentProductivityQuery, stats: dict[str, Any]
) -> tuple[int, Iterator[list[dict[str, Any]]]]:
    """The first page's ``total`` and an iterator over every page's rows (the first included),
    fetched as they are consumed."""

    def read(offset: int) -> tuple[list[dict[str, Any]], int]:
        page_query = query.page(offset)
        stats["pages"] = stats.get("pages", 0) + 1
        return read_page(fetch(page_query), page_query.to_params())

    pages = offset_pages(read, max_pages=MAX_PAGES, what="agent-productivity")
    first, total = next(pages)
    return total, itertools.chain([first], (rows for rows, _ in pages))


def _too_many(day: dt.date, campaign: str, total: int) -> ConvosoResponseError:
    return ConvosoResponseError(
        f"agent productivity for {day} and campaign {campaign} holds {total} events, more than one filter set can "
        "page through (50,000 + a page): narrow it with agent_emails"
    )


def iter_day(
    fetch: Fetch, day: dt.date, *, campaign_ids: Callable[[], list[str]], campaign_id: str | None = None,
    agent_emails: str | None = None, stats: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Yield one account-local day's events, typed, each ``id`` once, a page at a time.

    Pages step by the rows received and stop at ``data.total`` or a short page. When one
    filter set holds more than the offset cap lets it page through, the day is asked for
    again once per campaign (``campaign_ids()``) and the answers merged.

    :param fetch: sends a query, returns the decoded answer.
    :param day: the account-local date.
    :param campaign_ids: every campaign's id, for the split.
    :param campaign_id: a campaign filter.
    :param agent_emails: an agent filter (comma-separated login emails).
    :param stats: when given, receives ``totals`` (one per filter set), ``pages``,
        ``split`` and ``duplicates_dropped``.
    :return: the events.
    """
    stats = stats if stats is not None else {}
    stats.setdefault("totals", [])
    stats.setdefault("duplicates_dropped", 0)
    cap = AgentProductivityQuery.OFFSET_CAP

    def query(campaign: str | None) -> AgentProductivityQuery:
        return AgentProductivityQuery.from_inputs(
            date_start=day, date_end=day, campaign_id=campaign, agent_emails=agent_emails
        )

    base = query(campaign_id)
    total, pages = _filter_set(fetch, base, stats)
    filter_sets = [(total, pages)]
    if total > cap + base.limit:
        if campaign_id is not None:
            raise _too_many(day, campaign_id, total)
        _log.info("Agent productivity %s: %d events; asking per campaign", day, total)
        stats["split"] = True
        filter_sets = []
        for campaign in campaign_ids():
            campaign_total, campaign_pages = _filter_set(fetch, query(campaign), stats)
            if campaign_total > cap + base.limit:
                raise _too_many(day, campaign, campaign_total)
            filter_sets.append((campaign_total, campaign_pages))
    dropped = [stats["duplicates_dropped"]]

    def typed() -> Iterator[dict[str, Any]]:
        for set_total, set_pages in filter_sets:
            stats["totals"].append(set_total)
            for rows in set_pages:
                yield from map(type_event, rows)

    for record in unique_by_id(typed(), dropped):
        stats["duplicates_dropped"] = dropped[0]
        yield record
    stats["duplicates_dropped"] = dropped[0]
