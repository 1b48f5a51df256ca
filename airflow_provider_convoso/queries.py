"""The requests this provider sends: one frozen, validated model per endpoint.

A query holds checked inputs and knows its endpoint and the parameters the service reads
(:meth:`to_params`). The hook sends any query; operators and sensors build one from their
rendered template fields (:class:`QueryArguments`); a trigger serialises its parameters and
rebuilds the query from them. A second endpoint adds its own model here, beside
:class:`AgentPerformanceQuery`, and the hook, retries and storage serve it unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from airflow_provider_convoso.exceptions import ConvosoInputError
from airflow_provider_convoso.params import FILTER_PARAMS, iter_days, parse_date_range, parse_id_filter

Q = TypeVar("Q", bound="Query")


@dataclasses.dataclass(frozen=True)
class Query:
    """What every query has: the endpoint's path and its parameters on the wire."""

    endpoint: ClassVar[str]

    @classmethod
    def argument_names(cls) -> tuple[str, ...]:
        """Return the query's inputs, in the order the docs list them."""
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def from_inputs(cls: type[Q], **inputs: Any) -> Q:
        """Build a query from user inputs, checking every one before any network call.

        :param inputs: the query's arguments, in any form its fields accept.
        :return: the query.
        :raises ConvosoInputError: an unknown name or an invalid value, named in the message.
        """
        unknown = sorted(set(inputs) - set(cls.argument_names()))
        if unknown:
            raise ConvosoInputError(
                f"unknown {cls.__name__} argument(s) {', '.join(unknown)}; expected {', '.join(cls.argument_names())}"
            )
        return cls._validated(inputs)

    @classmethod
    def from_params(cls: type[Q], params: Mapping[str, str]) -> Q:
        """Rebuild a query from :meth:`to_params` output (a trigger's serialised state).

        :param params: wire parameters.
        :return: the query, validated again.
        """
        return cls.from_inputs(**params)

    @classmethod
    def _validated(cls: type[Q], inputs: Mapping[str, Any]) -> Q:
        raise NotImplementedError

    def to_params(self) -> dict[str, str]:
        """Return the parameters as the service reads them; unset ones are left out.

        Leaving them out matters: the API's behaviour depends on which are sent.
        """
        params: dict[str, str] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None:
                params[field.name] = value.isoformat() if isinstance(value, dt.date) else str(value)
        return params


@dataclasses.dataclass(frozen=True)
class AgentPerformanceQuery(Query):
    """One agent-performance request: a date range and the ID filters.

    Dates accept ``YYYY-MM-DD``, ``date``, ``datetime`` and pendulum values; filters an
    int, ``"1,2,3"``, a list, or a rendered list such as ``"[1, 2]"`` (``status_ids`` may
    hold codes such as ``NI``). Filters are kept in their wire form, ``"1,2,3"``.
    """

    endpoint: ClassVar[str] = "/agent-performance/search"

    date_start: dt.date | None = None
    date_end: dt.date | None = None
    campaign_ids: str | None = None
    list_ids: str | None = None
    queue_ids: str | None = None
    user_ids: str | None = None
    status_ids: str | None = None

    #: The ID filters (rendered as JSON in the Airflow UI).
    FILTERS: ClassVar[tuple[str, ...]] = FILTER_PARAMS

    @classmethod
    def _validated(cls, inputs: Mapping[str, Any]) -> AgentPerformanceQuery:
        start, end = parse_date_range(inputs.get("date_start"), inputs.get("date_end"))
        filters = {name: parse_id_filter(name, inputs.get(name)) for name in cls.FILTERS}
        return cls(date_start=start, date_end=end, **filters)

    def by_day(self) -> list[AgentPerformanceQuery]:
        """Split the range into one query per calendar day, both ends included.

        :return: the daily queries, in day order.
        :raises ConvosoInputError: when either end of the range is unset.
        """
        if self.date_start is None or self.date_end is None:
            raise ConvosoInputError("split_by_day=True needs both date_start and date_end")
        return [
            dataclasses.replace(self, date_start=day, date_end=day) for day in iter_days(self.date_start, self.date_end)
        ]


