"""Record typing: the fast path in ``normalize_record`` against a plain reference."""

from __future__ import annotations

import math
import re
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import format_duration

from airflow_provider_convoso.endpoints.agent_performance.records import (
    DOCUMENTED_FIELDS,
    DURATION_FIELDS,
    FLOAT_FIELDS,
    INT_FIELDS,
    STRING_FIELDS,
    normalize_record,
)
from airflow_provider_convoso.exceptions import ConvosoResponseError

_DURATION = re.compile(r"(\d{1,9}):([0-5]\d):([0-5]\d)", re.ASCII)


def _fail(field: str) -> ConvosoResponseError:
    return ConvosoResponseError(field)


def _reference(raw: dict[str, Any]) -> dict[str, Any]:
    """The typing rules written as plainly as possible; the spec the fast path must match."""
    record = dict(raw)
    for field, value in raw.items():
        if value is None:
            continue
        if field in INT_FIELDS:
            if isinstance(value, bool):
                raise _fail(field)
            if isinstance(value, int):
                number = value
            elif isinstance(value, float) and value.is_integer():
                number = int(value)
            elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
                if len(value.strip()) > 4300:
                    raise _fail(field)
                number = int(value.strip())
            else:
                raise _fail(field)
            if number < 0:
                raise _fail(field)
            record[field] = number
        elif field in FLOAT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise _fail(field)
            try:
                real = float(value)
            except (ValueError, OverflowError):
                raise _fail(field) from None
            if not math.isfinite(real):
                raise _fail(field)
            record[field] = real
        elif field in STRING_FIELDS:
            if isinstance(value, str):
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                record[field] = str(value)
            else:
                raise _fail(field)
    for field, companion in DURATION_FIELDS.items():
        if field not in raw:
            continue
        value = raw[field]
        if value is None:
            record[companion] = None
            continue
        match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
        if not match:
            raise _fail(field)
        record[field] = value.strip()
        record[companion] = int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3])
    return record


def _rejects(raw: dict[str, Any]) -> bool:
    try:
        _reference(raw)
    except ConvosoResponseError:
        return True
    return False


def _padded(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(["", " ", "\t"]), inner, st.sampled_from(["", " ", "\n"])).map("".join)


field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    _padded(st.from_regex(r"[0-9]{1,22}", fullmatch=True)),
    _padded(st.from_regex(r"-?[0-9]{1,4}\.[0-9]{0,3}", fullmatch=True)),
    _padded(st.from_regex(r"[0-9]{1,10}:[0-9]{1,3}:[0-9]{1,3}", fullmatch=True)),
    st.sampled_from(
        ["٣", "²", "1_000", "+5", "nan", "inf", "1e400", "00:00:00", "99:59:59", "9" * 5000, "51.4", "100", "9999"]
    ),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
records = st.dictionaries(st.sampled_from([*DOCUMENTED_FIELDS, "extra", "talk_seconds"]), field_values)


@given(records)
def test_fast_typing_matches_the_reference(raw: dict[str, Any]) -> None:
    try:
        expected = _reference(raw)
    except ConvosoResponseError:
        with pytest.raises(ConvosoResponseError) as raised:
            normalize_record(raw)
        rejected = [field for field, value in raw.items() if _rejects({field: value})]
        assert any(f"field {field!r} " in str(raised.value) for field in rejected), (raised.value, rejected)
        return
    typed = normalize_record(raw)
    assert typed == expected
    assert [type(value) for value in typed.values()] == [type(expected[key]) for key in typed]
    assert set(typed) == set(expected)


canonical = st.fixed_dictionaries(
    {
        **{field: st.integers(0, 12_000).map(str) for field in INT_FIELDS},
        **{field: st.integers(0, 1000).map(lambda n: f"{n / 10:.1f}") for field in FLOAT_FIELDS},
        **{field: st.integers(0, 99 * 3600 + 3599).map(format_duration) for field in DURATION_FIELDS},
        "user_id": st.integers(1, 10**6).map(str),
        "name": st.text(max_size=8),
        "call_type": st.sampled_from(["", "outbound", "inbound"]),
    }
)


@given(canonical, st.dictionaries(st.sampled_from([*DOCUMENTED_FIELDS, "extra"]), field_values, max_size=2))
def test_records_as_the_keyed_shape_sends_them_match_the_reference(
    record: dict[str, Any], changes: dict[str, Any]
) -> None:
    """Mostly the table-lookup path; a change or two sends some of them down the careful one."""
    test_fast_typing_matches_the_reference.hypothesis.inner_test({**record, **changes})  # type: ignore[attr-defined]


@given(canonical)
def test_without_the_lookup_tables_the_careful_path_types_records_the_same(record: dict[str, Any]) -> None:
    """The tables only make typing quicker: with them empty every value takes the careful path."""
    from airflow_provider_convoso.endpoints.agent_performance import records as module

    with_tables = normalize_record(record)
    with mock.patch.object(module, "_lookup_tables", return_value=({}, {}, {}, {})):
        assert normalize_record(record) == with_tables == _reference(record)


def test_typing_in_place_reuses_the_dict_and_a_copy_leaves_the_input_alone() -> None:
    raw = {"calls": "3", "talk_sec": "01:00:00"}
    copy = normalize_record(raw)
    assert raw == {"calls": "3", "talk_sec": "01:00:00"} and copy["talk_seconds"] == 3600
    assert normalize_record(raw, in_place=True) is raw and raw["calls"] == 3
