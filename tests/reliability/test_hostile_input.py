"""Hostile input, property-tested: a valid request, a clean ValueError, or a ConvosoResponseError."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import format_duration, parse_response

from airflow_provider_convoso.endpoints.agent_performance.query import FILTER_PARAMS, AgentPerformanceQuery
from airflow_provider_convoso.endpoints.agent_performance.reading import iter_records, parse_payload
from airflow_provider_convoso.endpoints.agent_performance.records import (
    DOCUMENTED_FIELDS,
    normalize_record,
    parse_duration,
)
from airflow_provider_convoso.exceptions import ConvosoAPIError, ConvosoResponseError
from airflow_provider_convoso.hooks.convoso import ConvosoHook

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.text(alphabet="0123456789, []'\"-", max_size=30),
    st.dates().map(str),
    st.dates(),
    st.datetimes(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=8) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=20,
)
huge_lists = st.lists(st.integers(min_value=0, max_value=10**12), min_size=500, max_size=3000)
argument_names = st.sampled_from(["date_start", "date_end", *FILTER_PARAMS])
arguments = st.dictionaries(argument_names, st.one_of(values, huge_lists), max_size=7)

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=False),
        st.text(max_size=20),
    ),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
record_fields = st.dictionaries(
    st.sampled_from([*DOCUMENTED_FIELDS, "extra_field"]), json_values, max_size=len(DOCUMENTED_FIELDS) + 1
)
payloads = st.one_of(
    json_values,
    st.lists(record_fields, max_size=5),
    st.fixed_dictionaries({"success": st.just(True), "data": st.lists(record_fields, max_size=5)}),
    st.fixed_dictionaries(
        {
            "success": st.one_of(st.just(True), st.just("true")),
            "total": json_values,
            "data": st.dictionaries(st.text(max_size=8), record_fields, max_size=5),
        }
    ),
    st.fixed_dictionaries(
        {"success": st.just(False)},
        optional={"code": json_values, "error_code": json_values, "error": json_values, "text": json_values},
    ),
)


@given(arguments)
def test_parameters_end_in_a_valid_request_or_a_clean_value_error(kwargs: dict[str, Any]) -> None:
    try:
        params = _params(**kwargs)
    except ValueError as error:
        text = str(error)
        assert any(name in text for name in ("date_start", "date_end", *FILTER_PARAMS)), text
        return
    for name, wire in params.items():
        assert isinstance(wire, str)
        assert wire.isprintable()
        assert " " not in wire
        if name in FILTER_PARAMS:
            assert all(part for part in wire.split(","))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arguments)
def test_invalid_input_never_reaches_the_network(monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, Any]) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_PROPS", json.dumps({"conn_type": "convoso", "password": "tok-props"}))
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=[])

    hook = ConvosoHook("convoso_props", transport=httpx.MockTransport(handler))
    try:
        hook.get_agent_performance(**kwargs)
    except ValueError:
        assert sent == []
        return
    [request] = sent
    body = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
    assert body.pop("auth_token") == "tok-props"
    assert body == _params(**kwargs)


def _assert_parsed_or_response_error(payload: Any, call: Any) -> None:
    try:
        records = call()
    except ConvosoResponseError:
        return
    except ConvosoAPIError:
        # Only an explicit failure envelope may produce an API error.
        assert isinstance(payload, dict)
        assert payload.get("success") in (False, "false", 0)
        return
    assert isinstance(records, list)
    assert all(isinstance(record, dict) for record in records)


@given(payloads)
def test_any_json_shape_parses_or_raises_response_error(payload: Any) -> None:
    _assert_parsed_or_response_error(payload, lambda: parse_payload(payload))


@given(st.binary(max_size=300) | payloads.map(lambda p: json.dumps(p).encode()[: len(json.dumps(p)) // 2]))
def test_any_bytes_parse_or_raise_response_error(content: bytes) -> None:
    try:
        payload: Any = json.loads(content)
    except ValueError:
        payload = None
    _assert_parsed_or_response_error(payload, lambda: parse_response(200, {}, content))


@given(record_fields)
def test_wrong_types_in_every_field_raise_only_response_error(record: dict[str, Any]) -> None:
    try:
        typed = normalize_record(record)
    except ConvosoResponseError as error:
        assert any(field in str(error) for field in record)
        return
    for field in ("calls", "human_answered", "am", "others"):
        assert typed.get(field) is None or (isinstance(typed[field], int) and typed[field] >= 0)
    for field in ("talk_seconds", "total_seconds"):
        assert typed.get(field) is None or isinstance(typed[field], int)


@given(st.text(max_size=20) | st.from_regex(r"-?\d{1,12}:\d{1,3}:\d{1,3}", fullmatch=True))
def test_durations_parse_or_raise_response_error(text: str) -> None:
    try:
        seconds = parse_duration(text, "talk_sec")
    except ConvosoResponseError:
        return
    assert seconds >= 0
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.integers(min_value=0, max_value=10**12))
def test_durations_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


layouts = st.sampled_from(
    [{}, {"indent": 2}, {"separators": (",", ":")}, {"ensure_ascii": False}, {"indent": "\t", "sort_keys": True}]
)


def _outcome(call: Any) -> Any:
    try:
        return call()
    except (ConvosoResponseError, ConvosoAPIError) as error:
        return type(error)


@given(payloads, layouts, st.booleans())
def test_streamed_records_equal_whole_body_records(payload: Any, layout: dict[str, Any], normalize: bool) -> None:
    body = json.dumps(payload, **layout).encode()
    whole = _outcome(lambda: parse_response(200, {}, body, normalize=normalize))
    streamed = _outcome(lambda: list(iter_records(body, normalize=normalize)))
    from_text = _outcome(lambda: list(iter_records(body.decode("utf-8"), normalize=normalize)))
    assert streamed == whole and from_text == whole


@given(payloads.map(lambda p: json.dumps(p).encode()), st.data())
def test_a_damaged_body_streams_to_what_the_whole_body_gives(body: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(body)))
    damaged = body[:cut] + data.draw(st.sampled_from([b"", b"}", b"]", b",", b"x", b"\xff", b" {}"])) + body[cut:]
    whole = _outcome(lambda: parse_response(200, {}, damaged))
    streamed = _outcome(lambda: list(iter_records(damaged)))
    assert streamed == whole
    try:
        json.loads(damaged)
    except ValueError:  # not JSON at all: not one record is handed on before the error
        handed_on: list[Any] = []
        with pytest.raises(ConvosoResponseError):
            handed_on.extend(iter_records(damaged))
        assert handed_on == []


def _params(**inputs: Any) -> dict[str, str]:
    return AgentPerformanceQuery.from_inputs(**inputs).to_params()
