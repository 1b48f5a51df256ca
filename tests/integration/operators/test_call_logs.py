"""CallLogsOperator and the hook's window reader against the emulator's log/retrieve."""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import logging
from pathlib import Path
from typing import Any

import pytest
from support import ConnJson, RunDag

from airflow_provider_convoso.compat import AirflowFailException, object_storage_path
from airflow_provider_convoso.endpoints.call_logs.query import halve
from airflow_provider_convoso.endpoints.call_logs.records import read_page, type_call_log
from airflow_provider_convoso.exceptions import (
    ConvosoAPIError,
    ConvosoInvalidFilterError,
    ConvosoOffsetError,
    ConvosoResponseError,
)
from airflow_provider_convoso.operators.call_logs import CallLogsOperator
from airflow_provider_convoso.testing import ConvosoEmulator, read_output
from airflow_provider_convoso.wire.local_time import local_day, local_window

LOG = "/v1/log/retrieve"


def _op(**kwargs: Any) -> CallLogsOperator:
    kwargs.setdefault("task_id", "calls")
    return CallLogsOperator(**kwargs)


def _log_requests(emulator: ConvosoEmulator) -> list[Any]:
    return [r for r in emulator.requests if r.path == LOG]


def test_a_day_pages_oldest_first_with_every_parameter_sent(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    summary = _op(date="2026-03-02", output_path=str(tmp_path / "c.jsonl")).execute({})
    rows = read_output((tmp_path / "c.jsonl").read_bytes(), "jsonl")
    total = len(convoso_conn.day_calls(dt.date(2026, 3, 2)))
    assert summary["rows"] == len(rows) == total > 500
    assert summary["windows"] == [
        {"start_time": "2026-03-02 00:00:00", "end_time": "2026-03-02 23:59:59", "total_found": total}
    ]
    requests = _log_requests(convoso_conn)
    assert sorted(int(r.params["offset"]) for r in requests) == list(range(0, total, 500))
    for request in requests:
        assert request.token_in_body and not request.token_in_query
        assert request.params["order"] == "asc" and request.params["limit"] == "500"
        assert (request.params["start_time"], request.params["end_time"]) == (
            "2026-03-02 00:00:00",
            "2026-03-02 23:59:59",
        )
        assert request.params["include_recordings"] == "0"
    assert [r["call_date"] for r in rows] == sorted(r["call_date"] for r in rows)
    assert summary["pages"] == len(requests) and summary["duplicates_dropped"] == 0


def test_a_clamped_limit_is_followed_by_the_rows_received(convoso_conn: ConvosoEmulator) -> None:
    # Each answer takes 20 ms, so the pages asked for together are in flight together.
    convoso_conn.configure(limit_clamp=64, latency=0.02)
    rows = _op(date="2026-03-02", max_concurrency=8).execute({})
    total = len(convoso_conn.day_calls(dt.date(2026, 3, 2)))
    assert len(rows) == len({r["id"] for r in rows}) == total
    offsets = sorted(int(r.params["offset"]) for r in _log_requests(convoso_conn))
    assert offsets == list(range(0, total, 64))
    assert convoso_conn.max_in_flight > 1


def test_records_are_typed_and_pseudo_agents_flagged(convoso_conn: ConvosoEmulator) -> None:
    rows = _op(date="2026-03-02", include_recordings=True).execute({})
    system = [r for r in rows if r["is_system_user"]]
    assert len(system) == 96 and {r["user_id"] for r in system} == {"666666"}
    agent_rows = [r for r in rows if not r["is_system_user"]]
    assert all(isinstance(r["id"], str) and isinstance(r["call_length"], int) for r in rows)
    assert all(isinstance(r["queue_seconds"], float) and isinstance(r["called_count"], int) for r in rows)
    answered = [r for r in agent_rows if r["status"] == "1"]
    assert answered and all(r["recording"][0]["recording_id"] == "r" + r["id"] for r in answered)
    assert all(r["recording"] == [] for r in system)


def test_calls_per_agent_match_agent_performance(convoso_conn: ConvosoEmulator) -> None:
    from airflow_provider_convoso.hooks.convoso import ConvosoHook

    rows = _op(date="2026-03-02").execute({})
    per_agent = collections.Counter(r["user_id"] for r in rows if not r["is_system_user"])
    performance = ConvosoHook().get_agent_performance(date_start="2026-03-02", date_end="2026-03-02")
    assert per_agent == {r["user_id"]: r["calls"] for r in performance}
    answered = collections.Counter(r["user_id"] for r in rows if r["status"] == "1")
    assert answered == {r["user_id"]: r["human_answered"] for r in performance if r["human_answered"]}


def test_a_window_past_the_offset_cap_is_halved(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    convoso_conn.configure(calls_per_agent=60)  # about 50,000 calls in the day
    summary = _op(date="2026-03-02", output_path=str(tmp_path / "c.csv"), max_concurrency=8).execute({})
    total = len(convoso_conn.day_calls(dt.date(2026, 3, 2)))
    assert total > 40_500
    windows = summary["windows"]
    assert len(windows) >= 2 and sum(w["total_found"] for w in windows) == total == summary["rows"]
    assert all(w["total_found"] <= 40_500 for w in windows)
    assert windows[0]["start_time"] == "2026-03-02 00:00:00" and windows[-1]["end_time"] == "2026-03-02 23:59:59"
    for before, after in itertools.pairwise(windows):  # adjacent: :59 then :00
        gap = dt.datetime.fromisoformat(after["start_time"]) - dt.datetime.fromisoformat(before["end_time"])
        assert gap == dt.timedelta(seconds=1)
    assert max(int(r.params["offset"]) for r in _log_requests(convoso_conn)) <= 40_000
    rows = read_output((tmp_path / "c.csv").read_bytes(), "csv")
    assert len({r["id"] for r in rows}) == total


def test_rows_that_arrive_while_paging_are_deduped(convoso_conn: ConvosoEmulator) -> None:
    """The first page misses every 50th call; later pages see them, so rows shift by a few
    places and a page boundary repeats them: each id is written once."""
    convoso_conn.configure(late_rows_until_request=1)
    summary = _op(date="2026-03-02", output_path="memory://calls/dedupe.jsonl", max_concurrency=1).execute({})
    assert summary["duplicates_dropped"] > 0
    rows = read_output(object_storage_path("memory://calls/dedupe.jsonl", None).read_bytes(), "jsonl")
    assert len(rows) == len({r["id"] for r in rows}) == summary["rows"]


def test_a_short_window_is_read_again_then_warned_about(
    convoso_conn: ConvosoEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    convoso_conn.configure(shortfall_requests=1)  # the first answer counts one row too many
    rows = _op(date="2026-03-02").execute({})
    requests = _log_requests(convoso_conn)
    assert [r.params["offset"] for r in requests].count("0") == 2  # read once more
    assert len(rows) == len(convoso_conn.day_calls(dt.date(2026, 3, 2)))
    convoso_conn.reset_log()
    convoso_conn.configure(shortfall_requests=10**6)
    with caplog.at_level(logging.WARNING):
        _op(date="2026-03-02").execute({})
    logged = caplog.text + capsys.readouterr().out
    assert "after reading it twice" in logged
    assert [r.params["offset"] for r in _log_requests(convoso_conn)].count("0") == 2  # and no more


@pytest.mark.parametrize(
    ("day", "system_calls"),
    [("2026-11-01", 100), ("2026-03-08", 92), ("2026-03-02", 96)],  # fall back, spring forward, an ordinary day
)
def test_account_time_zone_and_dst_days(
    emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, conn_json: ConnJson, day: str, system_calls: int
) -> None:
    emulator.today = dt.date(2026, 12, 1)
    emulator.configure(timezone="America/New_York")
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(emulator, timezone="America/New_York"))
    rows = _op(date=day).execute({})
    assert sum(r["is_system_user"] for r in rows) == system_calls
    assert {r["call_date"][:10] for r in rows} == {day}


def test_aware_bounds_are_converted_into_the_account_zone(
    emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, conn_json: ConnJson
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(emulator, timezone="America/Los_Angeles"))
    utc = dt.timezone.utc
    _op(
        start_time=dt.datetime(2026, 3, 2, 16, 0, tzinfo=utc),
        end_time=dt.datetime(2026, 3, 2, 17, 59, 59, tzinfo=utc),
        lookback=dt.timedelta(hours=2),
    ).execute({})
    first = _log_requests(emulator)[0].params
    assert (first["start_time"], first["end_time"]) == ("2026-03-02 06:00:00", "2026-03-02 09:59:59")
    assert local_day(dt.datetime(2026, 11, 1, 4, 30, tzinfo=utc), "America/New_York") == dt.date(2026, 11, 1)
    assert local_day(dt.datetime(2026, 11, 1, 3, 30, tzinfo=utc), "America/New_York") == dt.date(2026, 10, 31)
    assert local_window("2026-03-02 00:00:00", "2026-03-02 01:00:00", "UTC") == (
        "2026-03-02 00:00:00",
        "2026-03-02 01:00:00",
    )


def test_a_late_row_is_picked_up_by_the_lookback_of_the_next_run(convoso_conn: ConvosoEmulator) -> None:
    convoso_conn.configure(late_rows_until_request=1, limit_clamp=10**6)  # one page: the late rows are missing
    first = _op(start_time="2026-03-02 10:00:00", end_time="2026-03-02 11:59:59").execute({})
    second = _op(start_time="2026-03-02 12:00:00", end_time="2026-03-02 13:59:59", lookback=7200).execute({})
    assert {r["id"] for r in first} < {r["id"] for r in second}


@pytest.mark.parametrize(
    ("filters", "error", "code", "parameter"),
    [
        ({"user_id": "999"}, ConvosoInvalidFilterError, 6006, "user_id"),
        ({"list_id": "999"}, ConvosoInvalidFilterError, 6002, "list_id"),
        ({"campaign_id": "999"}, ConvosoInvalidFilterError, 6004, "campaign_id"),
        ({"queue_id": "999"}, ConvosoInvalidFilterError, 6030, "queue_id"),
    ],
)
def test_filter_errors_are_typed_and_permanent(
    convoso_conn: ConvosoEmulator, filters: dict[str, str], error: type, code: int, parameter: str
) -> None:
    with pytest.raises(error) as caught:
        _op(date="2026-03-02", **filters).execute({})
    assert isinstance(caught.value, AirflowFailException)
    assert (caught.value.error_code, caught.value.parameter) == (code, parameter)
    assert len(_log_requests(convoso_conn)) == 1


def test_filters_select_rows(convoso_conn: ConvosoEmulator) -> None:
    rows = _op(date="2026-03-02", user_id="10002").execute({})
    assert rows and {r["user_id"] for r in rows} == {"10002"}
    assert _log_requests(convoso_conn)[0].params["user_id"] == "10002"


def test_offset_and_unknown_codes() -> None:
    with pytest.raises(ConvosoOffsetError) as caught:
        read_page({"success": False, "code": 7231, "text": "Invalid offset value"}, {"offset": "40500"})
    assert caught.value.error_code == 7231 and "40500" in str(caught.value)
    with pytest.raises(ConvosoAPIError) as unknown:
        read_page({"success": False, "code": 9123, "text": "Something new"})
    assert (unknown.value.error_code, unknown.value.text) == (9123, "Something new")
    assert type(unknown.value) is ConvosoAPIError


def test_page_shapes() -> None:
    page = read_page(
        {"success": True, "data": {"offset": 0, "limit": "500", "total_found": "2", "entries": 2,
                                   "results": [{"id": 1}, {"id": "2"}]}}
    )  # fmt: skip
    assert (page.total_found, page.limit, [r["id"] for r in page.rows]) == (2, 500, [1, "2"])
    assert read_page({"success": True, "results": []}).rows == []  # no data at all: no rows
    assert read_page({"success": True, "data": None}).total_found == 0
    with pytest.raises(ConvosoResponseError):
        read_page({"success": True, "data": {"results": [1]}})
    with pytest.raises(ConvosoResponseError):
        read_page({"success": True, "data": {"total_found": "many", "results": []}})


def test_typing_of_a_record() -> None:
    typed = type_call_log(
        {"id": 90210433, "user_id": "666667", "call_length": "12", "queue_seconds": "0.50", "called_count": "",
         "extra": {"kept": True}}
    )  # fmt: skip
    assert typed == {
        "id": "90210433",
        "user_id": "666667",
        "call_length": 12,
        "queue_seconds": 0.5,
        "called_count": None,
        "extra": {"kept": True},
        "is_system_user": True,
    }
    with pytest.raises(ConvosoResponseError, match="call_length"):
        type_call_log({"call_length": "twelve"})


def test_halving_and_its_floor() -> None:
    assert halve("2026-03-02 00:00:00", "2026-03-02 23:59:59") == [
        ("2026-03-02 00:00:00", "2026-03-02 11:59:59"),
        ("2026-03-02 12:00:00", "2026-03-02 23:59:59"),
    ]
    with pytest.raises(ConvosoResponseError, match="under a minute"):
        halve("2026-03-02 00:00:00", "2026-03-02 00:00:30")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give date, or both start_time and end_time"),
        ({"start_time": "2026-03-02 10:00:00", "end_time": "2026-03-02 09:00:00"}, "later than end_time"),
        ({"start_time": "2026-03-02T10:00", "end_time": "2026-03-02 11:00:00"}, "YYYY-MM-DD HH:MM:SS"),
        ({"date": "2026-03-02", "user_id": "1,2"}, "takes one value"),
    ],
)
def test_bad_windows_fail_before_any_request(convoso_conn: ConvosoEmulator, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _op(**kwargs).execute({})
    assert _log_requests(convoso_conn) == []


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="not both"):
        _op(date="2026-03-02", start_time="2026-03-02 00:00:00")
    with pytest.raises(ValueError, match="lookback"):
        _op(date="2026-03-02", lookback=-1)
    with pytest.raises(ValueError, match="max_concurrency"):
        _op(date="2026-03-02", max_concurrency=0)


