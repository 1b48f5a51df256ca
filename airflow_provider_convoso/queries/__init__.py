"""The requests this provider sends: one frozen, validated model per endpoint.

A query holds checked inputs and knows its endpoint and the parameters the service reads
(:meth:`to_params`). The hook sends any query; operators and sensors build one from their
rendered template fields (:class:`QueryArguments`); a trigger serialises its parameters and
rebuilds the query from them. The other endpoints' models live in submodules
(:mod:`.call_logs`, :mod:`.agent_productivity`, :mod:`.lookups`), imported only by the
code that sends them: the DAG processor imports this package with every DAG file that
uses the agent-performance operator or sensor, and a frozen dataclass costs its import.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
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
