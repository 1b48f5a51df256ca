"""The request model of ``log/retrieve`` (call logs)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_convoso.exceptions import ConvosoInputError
from airflow_provider_convoso.params import CALL_LOG_FILTERS
from airflow_provider_convoso.queries import Query, _page_number, _search_text

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
        filters = {name: _search_text(name, inputs.get(name)) for name in CALL_LOG_FILTERS}
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
