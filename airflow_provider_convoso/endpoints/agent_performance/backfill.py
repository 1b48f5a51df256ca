"""A by-day backfill's fetching: one request per day into a spool, and the days back in day order.

Pure: no Airflow, no httpx. :func:`fetch_by_day` takes ``afetch`` (the hook's
``afetch_content``), so transport, limits and retries stay the hook's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_convoso.settings import LOOP_INLINE_BYTES

if TYPE_CHECKING:
    from airflow_provider_convoso.endpoints.agent_performance.query import AgentPerformanceQuery
    from airflow_provider_convoso.spool import BodySpool

#: Seconds between progress lines while the day due next is still being fetched.
PROGRESS_EVERY_S = 5.0


def day_key(day: AgentPerformanceQuery) -> str:
    """Return the spool key of one day's answer: its ``YYYY-MM-DD``, the date its rows get.

    :param day: a one-day query.
    :return: the key.
    """
    return str(day.date_start)


async def fetch_by_day(
    afetch: Callable[[AgentPerformanceQuery], Awaitable[bytes]],
    days: list[AgentPerformanceQuery],
    spool: BodySpool,
    workers: int,
) -> None:
    """Fetch each day's answer into ``spool``, ``workers`` requests in flight; the first error ends it.

    One loop rather than a thread per request in flight: no GIL contention between fetchers,
    and a request costs the loop a fraction of a sync call's CPU.

    :param afetch: returns the checked body of one day.
    :param days: the one-day queries, in day order.
    :param spool: where each day's body goes, under :func:`day_key`.
    :param workers: requests in flight at once.
    """
    todo = iter(days)

    async def fetch_days() -> None:
        for day in todo:  # the workers share one iterator: each takes the next day
            body = await afetch(day)
            if len(body) > LOOP_INLINE_BYTES:  # compressing a large answer would hold the loop
                await asyncio.to_thread(spool.add, day_key(day), body)
            else:
                spool.add(day_key(day), body)

    fetchers = [asyncio.ensure_future(fetch_days()) for _ in range(min(workers, len(days)))]
    try:
        await asyncio.gather(*fetchers)
    finally:
        for fetcher in fetchers:
            fetcher.cancel()
        await asyncio.gather(*fetchers, return_exceptions=True)


def arriving(
    spool: BodySpool, days: list[AgentPerformanceQuery], log: logging.Logger | logging.LoggerAdapter[Any]
) -> Iterator[tuple[str, bytes]]:
    """Yield each day's body in day order as soon as it is fetched, with a progress line while waiting.

    :param spool: the spool :func:`fetch_by_day` fills.
    :param days: the one-day queries, in day order.
    :param log: where progress is logged.
    :return: ``(day, body)`` pairs.
    """
    started = time.monotonic()

    def progress() -> None:
        log.info(
            "Convoso backfill: %d/%d days done, %.1f MiB received, %.1fs elapsed",
            len(spool),
            len(days),
            spool.size / 2**20,
            time.monotonic() - started,
        )

    keys = [day_key(day) for day in days]
    yield from spool.arriving(keys, wait_s=PROGRESS_EVERY_S, waiting=progress)
    progress()