def _search_text(name: str, value: Any) -> str | None:
    """A free-text search parameter: ``None`` or blank means unset."""
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ConvosoInputError(f"{name} must be a string, got {type(value).__name__}")
    text = str(value).strip()
    if text and not text.isprintable():
        raise ConvosoInputError(f"{name} contains a non-printable character")
    return text or None


def _page_number(name: str, value: Any, *, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConvosoInputError(f"{name} must be a non-negative integer, got {value!r}")
    if maximum is not None and value > maximum:
        raise ConvosoInputError(f"{name} must be at most {maximum}, got {value}")
    return value


@dataclasses.dataclass(frozen=True)
class UsersQuery(Query):
    """One page of ``users/search``: the account's users, optionally matched by ``user``.

    ``user`` is a comma list matched against email, first or last name; left out, the
    request asks for every user (what working clients send; the help page calls it required).
    """

    endpoint: ClassVar[str] = "/users/search"

    user: str | None = None
    limit: int = 100
    offset: int = 0

    @classmethod
    def _validated(cls, inputs: Mapping[str, Any]) -> UsersQuery:
        return cls(
            user=_search_text("user", inputs.get("user")),
            limit=_page_number("limit", inputs.get("limit", 100)) or 1,
            offset=_page_number("offset", inputs.get("offset", 0)),
        )


@dataclasses.dataclass(frozen=True)
class CampaignsQuery(Query):
    """``campaigns/search``: every campaign, in one answer (no parameters, not paged)."""

    endpoint: ClassVar[str] = "/campaigns/search"

    @classmethod
    def _validated(cls, inputs: Mapping[str, Any]) -> CampaignsQuery:
        return cls()


@dataclasses.dataclass(frozen=True)
class ListsQuery(Query):
    """``lists/search`` for one status: ``"1"`` active lists, ``"0"`` inactive ones."""

    endpoint: ClassVar[str] = "/lists/search"

    status: str = "1"

    @classmethod
    def _validated(cls, inputs: Mapping[str, Any]) -> ListsQuery:
        status = str(inputs.get("status", "1")).strip()
        if status not in ("0", "1"):
            raise ConvosoInputError(f"status must be '1' (active) or '0' (inactive), got {inputs.get('status')!r}")
        return cls(status=status)


@dataclasses.dataclass(frozen=True)
class StatusQuery(Query):
    """``status/search``: dispositions matched by abbreviation or name; empty asks for all."""

    endpoint: ClassVar[str] = "/status/search"

    query: str = ""

    @classmethod
    def _validated(cls, inputs: Mapping[str, Any]) -> StatusQuery:
        return cls(query=_search_text("query", inputs.get("query")) or "")


_LOCAL_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
#: log/retrieve's single-value filters, in the help page's order.
CALL_LOG_FILTERS: tuple[str, ...] = (
    "id",
    "lead_id",
    "list_id",
    "campaign_id",
    "queue_id",
    "user_id",
    "status",
    "phone_number",
    "number_dialed",
    "first_name",
    "last_name",
    "called_count",
    "call_type",
)


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
            limit=min(_page_number("limit", inputs.get("limit", 1000)) or 1, 1000),
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


class QueryArguments:
    """The templated query arguments an operator or a sensor keeps, one attribute each.

    Subclasses set :attr:`query_type`; ``template_fields`` lists
    ``query_type.argument_names()``. :meth:`query` validates the rendered values.
    """

    query_type: ClassVar[type[Query]] = AgentPerformanceQuery

    def _keep_arguments(self, arguments: Mapping[str, Any]) -> None:
        for name in self.query_type.argument_names():
            setattr(self, name, arguments[name])

    def query(self) -> Any:
        """Return the query built from the rendered arguments; bad input fails the task here.

        :return: a query of :attr:`query_type`.
        """
        return self.query_type.from_inputs(**{name: getattr(self, name) for name in self.query_type.argument_names()})
