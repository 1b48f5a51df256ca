"""The request model of ``agent-performance/search``: a date range and the ID filters."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from airflow_provider_convoso.exceptions import ConvosoInputError
from airflow_provider_convoso.wire.query import Query, _show, iter_days, parse_date_range

#: The contract's filter error codes: code -> the filter it rejects.
FILTER_ERROR_CODES: dict[int, str] = {
    6026: "campaign_ids",
    6041: "queue_ids",
    6042: "list_ids",
    6006: "user_ids",
    6050: "status_ids",
}


#: The ID filters, in the contract's order.
FILTER_PARAMS: tuple[str, ...] = ("campaign_ids", "list_ids", "queue_ids", "user_ids", "status_ids")


#: Filters whose elements may be non-numeric (status abbreviations such as ``NI``).
_ALPHANUMERIC_FILTERS = frozenset({"status_ids"})


_NUMERIC_ID_RE = re.compile(r"[0-9]+")


_TOKEN_ID_RE = re.compile(r"[A-Za-z0-9_.:-]+")


FilterLike = int | str | Iterable[int | str]


def _elements(name: str, value: Any) -> Iterator[Any]:
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("[", "("):
            # A list rendered by a non-native Jinja template: "[1, 2]" or "['NI', 'NC']".
            try:
                literal = ast.literal_eval(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                raise ConvosoInputError(f"{name} looks like a list but is not one: {_show(value)}") from None
            if not isinstance(literal, list | tuple):
                raise ConvosoInputError(f"{name} must be a list of IDs, got {_show(value)}")
            yield from literal
            return
        yield from text.split(",")
        return
    if isinstance(value, bool) or not isinstance(value, int | Iterable) or isinstance(value, bytes | Mapping):
        raise ConvosoInputError(
            f"{name} must be an int, a comma-separated string or a list of ints and strings, "
            f"got {type(value).__name__} {_show(value)}"
        )
    if isinstance(value, int):
        yield value
        return
    yield from value


#: PHP's largest integer on 64-bit builds: a larger ID cannot be one the service has.
MAX_ID = 2**63 - 1


def _element(name: str, raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ConvosoInputError(f"{name} elements must be ints or strings, got {type(raw).__name__} {_show(raw)}")
    if isinstance(raw, int):
        if raw < 0:
            raise ConvosoInputError(f"{name} IDs must not be negative, got {raw}")
        if raw > MAX_ID:
            raise ConvosoInputError(f"{name} ID {raw} is out of range (the service's IDs are at most {MAX_ID})")
        return str(raw)
    text = raw.strip()
    if not text:
        raise ConvosoInputError(f"{name} has an empty element in {_show(raw)}")
    if not text.isprintable() or any(ch.isspace() for ch in text):
        raise ConvosoInputError(f"{name} element {_show(raw)} contains whitespace or a non-printable character")
    pattern = _TOKEN_ID_RE if name in _ALPHANUMERIC_FILTERS else _NUMERIC_ID_RE
    if not pattern.fullmatch(text):
        kind = "letters, digits and _.:-" if name in _ALPHANUMERIC_FILTERS else "digits"
        raise ConvosoInputError(f"{name} element {_show(raw)} must contain only {kind}")
    if text.isdigit() and int(text) > MAX_ID:
        raise ConvosoInputError(f"{name} ID {text} is out of range (the service's IDs are at most {MAX_ID})")
    return text


def parse_id_filter(name: str, value: Any) -> str | None:
    """Normalise an ID filter to the wire form ``"1,2,3"``; ``None`` or ``""`` mean unset.

    Accepts an int, a string (``"1, 2,3"``, spaces around commas are stripped, or a
    rendered list such as ``"[1, 2]"``) or an iterable of ints and strings.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if name not in FILTER_PARAMS:
        raise ConvosoInputError(f"unknown filter {name!r}; expected one of {', '.join(FILTER_PARAMS)}")
    parts = [_element(name, raw) for raw in _elements(name, value)]
    if not parts:
        raise ConvosoInputError(f"{name} is an empty list; pass None to leave the filter unset")
    return ",".join(parts)


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
