"""The request model of ``log/retrieve`` (call logs), and windows of account-local time.

Times are the account's local wall-clock strings (``YYYY-MM-DD HH:MM:SS``, no offset): a
day's window is ``00:00:00``-``23:59:59`` of the local date whatever its length (23 or 25
hours on a DST change), and aware datetimes are converted into the account's zone by
:func:`local_window`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_convoso.endpoints.call_logs import FILTERS
from airflow_provider_convoso.exceptions import ConvosoInputError, ConvosoResponseError
from airflow_provider_convoso.wire.query import Query, _page_number, _search_text

#: Call logs (log/retrieve): code -> the filter it rejects.
FILTER_ERROR_CODES: dict[int, str] = {6002: "list_id", 6004: "campaign_id", 6006: "user_id", 6030: "queue_id"}

#: A window narrower than this that still holds too many rows is an error, not split again.
MIN_WINDOW = dt.timedelta(minutes=1)


_FORMAT = "%Y-%m-%d %H:%M:%S"


_LOCAL_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def local_time_text(name: str, value: Any) -> str:
    """Account-local ``YYYY-MM-DD HH:MM:SS`` from such a string or a naive datetime.

    An aware datetime is refused here: the caller converts it to the account's zone first.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ConvosoInputError(f"{name} is time-zone aware; convert it to the account's time zone first")
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, str) and _LOCAL_TIME_RE.fullmatch(value.strip()):
        try:
            dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return value.strip()
    raise ConvosoInputError(f"{name} must be a local time in YYYY-MM-DD HH:MM:SS format, got {value!r}")


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
        filters = {name: _search_text(name, inputs.get(name)) for name in FILTERS}
        for name, value in filters.items():
            if value is not None and "," in value:
                raise ConvosoInputError(f"{name} takes one value (the service documents no lists), got {value!r}")
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
