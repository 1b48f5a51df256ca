"""Validation of agent-performance request parameters.

Pure: no Airflow, no httpx. Every check here runs before any network call, and every
failure is a ``ConvosoInputError`` (a ``ValueError``) that names the parameter and the offending value.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from airflow_provider_convoso.exceptions import ConvosoInputError

#: The ID filters, in the contract's order.
FILTER_PARAMS: tuple[str, ...] = ("campaign_ids", "list_ids", "queue_ids", "user_ids", "status_ids")
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
#: Filters whose elements may be non-numeric (status abbreviations such as ``NI``).
_ALPHANUMERIC_FILTERS = frozenset({"status_ids"})

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMERIC_ID_RE = re.compile(r"[0-9]+")
_TOKEN_ID_RE = re.compile(r"[A-Za-z0-9_.:-]+")
_MAX_SHOWN = 80

DateLike = str | dt.date | dt.datetime
FilterLike = int | str | Iterable[int | str]


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


def iter_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every calendar day from ``start`` to ``end``, both included."""
    return [start + dt.timedelta(days=offset) for offset in range((end - start).days + 1)]
