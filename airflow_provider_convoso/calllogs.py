"""Call logs (``log/retrieve``): pages, windows of account-local time, and record typing.

Pure: no Airflow, no httpx. The hook pages through a window with :func:`read_page`,
splits a window whose ``total_found`` passes the offset cap with :func:`halve`, and types
each record with :func:`type_call_log`. Times are the account's local wall-clock strings
(``YYYY-MM-DD HH:MM:SS``, no offset): a day's window is ``00:00:00``-``23:59:59`` of the
local date whatever its length (23 or 25 hours on a DST change), and aware datetimes are
converted into the account's zone by :func:`local_window`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from airflow_provider_convoso.exceptions import CALL_LOG_FILTER_CODES, ConvosoInputError, ConvosoResponseError
from airflow_provider_convoso.responses import count_of, data_of, records_in, snippet

if TYPE_CHECKING:
    from airflow_provider_convoso.queries.call_logs import CallLogsQuery

#: Dialer pseudo-agents: rows no agent handled. Kept, flagged with ``is_system_user``.
SYSTEM_USER_IDS = frozenset({"666666", "666667", "666671"})
#: Fields that hold ids: strings, so they join with the lookup tables.
ID_FIELDS = ("id", "lead_id", "list_id", "campaign_id", "user_id", "queue_id", "originating_agent_id")
INT_FIELDS = ("call_length", "called_count", "queue_position")
FLOAT_FIELDS = ("queue_seconds",)
#: A window narrower than this that still holds too many rows is an error, not split again.
MIN_WINDOW = dt.timedelta(minutes=1)
_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclasses.dataclass(frozen=True)
class Page:
    """One answer of ``log/retrieve``: its rows and what it says about the window."""

    rows: list[dict[str, Any]]
    total_found: int
    limit: int | None


def read_page(payload: Any, params: Mapping[str, str] | None = None) -> Page:
    """Return the rows, ``total_found`` and echoed ``limit`` of one answer.

    ``data.results`` holds the rows; ``total_found``, ``limit`` and ``offset`` may be
    numbers or strings. A successful answer without ``data`` or ``results`` (or with
    ``null``, ``[]`` or ``{}``) has no rows.

    :param payload: the decoded answer.
    :param params: the request's parameters, to name a rejected filter.
    :return: the page.
    """
    data = data_of(payload, params, CALL_LOG_FILTER_CODES)
    if data is None or data in ({}, []):
        results = payload.get("results") if isinstance(payload, Mapping) else None
        if results in (None, [], {}):
            return Page([], 0, None)
        data = {"results": results}
    if not isinstance(data, Mapping):
        raise ConvosoResponseError(f"log/retrieve 'data' is a JSON {type(data).__name__}, not an object")
    rows = records_in(data.get("results"), "log/retrieve 'results'")
    total = count_of(data.get("total_found", len(rows)), "total_found")
    limit = data.get("limit")
    return Page(rows, total, count_of(limit, "limit") if limit not in (None, "") else None)


class _IdRow(msgspec.Struct):
    id: Any = None


class _IdData(msgspec.Struct):
    results: list[_IdRow] | None = None
    total_found: Any = None


class _IdEnvelope(msgspec.Struct):
    success: Any = None
    data: _IdData | None = None


_decode_ids = msgspec.json.Decoder(_IdEnvelope).decode


def page_ids(content: bytes, params: Mapping[str, str] | None = None) -> tuple[list[str], int]:
    """Return the ids of a page's rows and its ``total_found``, without decoding the rows.

    The reader needs only these while it pages; the rows are decoded once, when written.
    An answer that is not a plain successful page (an error, ``results`` as an object,
    a row that is not an object) is read whole by :func:`read_page`, which gives the
    same figures or the error.

    :param content: the answer's body.
    :param params: the request's parameters, for an error message.
    :return: ``(ids, total_found)``.
    """
    try:
        envelope = _decode_ids(content)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        envelope = None
    if envelope is not None and envelope.success is True and envelope.data is not None:
        rows = envelope.data.results or []
        total = envelope.data.total_found
        return [str(row.id) for row in rows], count_of(len(rows) if total is None else total, "total_found")
    from airflow_provider_convoso.responses import decode_json

    page = read_page(decode_json(content), params)
    return [str(row.get("id")) for row in page.rows], page.total_found


def _id(value: Any) -> str | None:
    if value is None or value == "":
        return None if value is None else ""
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise ConvosoResponseError(f"an id is a JSON {type(value).__name__}: {snippet(repr(value), 40)}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ConvosoResponseError(f"an id is not a whole number: {value!r}")
        value = int(value)
    return str(value).strip()


def _number(field: str, value: Any, kind: type) -> Any:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if not math.isfinite(number):
            raise ValueError
    except (TypeError, ValueError):
        raise ConvosoResponseError(f"call-log field {field!r} is not a number: {snippet(repr(value), 40)}") from None
    if kind is int:
        if not number.is_integer():
            raise ConvosoResponseError(f"call-log field {field!r} is not a whole number: {snippet(repr(value), 40)}")
        return int(number)
    return number


def type_call_log(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return a typed copy of one call-log record.

    Ids become strings; ``call_length``, ``called_count`` and ``queue_position`` integers;
    ``queue_seconds`` a float; empty strings in those numeric fields ``None``. Times stay
    the account-local text the service sent. ``is_system_user`` marks the dialer's
    pseudo-agents (666666, 666667, 666671). Unknown fields pass through.

    :param raw: the record as sent.
    :return: the typed record.
    """
    record = dict(raw)
    for field in ID_FIELDS:
        if field in record:
            record[field] = _id(record[field])
    for field in INT_FIELDS:
        if field in record:
            record[field] = _number(field, record[field], int)
    for field in FLOAT_FIELDS:
        if field in record:
            record[field] = _number(field, record[field], float)
    record["is_system_user"] = record.get("user_id") in SYSTEM_USER_IDS
    return record


