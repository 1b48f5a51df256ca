"""Reading a call-log window: every page, windows past the offset cap halved, short ones read again.

Pure: no Airflow, no httpx. :func:`read_windows` takes ``afetch`` (the hook's
``afetch_content``), so transport, limits and retries stay the hook's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from airflow_provider_convoso.endpoints.call_logs.query import CallLogsQuery, split
from airflow_provider_convoso.endpoints.call_logs.records import page_ids, spooled_records

#: Pages compressed into the spool at once: each is in a thread, where zlib lets go of the GIL.
_STORERS = 2


@dataclasses.dataclass
class ReadingWindow:
    """A call-log window being read: its bounds, pass, pages known and stored, and the ids seen so far."""

    start: str
    end: str
    attempt: int
    total_found: int = 0
    pages: int = 0
    stored: int = 0
    ids: set[str] = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class CallLogStats:
    """What ``ConvosoHook.afetch_call_log_pages`` read: windows (with ``total_found``),
    pages, and how many windows were split."""

    windows: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    pages: int = 0
    splits: int = 0


async def read_windows(
    afetch: Callable[[CallLogsQuery], Awaitable[bytes]],
    query: CallLogsQuery,
    spool: Any,
    *,
    max_concurrency: int,
    log: logging.Logger | logging.LoggerAdapter[Any],
) -> CallLogStats:
    """Read every page of a call-log window into ``spool``, splitting windows that are too large.

    Pages go ``max_concurrency`` at a time through ``afetch`` (the hook's
    ``afetch_content``: transport, limits and retries are its own). A window whose first
    page reports a ``total_found`` over the offset cap is halved as often as that total
    needs (:func:`~airflow_provider_convoso.endpoints.call_logs.query.split`; again from a
    piece's own answer while needed);
    otherwise its other pages are asked for at offsets stepped by the rows the first page
    returned (a server that clamps ``limit`` is followed, not trusted to echo it). A window
    whose distinct ids fall short of its ``total_found`` is read once more, then logged at
    WARNING. The spool keys sort by window start, pass and offset.

    :param afetch: returns the checked body of one page.
    :param query: the window, filters and page size.
    :param spool: a :class:`~airflow_provider_convoso.spool.BodySpool` for each page's body.
    :param max_concurrency: requests in flight at once.
    :param log: where re-reads and shortfalls are logged.
    :return: what was read, per window.
    """
    from airflow_provider_convoso.endpoints.call_logs.query import CallLogsQuery

    stats = CallLogStats()
    cap = CallLogsQuery.OFFSET_CAP
    # Fetching and storing are two stages: a fetcher asks for its next page as soon as a
    # body is in, while storers read its ids and compress it into the spool. The storing
    # queue holds at most one body per fetcher, so bodies in memory stay bounded.
    fetching: asyncio.Queue[tuple[CallLogsQuery, ReadingWindow]] = asyncio.Queue()
    storing: asyncio.Queue[tuple[CallLogsQuery, ReadingWindow, bytes, list[str] | None]]
    storing = asyncio.Queue(maxsize=max_concurrency)
    unfinished = [0]  # pages asked for and not yet stored (or split)
    idle = asyncio.Event()

    def ask(page_query: CallLogsQuery, window: ReadingWindow) -> None:
        unfinished[0] += 1
        fetching.put_nowait((page_query, window))

    def settled() -> None:
        unfinished[0] -= 1
        if unfinished[0] == 0:
            idle.set()

    def open_window(window_query: CallLogsQuery, attempt: int) -> None:
        ask(window_query, ReadingWindow(window_query.start_time, window_query.end_time, attempt))

    async def fetch(page_query: CallLogsQuery, window: ReadingWindow) -> None:
        body = await afetch(page_query)
        stats.pages += 1
        ids = None
        if page_query.offset == 0:  # the first page decides the window's other pages
            ids, total_found = page_ids(body, page_query.to_params())
            reachable = cap + page_query.limit
            if total_found > reachable:
                for start, end in split(page_query.start_time, page_query.end_time, total_found, reachable):
                    open_window(page_query.window(start, end), 0)
                stats.splits += 1
                settled()
                return
            window.total_found = total_found
            step = len(ids)  # stepped by the rows this page returned
            offsets = range(step, total_found, step) if step else range(0)
            window.pages = 1 + len(offsets)
            for offset in offsets:
                ask(page_query.page(offset), window)
        await storing.put((page_query, window, body, ids))

    async def store(page_query: CallLogsQuery, window: ReadingWindow, body: bytes, ids: list[str] | None) -> None:
        if ids is None:
            ids, _ = page_ids(body, page_query.to_params())
        key = f"{window.start}|{window.attempt}|{page_query.offset:08d}"
        # Compressing a page takes ~1 ms; zlib lets go of the GIL in a thread.
        await asyncio.to_thread(spool.add, key, body)
        window.ids.update(ids)
        window.stored += 1
        if window.stored == window.pages:
            finish(page_query, window)
        settled()

    def finish(page_query: CallLogsQuery, window: ReadingWindow) -> None:
        distinct = len(window.ids)
        if distinct < window.total_found and window.attempt == 0:
            log.info(
                "Call logs %s - %s: %d distinct rows of %d found; reading the window again",
                window.start, window.end, distinct, window.total_found,
            )  # fmt: skip
            open_window(page_query.window(window.start, window.end), 1)
            return
        if distinct < window.total_found:
            log.warning(
                "Call logs %s - %s: %d distinct rows of the %d the service reported, after reading it twice",
                window.start, window.end, distinct, window.total_found,
            )  # fmt: skip
        stats.windows.append({"start_time": window.start, "end_time": window.end, "total_found": window.total_found})
        window.ids = set()

    async def fetcher() -> None:
        while True:
            await fetch(*await fetching.get())

    async def storer() -> None:
        while True:
            await store(*await storing.get())

    open_window(query.page(0), 0)
    workers = [asyncio.ensure_future(fetcher()) for _ in range(max_concurrency)]
    workers += [asyncio.ensure_future(storer()) for _ in range(_STORERS)]
    done = asyncio.ensure_future(idle.wait())
    try:
        while not done.done():
            finished, _ = await asyncio.wait([done, *workers], return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                if task is not done:
                    task.result()  # a worker only ends by failing: the first error ends the read
    finally:
        for task in [*workers, done]:
            task.cancel()
        await asyncio.gather(*workers, done, return_exceptions=True)
    stats.windows.sort(key=lambda window: str(window["start_time"]))
    return stats


def iter_calls(read: Callable[[Any], CallLogStats], stats: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Yield every call of a window, typed, each ``id`` once: ``read`` fills a spool on local
    disk with every page first, then the rows are yielded in window and offset order, so
    memory does not grow with the window.

    :param read: reads every page into the spool it is given (the hook's ``read_call_logs``).
    :param stats: receives ``windows``, ``pages`` and ``duplicates_dropped``.
    :return: the calls.
    """
    from airflow_provider_convoso.spool import BodySpool

    with BodySpool() as spool:
        read_stats = read(spool)
        dropped = [0]
        yield from spooled_records(spool, dropped)
    if stats is not None:
        stats.update(windows=read_stats.windows, pages=read_stats.pages, duplicates_dropped=dropped[0])