@pytest.mark.airflow_dag
def test_call_logs_in_a_dag(convoso_conn: ConvosoEmulator, run_dag: RunDag, tmp_path: Path) -> None:
    dag_run, xcom = run_dag("call_logs_day", logical_date="2026-03-03T02:00:00+00:00", conf={"out": str(tmp_path)})
    assert "success" in str(dag_run.state).lower()
    summary = xcom("calls")
    assert summary["start_time"] == "2026-03-02 00:00:00"
    assert summary["rows"] == len(read_output((tmp_path / "2026-03-02.parquet").read_bytes(), "parquet"))
    seen = xcom("event_types")
    assert seen["events"] > 0 and seen["users"] == ["10001"]
    assert seen["datetime"] is True and seen["utc_offset_s"] == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"success": True, "data": {"offset": 0, "limit": 500, "total_found": "3", "results": [{"id": 1}, {"id": "2"}]}},
        {"success": True, "data": {"total_found": 2, "results": {"a": {"id": "7"}, "b": {"id": 8}}}},
        {"success": "true", "data": {"total_found": "1", "results": [{"id": "9", "x": [1, {"y": 2}]}]}},
        {"success": True, "results": []},
        {"success": True, "data": None},
    ],
)
def test_page_ids_agree_with_reading_the_whole_page(payload: dict[str, Any]) -> None:
    import json

    from airflow_provider_convoso.endpoints.call_logs.records import page_ids

    page = read_page(payload)
    assert page_ids(json.dumps(payload).encode()) == ([str(r.get("id")) for r in page.rows], page.total_found)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"success": False, "code": 6006, "text": "Unknown User Id"}, ConvosoInvalidFilterError),
        ({"success": True, "data": {"results": ["not a row"]}}, ConvosoResponseError),
        ([], ConvosoResponseError),
    ],
)
def test_page_ids_of_a_non_answer_raise_as_reading_it_does(payload: Any, error: type) -> None:
    import json

    from airflow_provider_convoso.endpoints.call_logs.records import page_ids

    with pytest.raises(error):
        page_ids(json.dumps(payload).encode())


def test_the_hook_iterates_a_window_through_faults(convoso_conn: ConvosoEmulator) -> None:
    from airflow_provider_convoso.hooks.convoso import ConvosoHook

    convoso_conn.configure(faults=["503", "reset", "truncated", "429"], retry_after="0", limit_clamp=100)
    stats: dict[str, Any] = {}
    calls = list(
        ConvosoHook(max_retries=5).iter_call_logs(
            "2026-03-02 08:00:00", "2026-03-02 11:59:59", max_concurrency=4, stats=stats, user_id="10003"
        )
    )
    assert calls and {c["user_id"] for c in calls} == {"10003"}
    assert all("08:00:00" <= c["call_date"][11:] <= "11:59:59" for c in calls)
    assert stats["windows"][0]["total_found"] == len(calls) and stats["duplicates_dropped"] == 0
    assert [r.fault for r in _log_requests(convoso_conn)[:4]] == ["503", "reset", "truncated", "429"]