@dataclasses.dataclass
class ReadingWindow:
    """A call-log window being read: its bounds, pass, pages left and the ids seen so far."""

    start: str
    end: str
    attempt: int
    total_found: int = 0
    pending: int = 0
    ids: set[str] = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class CallLogStats:
    """What ``ConvosoHook.afetch_call_log_pages`` read: windows (with ``total_found``),
    pages, and how many times a window was halved."""

    windows: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    pages: int = 0
    splits: int = 0


# -- windows --------------------------------------------------------------------------


def day_window(day: dt.date) -> tuple[str, str]:
    """Return the local window of a whole day: ``00:00:00`` to ``23:59:59``.

    :param day: the account-local date.
    :return: ``(start_time, end_time)``.
    """
    return f"{day.isoformat()} 00:00:00", f"{day.isoformat()} 23:59:59"


def local_window(start: Any, end: Any, timezone: str) -> tuple[str, str]:
    """Turn the bounds a task has into account-local text.

    Aware datetimes (a data interval) are converted into ``timezone``; naive datetimes and
    ``YYYY-MM-DD HH:MM:SS`` strings are taken as account-local already.

    :param start: the first instant.
    :param end: the last instant (inclusive: second precision).
    :param timezone: the account's IANA zone.
    :return: ``(start_time, end_time)``.
    """
    import zoneinfo

    zone = zoneinfo.ZoneInfo(timezone)

    def local(name: str, value: Any) -> str:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(zone).replace(tzinfo=None)
        if isinstance(value, dt.datetime):
            return value.replace(microsecond=0).strftime(_FORMAT)
        if isinstance(value, str):
            return value.strip()
        raise ConvosoInputError(f"{name} must be a datetime or a YYYY-MM-DD HH:MM:SS string, got {value!r}")

    return local("start_time", start), local("end_time", end)


def local_day(instant: dt.datetime, timezone: str) -> dt.date:
    """Return the account-local date of an aware instant (a run's logical date).

    :param instant: an aware datetime.
    :param timezone: the account's IANA zone.
    :return: the date there.
    """
    import zoneinfo

    if instant.tzinfo is None:
        raise ConvosoInputError("the instant must be time-zone aware")
    return instant.astimezone(zoneinfo.ZoneInfo(timezone)).date()


