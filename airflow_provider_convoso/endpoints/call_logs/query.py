"""The request model of ``log/retrieve`` (call logs), and halving a window of it.

Times are account-local text (:mod:`airflow_provider_convoso.wire.local_time`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_convoso.endpoints.call_logs import FILTERS
from airflow_provider_convoso.exceptions import ConvosoInputError, ConvosoResponseError
from airflow_provider_convoso.wire.local_time import LOCAL_FORMAT, local_time_text
from airflow_provider_convoso.wire.query import Query, _page_number, single_values

#: Call logs (log/retrieve): code -> the filter it rejects.
FILTER_ERROR_CODES: dict[int, str] = {6002: "list_id", 6004: "campaign_id", 6006: "user_id", 6030: "queue_id"}

#: A window narrower than this that still holds too many rows is an error, not split again.
MIN_WINDOW = dt.timedelta(minutes=1)

#: The most halvings one answer's ``total_found`` leads to at once (64 pieces).
MAX_HALVINGS = 6


@dataclasses.dataclass(frozen=True)
class CallLogsQuery(Query):
    """One page of ``log/retrieve``: a window of account-local time, filters, paging.

    Always sends both times, ``limit``, ``offset`` and ``order=asc`` (oldest first, so a row
    added while paging lands at the end instead of shifting the pages already read).
    """

    endpoint: ClassVar[str] = "/log/retrieve"

    start_time: str = ""
    end_time: str = ""
    id: str | None = None
    lead_id: str | None = None
    list_id: str | None = None
    campaign_id: str | None = None
    queue_id: str | None = None
    user_id: str | None = None
    status: str | None = None
    phone_number: str | None = None
    number_dialed: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    called_count: str | None = None
    call_type: str | None = None
    include_recordings: str = "0"
    limit: int = 500
    offset: int = 0
    order: str = "asc"

    #: Rows one filter set can reach: the offset cap (40,000) plus a page.
    OFFSET_CAP: ClassVar[int] = 40_000

    @classmethod
    def _validated(cls, inputs: Mapping[str, Any]) -> CallLogsQuery:
        start = local_time_text("start_time", inputs.get("start_time"))
        end = local_time_text("end_time", inputs.get("end_time"))
        if start > end:
            raise ConvosoInputError(f"start_time {start} is later than end_time {end}")
        filters = single_values(FILTERS, inputs)
        recordings = inputs.get("include_recordings", "0")
        if recordings not in (True, False, 0, 1, "0", "1"):
            raise ConvosoInputError(f"include_recordings must be true or false, got {recordings!r}")
        order = str(inputs.get("order", "asc")).lower()
        if order not in ("asc", "desc"):
            raise ConvosoInputError(f"order must be 'asc' or 'desc', got {inputs.get('order')!r}")
        return cls(
            start_time=start,
            end_time=end,
            **filters,
            include_recordings="1" if recordings in (True, 1, "1") else "0",
            limit=_page_number("limit", inputs.get("limit", 500)) or 1,
            offset=_page_number("offset", inputs.get("offset", 0), maximum=cls.OFFSET_CAP),
            order=order,
        )

    def page(self, offset: int) -> CallLogsQuery:
        """Return the same window and filters at another offset.

        :param offset: the first row wanted.
        :return: the query.
        """
        return dataclasses.replace(self, offset=offset)

    def window(self, start_time: str, end_time: str) -> CallLogsQuery:
        """Return the same filters over another window, from its first row.

        :param start_time: local ``YYYY-MM-DD HH:MM:SS``.
        :param end_time: local ``YYYY-MM-DD HH:MM:SS``.
        :return: the query.
        """
        return dataclasses.replace(self, start_time=start_time, end_time=end_time, offset=0)


def halve(start_time: str, end_time: str) -> list[tuple[str, str]]:
    """Split a local window in two at its wall-clock middle; the halves meet at ``:59``/``:00``.

    :param start_time: local ``YYYY-MM-DD HH:MM:SS``.
    :param end_time: local ``YYYY-MM-DD HH:MM:SS``.
    :return: the two halves.
    :raises ConvosoResponseError: a window under a minute, which cannot be split usefully.
    """
    start = dt.datetime.strptime(start_time, LOCAL_FORMAT)
    end = dt.datetime.strptime(end_time, LOCAL_FORMAT)
    if end - start < MIN_WINDOW:
        raise ConvosoResponseError(
            f"the call-log window {start_time} - {end_time} is under a minute and still holds more rows than "
            "one filter set can page through (40,500): add a filter"
        )
    middle = start + (end - start) / 2
    middle = middle.replace(microsecond=0)
    after = (middle + dt.timedelta(seconds=1)).strftime(LOCAL_FORMAT)
    return [(start_time, middle.strftime(LOCAL_FORMAT)), (after, end_time)]


def split(start_time: str, end_time: str, rows: int, cap: int) -> list[tuple[str, str]]:
    """Halve a window that holds ``rows`` as many times as ``rows / cap`` needs, at once.

    Each level is :func:`halve` applied to every piece, as if each piece had been asked for
    and found too large; asking for the pieces in between would only cost round trips
    before the reading can fan out. Rows are rarely spread evenly, so a piece may still
    hold too many and is halved again from its own answer. At most :data:`MAX_HALVINGS`
    levels come from one answer, and a level stops where a piece would fall under
    :data:`MIN_WINDOW`, so a server's ``total_found`` cannot make the pieces many.

    :param start_time: local ``YYYY-MM-DD HH:MM:SS``.
    :param end_time: local ``YYYY-MM-DD HH:MM:SS``.
    :param rows: the rows the window holds (its ``total_found``), more than ``cap``.
    :param cap: the rows one window may hold.
    :return: the pieces, in time order, meeting at ``:59``/``:00``.
    :raises ConvosoResponseError: a window under a minute, which cannot be split usefully.
    """
    pieces = halve(start_time, end_time)
    levels = min(MAX_HALVINGS, max(1, math.ceil(math.log2(rows / cap))))
    for _ in range(1, levels):
        if any(_length(start, end) < 2 * MIN_WINDOW for start, end in pieces):
            break
        pieces = [half for start, end in pieces for half in halve(start, end)]
    return pieces


def _length(start_time: str, end_time: str) -> dt.timedelta:
    return dt.datetime.strptime(end_time, LOCAL_FORMAT) - dt.datetime.strptime(start_time, LOCAL_FORMAT)


def window_query(
    *,
    date: Any,
    start_time: Any,
    end_time: Any,
    lookback: dt.timedelta | float | None,
    timezone: str,
    include_recordings: bool,
    filters: Mapping[str, Any],
) -> CallLogsQuery:
    """Return the first page's query of a task's window: a local ``date``, or ``start_time``
    and ``end_time`` (aware ones converted into ``timezone``), ``lookback`` earlier.

    :param date: an account-local day, or ``None``.
    :param start_time: the window's start, with ``end_time``.
    :param end_time: the window's end (included).
    :param lookback: how much earlier to start (``timedelta`` or seconds).
    :param timezone: the account's zone.
    :param include_recordings: ask for each call's recordings.
    :param filters: the single-value filters.
    :return: the query.
    :raises ConvosoInputError: no window, or a bad value.
    """
    from airflow_provider_convoso.wire.local_time import task_window

    window = task_window(date, start_time, end_time, timezone)
    if window is None:
        raise ConvosoInputError("give date, or both start_time and end_time")
    start, end = window
    if lookback:
        seconds = lookback.total_seconds() if isinstance(lookback, dt.timedelta) else lookback
        earlier = dt.datetime.fromisoformat(start) - dt.timedelta(seconds=seconds)
        start = earlier.replace(microsecond=0).isoformat(sep=" ")
    return CallLogsQuery.from_inputs(start_time=start, end_time=end, include_recordings=include_recordings, **filters)
