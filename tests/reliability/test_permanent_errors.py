"""Permanent errors stop at once: no HTTP retry, no Airflow task retry, even with retries=3."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support import ConnJson, RunDag

from airflow_provider_convoso.testing import ConvosoEmulator
from airflow_provider_convoso.triggers.agent_performance import AgentPerformanceTrigger

FILTERS = {"campaign_ids": 6026, "queue_ids": 6041, "list_ids": 6042, "user_ids": 6006, "status_ids": 6050}


@pytest.mark.airflow_dag
@pytest.mark.parametrize("error_shape", ["contract", "code_text"])
def test_each_permanent_error_fails_first_attempt_without_any_retry(
    emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, conn_json: ConnJson, run_dag: RunDag, error_shape: str
) -> None:
    emulator.configure(error_shape=error_shape)
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(emulator))
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_BAD", conn_json(emulator).replace(emulator.token, "revoked-token"))
    dag_run, _ = run_dag("permanent_errors", dag_id=f"permanent_{error_shape}")
    assert "failed" in str(dag_run.state).lower()
    tis = {ti.task_id: ti for ti in dag_run.get_task_instances()}
    assert len(tis) == 7
    for ti in tis.values():
        assert "failed" in str(ti.state).lower(), ti.task_id
        assert ti.try_number == 1, f"{ti.task_id} was retried by Airflow"
    # Exactly one HTTP request per task: no HTTP retry, no task retry.
    assert sorted(r.params.get("date_start") for r in emulator.requests) == ["2026-01-01", "2026-01-02"] + [
        f"2026-02-0{i}" for i in range(1, 6)
    ]
    for request in emulator.requests:
        assert request.status == 200  # both error shapes arrive with HTTP 200


@pytest.mark.parametrize(("parameter", "code"), FILTERS.items())
def test_trigger_stops_on_invalid_filter(convoso_conn: ConvosoEmulator, parameter: str, code: int) -> None:
    trigger = AgentPerformanceTrigger(
        convoso_conn_id="convoso_default", params={parameter: "999999"}, poke_interval=0.01
    )

    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("no event")

    event = asyncio.run(first_event())
    assert event["status"] == "error"
    assert (event["error_type"], event["error_code"], event["parameter"]) == (
        "ConvosoInvalidFilterError",
        code,
        parameter,
    )
    assert f"{parameter}='999999'" in event["message"]
    assert len(convoso_conn.requests) == 1
