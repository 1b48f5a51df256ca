"""The base of every request model, and the checks every endpoint's inputs share.

A query holds checked inputs and knows its endpoint and the parameters the service reads
(:meth:`Query.to_params`). The hook sends any query; operators and sensors build one from
their rendered template fields (:class:`QueryArguments`); a trigger serialises its
parameters and rebuilds the query from them. Pure: no Airflow, no httpx; every failure is a
``ConvosoInputError`` (a ``ValueError``) that names the parameter and the offending value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from airflow_provider_convoso.exceptions import ConvosoInputError

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


_MAX_SHOWN = 80


DateLike = str | dt.date | dt.datetime


def _show(value: Any) -> str:
    """A short, safe repr of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def parse_date(name: str, value: Any) -> dt.date | None:
    """Turn a ``YYYY-MM-DD`` string, ``date`` or ``datetime`` (pendulum included) into a date.

    A datetime keeps its own calendar day: convert it to the account's time zone first.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _DATE_RE.fullmatch(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
        raise ConvosoInputError(f"{name} must be a date in YYYY-MM-DD format, got {_show(value)}")
    raise ConvosoInputError(
        f"{name} must be a YYYY-MM-DD string, date or datetime, got {type(value).__name__} {_show(value)}"
    )


def parse_date_range(date_start: Any, date_end: Any) -> tuple[dt.date | None, dt.date | None]:
    """Parse both ends and check that ``date_start`` is not later than ``date_end``."""
    start = parse_date("date_start", date_start)
    end = parse_date("date_end", date_end)
    if start is not None and end is not None and start > end:
        raise ConvosoInputError(f"date_start {start.isoformat()} is later than date_end {end.isoformat()}")
    return start, end


def iter_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every calendar day from ``start`` to ``end``, both included."""
    return [start + dt.timedelta(days=offset) for offset in range((end - start).days + 1)]


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


def single_values(names: tuple[str, ...], inputs: Mapping[str, Any]) -> dict[str, str | None]:
    """Check an endpoint's single-value filters: search text each, never a comma-separated list.

    :param names: the endpoint's filter names.
    :param inputs: the query's inputs.
    :return: name -> the text, ``None`` when unset.
    :raises ConvosoInputError: a value that is not text, or a list.
    """
    filters = {name: _search_text(name, inputs.get(name)) for name in names}
    for name, value in filters.items():
        if value is not None and "," in value:
            raise ConvosoInputError(f"{name} takes one value (the service documents no lists), got {value!r}")
    return filters


def _page_number(name: str, value: Any, *, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConvosoInputError(f"{name} must be a non-negative integer, got {value!r}")
    if maximum is not None and value > maximum:
        raise ConvosoInputError(f"{name} must be at most {maximum}, got {value}")
    return value


class QueryArguments:
    """The templated query arguments an operator or a sensor keeps, one attribute each.

    Subclasses set :attr:`query_type`, their endpoint's model; ``template_fields`` lists
    ``query_type.argument_names()``. :meth:`query` validates the rendered values.
    """

    query_type: ClassVar[type[Query]]

    def _keep_arguments(self, arguments: Mapping[str, Any]) -> None:
        for name in self.query_type.argument_names():
            setattr(self, name, arguments[name])

    def query(self) -> Any:
        """Return the query built from the rendered arguments; bad input fails the task here.

        :return: a query of :attr:`query_type`.
        """
        return self.query_type.from_inputs(**{name: getattr(self, name) for name in self.query_type.argument_names()})
