"""Typing of agent-performance records and ``HH:MM:SS`` durations.

Pure: no Airflow, no httpx. The API sends numbers as JSON numbers or as strings, and
durations as ``H:MM:SS`` strings whose hours may exceed 24; this module turns both into
stable Python types and adds integer-second companions.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_convoso.exceptions import ConvosoResponseError
from airflow_provider_convoso.tables import Column, Table

#: Documented fields, in the contract's order.
DOCUMENTED_FIELDS: tuple[str, ...] = (
    "user_id",
    "name",
    "calls",
    "human_answered",
    "talk_sec_pt",
    "wait_sec_pt",
    "pause_sec_pt",
    "wrap_sec_pt",
    "talk_sec",
    "wait_sec",
    "pause_sec",
    "wrap_sec",
    "total_time",
    "am",
    "others",
    "am_pt",
    "others_pt",
    "call_type",
)
INT_FIELDS: frozenset[str] = frozenset({"calls", "human_answered", "am", "others"})
FLOAT_FIELDS: frozenset[str] = frozenset(
    {"talk_sec_pt", "wait_sec_pt", "pause_sec_pt", "wrap_sec_pt", "am_pt", "others_pt"}
)
STRING_FIELDS: frozenset[str] = frozenset({"user_id", "name", "call_type"})
#: Duration field -> its integer-seconds companion.
DURATION_FIELDS: dict[str, str] = {
    "talk_sec": "talk_seconds",
    "wait_sec": "wait_seconds",
    "pause_sec": "pause_seconds",
    "wrap_sec": "wrap_seconds",
    "total_time": "total_seconds",
}
COMPANION_FIELDS: tuple[str, ...] = tuple(DURATION_FIELDS.values())

_SNIPPET = 60


def _bad(field: str, value: Any, expected: str) -> ConvosoResponseError:
    shown = repr(value)
    if len(shown) > _SNIPPET:
        shown = shown[: _SNIPPET - 3] + "..."
    return ConvosoResponseError(f"field {field!r} must be {expected}, got {shown}")


_DURATION_RE = re.compile(r"(\d{1,9}):([0-5]\d):([0-5]\d)", re.ASCII)


def parse_duration(value: Any, field: str = "duration") -> int:
    """Seconds in an ``H:MM:SS`` / ``HH:MM:SS`` string; hours may exceed 24."""
    if isinstance(value, str):
        match = _DURATION_RE.fullmatch(value.strip())
        if match:
            return int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3])
    raise _bad(field, value, "an H:MM:SS duration")


def _to_int(field: str, value: Any) -> int:
    if type(value) is int and value >= 0:
        return value
    if isinstance(value, bool):
        raise _bad(field, value, "a non-negative integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        try:
            number = int(value.strip())
        except ValueError:  # past the interpreter's digit limit
            raise _bad(field, value, "a non-negative integer") from None
    else:
        raise _bad(field, value, "a non-negative integer")
    if number < 0:
        raise _bad(field, value, "a non-negative integer")
    return number


def _to_float(field: str, value: Any) -> float:
    if type(value) is float and math.isfinite(value):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _bad(field, value, "a number")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise _bad(field, value, "a number") from None
    if not math.isfinite(number):
        raise _bad(field, value, "a finite number")
    return number


def _to_str(field: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _bad(field, value, "a string")


_INT_ORDER = tuple(field for field in DOCUMENTED_FIELDS if field in INT_FIELDS)
_FLOAT_ORDER = tuple(field for field in DOCUMENTED_FIELDS if field in FLOAT_FIELDS)
_STRING_ORDER = tuple(field for field in DOCUMENTED_FIELDS if field in STRING_FIELDS)
_DURATION_ORDER = tuple(DURATION_FIELDS.items())
_MISSING: Any = object()


_Tables = tuple[dict[str, int], dict[str, float], dict[str, int], dict[str, int]]


@functools.cache
def _lookup_tables() -> _Tables:
    """Canonical spellings of the values the API sends most, already converted.

    Counts ``"0"``-``"9999"``, percentages ``"0.0"``-``"100.0"``, and durations as
    ``"HH:MM"`` plus ``":SS"``. One dict lookup both checks and converts a value (typing
    a record this way is several times quicker than parsing each string; the performance
    page has the figure); anything else takes the careful path, which gives the same
    result. About 1 MB, built on first use.
    """
    counts = {str(n): n for n in range(10_000)}
    percents = {f"{n / 10:.1f}": n / 10 for n in range(1001)}
    percents.update({str(float(n)).removesuffix(".0"): float(n) for n in range(101)})
    hours_minutes = {f"{h:02d}:{m:02d}": h * 3600 + m * 60 for h in range(100) for m in range(60)}
    seconds = {f":{s:02d}": s for s in range(60)}
    return counts, percents, hours_minutes, seconds


def normalize_record(raw: Mapping[str, Any], *, in_place: bool = False) -> dict[str, Any]:
    """A typed copy of one agent record.

    Documented fields keep their names; counts become ``int``, ``*_pt`` fields ``float``;
    each duration keeps its string and gains an integer ``*_seconds`` companion. ``null``
    stays ``None``. Unknown fields pass through untouched. ``in_place`` types a freshly
    decoded dict without copying it (halving peak memory on large answers).

    This runs once per agent, 20,000 times for a large account, so the values the API
    really sends are looked up in tables of their canonical spellings; anything else goes
    to the careful converters, which give the same result or raise.
    """
    record = raw if in_place and isinstance(raw, dict) else dict(raw)
    get = record.get
    counts, percents, hours_minutes, seconds = _lookup_tables()
    for field in _INT_ORDER:
        value = get(field)
        if value is None or (type(value) is int and value >= 0):
            continue
        number = counts.get(value) if type(value) is str else None
        record[field] = _to_int(field, value) if number is None else number
    for field in _FLOAT_ORDER:
        value = get(field)
        if value is None or (type(value) is float and math.isfinite(value)):
            continue
        real = percents.get(value) if type(value) is str else None
        record[field] = _to_float(field, value) if real is None else real
    for field in _STRING_ORDER:
        value = get(field)
        if value is not None and type(value) is not str:
            record[field] = _to_str(field, value)
    for field, companion in _DURATION_ORDER:
        try:  # "HH:MM" + ":SS" covers exactly the 8-character spellings
            value = record[field]
            record[companion] = hours_minutes[value[:5]] + seconds[value[5:]]
        except (KeyError, TypeError):  # missing, null, or another spelling: rare
            value = get(field, _MISSING)
            if value is None:
                record[companion] = None
            elif value is not _MISSING:
                record[companion] = parse_duration(value, field)
                record[field] = value.strip()
    return record


#: The tabular columns of a typed record: the documented fields, then their companions.
COLUMNS: tuple[str, ...] = (*DOCUMENTED_FIELDS, *COMPANION_FIELDS)
#: The Parquet kinds of the fixed columns (``date`` is the column a by-day backfill adds).
KINDS: dict[str, str] = {
    "date": "date",
    **dict.fromkeys((*INT_FIELDS, *COMPANION_FIELDS), "int"),
    **dict.fromkeys(FLOAT_FIELDS, "float"),
}


#: The published table: one row per agent and day (``date`` is the column a by-day extract adds).
TABLE = Table(
    "agent_performance",
    columns=(
        Column("date", "date"),
        *(
            Column(field, "int" if field in INT_FIELDS else "float" if field in FLOAT_FIELDS else "string")
            for field in DOCUMENTED_FIELDS
        ),
        *(Column(field, "int") for field in COMPANION_FIELDS),
    ),
    key=("date", "user_id"),
)


def column_order(records: list[dict[str, Any]], *, extra_first: tuple[str, ...] = ()) -> list[str]:
    """Columns for tabular output: ``extra_first``, documented fields, companions, unknown fields sorted."""
    known = (*extra_first, *COLUMNS)
    seen = {key for record in records for key in record}
    unknown = sorted(seen.difference(known))
    return [*known, *unknown]
