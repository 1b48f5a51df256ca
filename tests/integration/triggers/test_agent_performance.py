"""AgentPerformanceTrigger against the emulator: polling, faults, permanent errors, timeouts, serialisation."""

from __future__ import annotations

import asyncio
import importlib
import time
from typing import Any

import pytest
from support import ConnJson

from airflow_provider_convoso.testing import ConvosoEmulator
from airflow_provider_convoso.triggers.agent_performance import AgentPerformanceTrigger


async def _events(trigger: AgentPerformanceTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


def test_trigger_serialize_round_trips_json_safe_without_token(convoso_conn: ConvosoEmulator) -> None:
    import json

    trigger = AgentPerformanceTrigger(
        convoso_conn_id="c", params={"user_ids": "1,2"}, min_rows=2, poke_interval=1.5, end_time=123.0
    )
    classpath, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs
    module, name = classpath.rsplit(".", 1)
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt == trigger
    assert rebuilt.serialize() == (classpath, kwargs)
    assert convoso_conn.token not in json.dumps(kwargs)


def test_trigger_succeeds_when_data_appears_after_n_requests(convoso_conn: ConvosoEmulator) -> None:
    convoso_conn.configure(data_after_requests=3)
    trigger = AgentPerformanceTrigger(
        convoso_conn_id="convoso_default", params={"date_start": "2026-03-02"}, poke_interval=0.01
    )
    [event] = asyncio.run(_events(trigger))
    digest = event.pop("digest")
    assert event == {"status": "success", "message": "12 agent rows available", "rows": 12}
    assert len(digest) == 16
    assert len(convoso_conn.requests) == 4


def test_trigger_keeps_polling_through_transient_faults(
    convoso_conn: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, conn_json: ConnJson
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(convoso_conn, max_retries=0))
    convoso_conn.configure(faults=["503", "reset", "truncated"], retry_after="0")
    trigger = AgentPerformanceTrigger(convoso_conn_id="convoso_default", params={}, poke_interval=0.01)
    [event] = asyncio.run(_events(trigger))
    assert event["status"] == "success"
    assert [r.fault for r in convoso_conn.requests] == ["503", "reset", "truncated", None]


def test_trigger_stops_on_a_permanent_error_mid_polling(convoso_conn: ConvosoEmulator) -> None:
    convoso_conn.configure(data_after_requests=10)
    trigger = AgentPerformanceTrigger(convoso_conn_id="convoso_default", params={}, poke_interval=0.01)

    async def run() -> list[dict[str, Any]]:
        events = []
        async for event in trigger.run():
            events.append(event.payload)
        return events

    async def revoke_after_two_polls() -> list[dict[str, Any]]:
        task = asyncio.create_task(run())
        while len(convoso_conn.requests) < 2:
            await asyncio.sleep(0.005)
        convoso_conn.token = "rotated"  # the account revokes the token mid-wait
        return await task

    [event] = asyncio.run(revoke_after_two_polls())
    assert event["status"] == "error"
    assert event["error_type"] == "ConvosoAuthError"
    assert "rotated" not in event["message"]
    polls = len(convoso_conn.requests)
    assert polls >= 3
    assert convoso_conn.requests[-1].status == 200


def test_trigger_times_out(convoso_conn: ConvosoEmulator) -> None:
    convoso_conn.configure(data_after_requests=100)
    trigger = AgentPerformanceTrigger(
        convoso_conn_id="convoso_default", params={}, poke_interval=0.01, end_time=time.time() + 0.1
    )
    [event] = asyncio.run(_events(trigger))
    assert event == {"status": "timeout", "message": "no agent performance data before the timeout", "rows": 0}
