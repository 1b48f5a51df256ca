"""Response shapes, record typing, durations and error mapping (pure modules)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from support import CONTRACT_AGENT, format_duration, parse_response

from airflow_provider_convoso.endpoints.agent_performance.reading import iter_records
from airflow_provider_convoso.endpoints.agent_performance.records import (
    column_order,
    normalize_record,
    parse_duration,
)
from airflow_provider_convoso.exceptions import (
    ConvosoAPIError,
    ConvosoAuthError,
    ConvosoInvalidFilterError,
    ConvosoResponseError,
    ConvosoTransientError,
    ConvosoValidationError,
)
from airflow_provider_convoso.wire.envelope import parse_retry_after

AGENT = CONTRACT_AGENT
STRINGY = {k: (str(v) if isinstance(v, int | float) else v) for k, v in AGENT.items()}


def _parse(payload: object, status: int = 200, **kwargs: object) -> list[dict]:
    return parse_response(status, {}, json.dumps(payload).encode(), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "payload",
    [
        [AGENT],
        {"success": True, "data": [AGENT]},
        {"success": True, "code": 200, "total": "1", "data": {"12345": STRINGY}},
        {
            "success": True,
            "code": 200,
            "total": "1",
            "data": {"12345": {k: v for k, v in STRINGY.items() if k != "user_id"}},
        },
    ],
    ids=["bare-list", "data-list", "keyed", "keyed-without-user-id"],
)
def test_every_success_shape_gives_the_same_typed_record(payload: object) -> None:
    [record] = _parse(payload)
    assert record["user_id"] == "12345"
    assert record["calls"] == 45 and isinstance(record["calls"], int)
    assert record["talk_sec_pt"] == 65.5 and isinstance(record["talk_sec_pt"], float)
    assert record["talk_sec"] == "09:45:30"
    assert record["talk_seconds"] == 9 * 3600 + 45 * 60 + 30
    assert record["total_seconds"] == 15 * 3600 + 50
    assert set(AGENT) <= set(record)


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"success": True, "data": []},
        {"success": True, "data": {}},
        {"success": True, "data": None},
        {"success": True},
    ],
)
def test_empty_shapes_give_no_rows(payload: object) -> None:
    assert _parse(payload) == []


def test_unknown_fields_pass_through_and_normalize_false_keeps_raw() -> None:
    raw = {**STRINGY, "team": {"id": 7}, "call_type": ""}
    [typed] = _parse([raw])
    assert typed["team"] == {"id": 7} and typed["call_type"] == ""
    [untouched] = _parse([raw], normalize=False)
    assert untouched == raw


def test_durations_allow_long_and_short_hours() -> None:
    assert parse_duration("115:20:05") == 115 * 3600 + 20 * 60 + 5
    assert parse_duration("1:02:03") == 3723
    assert format_duration(415205) == "115:20:05"
    for bad in ["-1:00:00", "1:60:00", "10:00", "", "aa:bb:cc", 3600, None]:
        with pytest.raises(ConvosoResponseError):
            parse_duration(bad, "talk_sec")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("calls", "4.5"),
        ("calls", -1),
        ("calls", True),
        ("talk_sec_pt", "abc"),
        ("talk_sec_pt", "inf"),
        ("name", {"x": 1}),
        ("wrap_sec", "1:2:3"),
    ],
)
def test_malformed_fields_raise_response_error_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ConvosoResponseError, match=field):
        normalize_record({**AGENT, field: value})


def test_csv_column_order_is_documented_then_companions_then_unknown_sorted() -> None:
    columns = column_order([{**AGENT, "zeta": 1, "alpha": 2}], extra_first=("date",))
    assert columns[:3] == ["date", "user_id", "name"]
    assert columns[19:24] == ["talk_seconds", "wait_seconds", "pause_seconds", "wrap_seconds", "total_seconds"]
    assert columns[-2:] == ["alpha", "zeta"]


@pytest.mark.parametrize(
    ("payload", "error", "attrs"),
    [
        ({"success": False, "error": "Invalid authentication token"}, ConvosoAuthError, {"error_code": None}),
        ({"success": False, "code": 5001, "text": "Auth token is invalid"}, ConvosoAuthError, {"error_code": 5001}),
        (
            {"success": False, "error_code": 6026, "error": "Invalid campaign ID"},
            ConvosoInvalidFilterError,
            {"parameter": "campaign_ids", "value": "9"},
        ),
        (
            {"success": False, "error_code": 6041, "error": "Invalid queue ID"},
            ConvosoInvalidFilterError,
            {"parameter": "queue_ids"},
        ),
        (
            {"success": False, "code": "6042", "text": "Invalid list ID"},
            ConvosoInvalidFilterError,
            {"parameter": "list_ids"},
        ),
        (
            {"success": False, "error_code": 6006, "error": "Invalid user ID"},
            ConvosoInvalidFilterError,
            {"parameter": "user_ids"},
        ),
        (
            {"success": False, "error_code": 6050, "message": "Invalid status ID"},
            ConvosoInvalidFilterError,
            {"parameter": "status_ids"},
        ),
        ({"success": False, "error": "Invalid date format. Use YYYY-MM-DD"}, ConvosoValidationError, {}),
        (
            {"success": False, "code": 6031, "text": "Missing Agents"},
            ConvosoAPIError,
            {"error_code": 6031, "text": "Missing Agents"},
        ),
    ],
)
def test_error_envelopes_map_to_typed_errors(payload: dict, error: type, attrs: dict) -> None:
    params = {"campaign_ids": "9", "date_start": "2026-3-1"}
    with pytest.raises(error) as caught:
        _parse(payload, params=params)
    assert type(caught.value) is error
    for name, value in attrs.items():
        assert getattr(caught.value, name) == value
    if error is ConvosoInvalidFilterError and attrs.get("parameter") == "campaign_ids":
        assert "campaign_ids='9'" in str(caught.value)


@pytest.mark.parametrize("status", [401, 403])
def test_http_auth_statuses_are_auth_errors(status: int) -> None:
    with pytest.raises(ConvosoAuthError):
        parse_response(status, {}, b"<html>Forbidden</html>")


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 408])
def test_transient_statuses_include_html_and_truncated_bodies(status: int) -> None:
    with pytest.raises(ConvosoTransientError) as caught:
        parse_response(status, {"retry-after": "7"}, b'{"success": tr')
    assert caught.value.retry_after == 7.0


def test_non_json_2xx_is_a_response_error_with_a_snippet() -> None:
    with pytest.raises(ConvosoResponseError, match="<html>maintenance"):
        parse_response(200, {}, b"<html>maintenance</html>")
    with pytest.raises(ConvosoResponseError, match="not a list or an object"):
        _parse({"success": True, "data": "nope"})
    with pytest.raises(ConvosoResponseError):
        _parse("just a string")


def test_other_4xx_is_permanent_and_404_hints_at_the_base_url() -> None:
    with pytest.raises(ConvosoAPIError, match="base URL"):
        parse_response(404, {}, b"not found")


def test_retry_after_seconds_and_http_date() -> None:
    now = dt.datetime(2026, 3, 3, 12, 0, 0, tzinfo=dt.timezone.utc)
    assert parse_retry_after("3", now=now) == 3.0
    assert parse_retry_after("Tue, 03 Mar 2026 12:00:09 GMT", now=now) == 9.0
    assert parse_retry_after("Tue, 03 Mar 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_streaming_hands_on_each_agent_before_decoding_the_next() -> None:
    head = json.dumps({"success": True, "code": 200, "data": {"1": STRINGY}})[:-2]
    records = iter_records((head + ', "2": {"calls": "1"}, "3": [1]}}').encode())
    first = next(records)
    assert first["user_id"] == "12345" and first["talk_seconds"] == 35130
    assert next(records) == {"calls": 1, "user_id": "2"}
    with pytest.raises(ConvosoResponseError, match="keyed data entry '3' is not an object"):
        next(records)


def test_streaming_checks_the_whole_body_before_the_first_record() -> None:
    head = json.dumps({"success": True, "code": 200, "data": {"1": STRINGY}})[:-2]
    records = iter_records((head + ', "2": {"calls": "1"}, "3": {oops}}}').encode())
    with pytest.raises(ConvosoResponseError, match="expected a JSON body"):
        next(records)


def test_a_bad_utf8_byte_inside_a_later_record_fails_the_body_before_any_record() -> None:
    body = b'{"success": true, "data": [{"calls": "1"}, {"name": "Zo\xff"}]}'
    handed_on: list[dict[str, Any]] = []
    with pytest.raises(ConvosoResponseError, match="expected a JSON body"):
        handed_on.extend(iter_records(body))
    assert handed_on == []


def test_streaming_judges_success_whatever_the_member_order() -> None:
    body = b'{"data": {"7": {"calls": "2"}}, "success": false, "error": "Invalid authentication token"}'
    with pytest.raises(ConvosoAuthError):
        list(iter_records(body))
    assert list(iter_records(b'{"data": [{"calls": "2"}], "success": true}')) == [{"calls": 2}]
    assert list(iter_records(b"\xef\xbb\xbf[]")) == [] and list(iter_records('[{"am": 1}]'.encode("utf-16"))) == [
        {"am": 1}
    ]


def test_a_keyed_object_that_repeats_a_user_id_keeps_the_last_entry_streamed_or_whole() -> None:
    body = b'{"success": true, "data": {"9": {"calls": "1"}, "9": {"calls": "2"}}}'
    assert [r["calls"] for r in iter_records(body)] == [2]
    assert [r["calls"] for r in parse_response(200, {}, body)] == [2]