def halve(start_time: str, end_time: str) -> list[tuple[str, str]]:
    """Split a local window in two at its wall-clock middle; the halves meet at ``:59``/``:00``.

    :param start_time: local ``YYYY-MM-DD HH:MM:SS``.
    :param end_time: local ``YYYY-MM-DD HH:MM:SS``.
    :return: the two halves.
    :raises ConvosoResponseError: a window under a minute, which cannot be split usefully.
    """
    start = dt.datetime.strptime(start_time, _FORMAT)
    end = dt.datetime.strptime(end_time, _FORMAT)
    if end - start < MIN_WINDOW:
        raise ConvosoResponseError(
            f"the call-log window {start_time} - {end_time} is under a minute and still holds more rows than "
            "one filter set can page through (40,500): add a filter"
        )
    middle = start + (end - start) / 2
    middle = middle.replace(microsecond=0)
    return [(start_time, middle.strftime(_FORMAT)), ((middle + dt.timedelta(seconds=1)).strftime(_FORMAT), end_time)]


def spooled_records(spool: Any, dropped: list[int]) -> Iterator[dict[str, Any]]:
    """Yield the typed rows of every spooled page, in window and offset order, each ``id`` once.

    :param spool: a :class:`~airflow_provider_convoso.spool.BodySpool` of page bodies.
    :param dropped: ``dropped[0]`` is set to the number of repeated rows left out.
    :return: the records.
    """
    from airflow_provider_convoso.responses import decode_json

    seen: set[str] = set()
    dropped[0] = 0
    for _, body in spool.items():
        for row in read_page(decode_json(body)).rows:
            record = type_call_log(row)
            key = str(record.get("id"))
            if key in seen:
                dropped[0] += 1
                continue
            seen.add(key)
            yield record


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
    page reports a ``total_found`` over the offset cap is halved (again while needed);
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
    from airflow_provider_convoso.queries.call_logs import CallLogsQuery

    stats = CallLogStats()
    work: asyncio.Queue[tuple[CallLogsQuery, ReadingWindow]] = asyncio.Queue()
    cap = CallLogsQuery.OFFSET_CAP

    async def get(page_query: CallLogsQuery) -> tuple[bytes, list[str], int]:
        body = await afetch(page_query)
        ids, total = page_ids(body, page_query.to_params())
        return body, ids, total

    def open_window(window_query: CallLogsQuery, attempt: int) -> None:
        window = ReadingWindow(window_query.start_time, window_query.end_time, attempt)
        work.put_nowait((window_query, window))

    async def handle(page_query: CallLogsQuery, window: ReadingWindow) -> None:
        body, ids, total_found = await get(page_query)
        stats.pages += 1
        first = page_query.offset == 0
        if first and total_found > cap + page_query.limit:
            for start, end in halve(page_query.start_time, page_query.end_time):
                open_window(page_query.window(start, end), 0)
            stats.splits += 1
            return
        key = f"{window.start}|{window.attempt}|{page_query.offset:08d}"
        # Compressing a page takes the loop ~1 ms; zlib lets go of the GIL in a thread.
        await asyncio.to_thread(spool.add, key, body)
        window.ids.update(ids)
        if first:  # the window's other pages, stepped by the rows this one returned
            window.total_found = total_found
            step = len(ids)
            offsets = range(step, total_found, step) if step else range(0)
            window.pending = len(offsets)
            for offset in offsets:
                work.put_nowait((page_query.page(offset), window))
        else:
            window.pending -= 1
        if window.pending == 0:
            finish(page_query, window)

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

    async def worker() -> None:
        while True:
            page_query, window = await work.get()
            try:
                await handle(page_query, window)
            finally:
                work.task_done()

    open_window(query.page(0), 0)
    workers = [asyncio.ensure_future(worker()) for _ in range(max_concurrency)]
    done = asyncio.ensure_future(work.join())
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
