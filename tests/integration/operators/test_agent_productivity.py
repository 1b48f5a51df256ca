"""AgentProductivityOperator against the emulator's agent-productivity/search."""

from __future__ import annotations

import collections
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from support import ConnJson

from airflow_provider_convoso.endpoints.agent_productivity import event_seconds, iter_day, read_page, type_event
from airflow_provider_convoso.exceptions import ConvosoOffsetError, ConvosoResponseError
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.operators.agent_productivity import AgentProductivityOperator
from airflow_provider_convoso.testing import ConvosoEmulator, read_output

PRODUCTIVITY = "/v1/agent-productivity/search"


def _op(**kwargs: Any) -> AgentProductivityOperator:
    kwargs.setdefault("task_id", "productivity")
    return AgentProductivityOperator(**kwargs)


def _requests(emulator: ConvosoEmulator) -> list[Any]:
    return [r for r in emulator.requests if r.path == PRODUCTIVITY]


def test_one_day_typed_and_consistent_with_logged_in_time(convoso_conn: ConvosoEmulator) -> None:
    events = _op(date="2026-03-02").execute({})
    [request] = _requests(convoso_conn)
    assert request.params == {"date_start": "2026-03-02", "date_end": "2026-03-02", "limit": "1000", "offset": "0"}
    assert request.token_in_body
    by_agent: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for event in events:
        by_agent[event["user_id"]].append(event)
    performance = ConvosoHook().get_agent_performance(date_start="2026-03-02", date_end="2026-03-02")
    assert set(by_agent) == {r["user_id"] for r in performance}
    for record in performance:
        agent = by_agent[record["user_id"]]
        assert agent[0]["state_normalized"] == "LOGIN" and agent[-1]["state_normalized"] == "LOGOUT"
        logged_in = agent[-1]["event_time"] - agent[0]["event_time"]
        assert logged_in == dt.timedelta(seconds=record["total_seconds"])
        assert sum(event["event_seconds"] for event in agent) == record["total_seconds"]
    first = events[0]
    assert first["event_time"].tzinfo is not None and first["event_time"].utcoffset() == dt.timedelta(0)
    assert {e["state"] for e in events} >= {"LOGIN", "READY", "Pause", "LogOut"}  # as sent
    assert {e["state_normalized"] for e in events} == {"LOGIN", "READY", "PAUSE", "LOGOUT"}
    assert all(isinstance(e["id"], str) and isinstance(e["event_epoch"], str) for e in events)


def test_created_at_is_account_local_and_event_time_absolute(
    emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, conn_json: ConnJson
) -> None:
    emulator.configure(timezone="America/Los_Angeles")
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(emulator, timezone="America/Los_Angeles"))
    [first, *_] = _op(date="2026-03-02").execute({})
    local = dt.datetime.fromisoformat(first["created_at"])
    assert first["event_time"] - local.replace(tzinfo=dt.timezone.utc) == dt.timedelta(hours=8)  # PST


def test_paging_follows_the_rows_received(convoso_conn: ConvosoEmulator) -> None:
    convoso_conn.configure(limit_clamp=100)
    events = _op(date="2026-03-02").execute({})
    offsets = [int(r.params["offset"]) for r in _requests(convoso_conn)]
    assert offsets == list(range(0, len(events), 100))
    assert len({e["id"] for e in events}) == len(events)


def test_past_the_offset_cap_the_day_is_split_by_campaign(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    convoso_conn.configure(events_per_hour=700)  # about 65,000 events in the day
    summary = _op(date="2026-03-02", output_path=str(tmp_path / "p.parquet")).execute({})
    assert summary["split"] is True and len(summary["totals"]) == 4
    assert summary["rows"] == sum(summary["totals"]) > 51_000
    campaigns = {r.params.get("campaign_id") for r in _requests(convoso_conn)}
    assert campaigns == {None, "111", "222", "333", "444"}
    assert max(int(r.params["offset"]) for r in _requests(convoso_conn)) <= 50_000
    rows = read_output((tmp_path / "p.parquet").read_bytes(), "parquet")
    assert len(rows) == len({r["id"] for r in rows}) == summary["rows"]
    assert isinstance(rows[0]["event_time"], dt.datetime)  # a timestamp column


def test_several_days_and_filters(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    summary = _op(
        date_start="2026-03-01", date_end="2026-03-02", campaign_id="111", output_path=str(tmp_path / "p.csv")
    ).execute({})
    assert summary["days"] == ["2026-03-01", "2026-03-02"]
    rows = read_output((tmp_path / "p.csv").read_bytes(), "csv")
    assert rows and {r["campaign_id"] for r in rows} == {"111"}
    assert [r.params["date_start"] for r in _requests(convoso_conn)] == ["2026-03-01", "2026-03-02"]
    email = ConvosoHook().get_lookup("users")[0]["email"]
    events = _op(date="2026-03-02", agent_emails=[email]).execute({})
    assert {e["user_id"] for e in events} == {"10001"}


def test_errors_and_shapes() -> None:
    with pytest.raises(ConvosoOffsetError):
        read_page({"success": False, "code": 7231, "text": "Invalid offset value"})
    assert read_page({"success": True, "data": {"entries": [], "total": "0"}}) == ([], 0)
    assert read_page({"success": True, "data": None}) == ([], 0)
    with pytest.raises(ConvosoResponseError):
        read_page({"success": True, "data": {"entries": ["x"], "total": "1"}})
    with pytest.raises(ConvosoResponseError, match="event_epoch"):
        type_event({"event_epoch": "soon"})
    assert [event_seconds(v) for v in ("00:00:04", "12:34", "1:02:03", "x", None)] == [4, 754, 3723, None, None]


def test_a_day_too_large_even_per_campaign_is_a_clear_error() -> None:
    def huge(query: Any) -> dict[str, Any]:
        return {"success": True, "data": {"offset": 0, "limit": "1000", "total": "99000", "entries": [{"id": "1"}]}}

    with pytest.raises(ConvosoResponseError, match="narrow it with agent_emails"):
        list(iter_day(huge, dt.date(2026, 3, 2), campaign_ids=lambda: ["111"]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs date, or both date_start and date_end"),
        ({"date": "2026-03-02", "campaign_id": "1,2"}, "campaign_id must be one numeric id"),
        ({"date_start": "2026-03-03", "date_end": "2026-03-02"}, "later than"),
    ],
)
def test_bad_arguments_fail_before_any_request(convoso_conn: ConvosoEmulator, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _op(**kwargs).execute({})
    assert _requests(convoso_conn) == []
    with pytest.raises(ValueError, match="not both"):
        _op(date="2026-03-02", date_start="2026-03-02")
