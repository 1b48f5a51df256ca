"""AgentPerformanceSensor against the emulator: poke, reschedule and deferrable modes, whole DAG runs."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
from support import ConnJson, RunDag

from airflow_provider_convoso.compat import AirflowFailException, AirflowSensorTimeout, AirflowSkipException
from airflow_provider_convoso.exceptions import ConvosoAuthError, ConvosoInvalidFilterError, ConvosoTransientError
from airflow_provider_convoso.sensors.agent_performance import AgentPerformanceSensor
from airflow_provider_convoso.testing import ConvosoEmulator
from airflow_provider_convoso.triggers.agent_performance import AgentPerformanceTrigger

try:
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:
    from airflow.exceptions import TaskDeferred


def _sensor(**kwargs: Any) -> AgentPerformanceSensor:
    kwargs.setdefault("task_id", "wait")
    kwargs.setdefault("date_start", "2026-03-02")
    return AgentPerformanceSensor(**kwargs)


async def _events(trigger: AgentPerformanceTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


def test_poke_true_with_row_count(convoso_conn: ConvosoEmulator) -> None:
    result = _sensor(min_rows=5).poke({})
    assert result.is_done is True
    assert result.xcom_value["rows"] == 12 and len(result.xcom_value["digest"]) == 16


def test_poke_false_when_too_few_rows(convoso_conn: ConvosoEmulator) -> None:
    assert _sensor(min_rows=13).poke({}).is_done is False
    convoso_conn.configure(data_after_requests=1)
    assert _sensor().poke({}).is_done is False


def test_poke_transient_error_is_not_yet(
    convoso_conn: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, conn_json: ConnJson
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(convoso_conn, max_retries=1))
    convoso_conn.configure(faults=["502", "502"], retry_after="0")
    assert _sensor().poke({}).is_done is False
    assert _sensor().poke({}).is_done is True


@pytest.mark.parametrize("error_shape", ["contract", "code_text"])
def test_poke_permanent_error_fails_at_once(
    emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, conn_json: ConnJson, error_shape: str
) -> None:
    emulator.configure(error_shape=error_shape)
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(emulator).replace(emulator.token, "bad"))
    with pytest.raises(ConvosoAuthError) as caught:
        _sensor().poke({})
    assert isinstance(caught.value, AirflowFailException)
    assert len(emulator.requests) == 1


def test_poke_bad_input_fails_before_network(convoso_conn: ConvosoEmulator) -> None:
    with pytest.raises(ValueError, match="queue_ids"):
        _sensor(queue_ids="1 2").poke({})
    assert convoso_conn.requests == []


def test_deferrable_returns_at_once_when_data_is_there(convoso_conn: ConvosoEmulator) -> None:
    assert _sensor(deferrable=True).execute({})["rows"] == 12


def test_deferrable_defers_with_trigger_and_timeout(convoso_conn: ConvosoEmulator) -> None:
    convoso_conn.configure(data_after_requests=1)
    sensor = _sensor(deferrable=True, timeout=600, poke_interval=7, campaign_ids=[111, 222], min_rows=3)
    before = time.time()
    with pytest.raises(TaskDeferred) as caught:
        sensor.execute({})
    deferred = caught.value
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout == dt.timedelta(seconds=600)
    trigger = deferred.trigger
    assert isinstance(trigger, AgentPerformanceTrigger)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_convoso.triggers.agent_performance.AgentPerformanceTrigger"
    assert kwargs["params"] == {"date_start": "2026-03-02", "campaign_ids": "111,222"}
    assert (kwargs["min_rows"], kwargs["poke_interval"], kwargs["convoso_conn_id"]) == (3, 7.0, "convoso_default")
    assert before + 600 <= kwargs["end_time"] <= time.time() + 600


def test_execute_complete_branches() -> None:
    sensor = _sensor()
    success = {"status": "success", "message": "12 rows", "rows": 12, "digest": "0123456789abcdef"}
    assert sensor.execute_complete({}, success) == {"rows": 12, "digest": "0123456789abcdef"}
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute_complete({}, {"status": "timeout", "message": "late", "rows": 0})
    with pytest.raises(AirflowSkipException):
        _sensor(soft_fail=True).execute_complete({}, {"status": "timeout", "message": "late", "rows": 0})
    event = {
        "status": "error",
        "message": "Convoso rejected campaign_ids='9'",
        "rows": 0,
        "error_type": "ConvosoInvalidFilterError",
        "error_code": 6026,
        "parameter": "campaign_ids",
    }
    with pytest.raises(ConvosoInvalidFilterError, match="campaign_ids='9'") as caught:
        sensor.execute_complete({}, event)
    assert isinstance(caught.value, AirflowFailException)
    assert (caught.value.error_code, caught.value.parameter) == (6026, "campaign_ids")
    with pytest.raises(ConvosoTransientError) as transient:
        sensor.execute_complete({}, {**event, "error_type": "ConvosoTransientError"})
    assert not isinstance(transient.value, AirflowFailException)


@pytest.mark.airflow_dag
def test_whole_dag_deferring_sensor_then_operator(
    convoso_conn: ConvosoEmulator, run_dag: RunDag, tmp_path: Path
) -> None:
    convoso_conn.configure(data_after_requests=3)
    dag_run, xcom = run_dag("sensor_then_pull", logical_date="2026-03-02", conf={"out": str(tmp_path)})
    assert "success" in str(dag_run.state).lower()
    assert xcom("wait")["rows"] == 12
    assert xcom("wait")["digest"] == xcom("pull")["digest"]  # the same day, the same rows
    assert xcom("pull")["rows"] == 12
    assert (tmp_path / "2026-03-02.jsonl").read_text().count("\n") == 12
    # one poke on the worker, then the trigger polled until the data appeared, then the pull
    date_rows = [r.rows for r in convoso_conn.requests if "user_ids" not in r.params]
    assert date_rows == [0, 0, 0, 12, 12]
    # the poke-mode sensor poked until its own query had data (3 empty answers first)
    assert [r.rows for r in convoso_conn.requests if "user_ids" in r.params] == [0, 0, 0, 1]
    assert xcom("poke")["rows"] == 1


# -- settled data ---------------------------------------------------------------------


@pytest.mark.airflow_dag
@pytest.mark.filterwarnings("error::UserWarning")  # Airflow 3.0 warns on Variable.get(deserialize_json=True)
def test_settling_in_every_mode(convoso_conn: ConvosoEmulator, run_dag: RunDag, tmp_path: Path) -> None:
    """The figures move on the first 3 requests for each agent's query; settle_polls=2 needs
    the 3rd and 4th answers to agree, in poke, reschedule (state in a Variable between
    pokes) and deferrable mode (the trigger starts its count afresh) alike."""
    from airflow_provider_convoso.hooks.convoso import ConvosoHook

    convoso_conn.configure(changing_requests=3)
    dag_run, xcom = run_dag("settling_sensors", logical_date="2026-03-02", conf={"out": str(tmp_path)})
    assert "success" in str(dag_run.state).lower()
    final = ConvosoHook().fingerprint(
        AgentPerformanceSensor(task_id="q", date_start="2026-03-02", date_end="2026-03-02", user_ids="10001").query()
    )
    for mode, user_id in (("poke", "10001"), ("reschedule", "10002"), ("deferrable", "10003")):
        answers = [r for r in convoso_conn.requests if r.params.get("user_ids") == user_id]
        assert len(answers) >= 4, mode
        value = xcom(f"wait_{mode}")
        assert value["rows"] == 1, mode
        assert len(value["digest"]) == 16, mode
    # the data stopped moving at the 3rd request: the waits ended on the 4th
    assert len([r for r in convoso_conn.requests if r.params.get("user_ids") == "10002"]) == 4
    assert len([r for r in convoso_conn.requests if r.params.get("user_ids") == "10003"]) == 4
    # the sensor's digest is the digest of what the operator wrote from the same (settled) answer
    assert xcom("wait_poke")["digest"] == xcom("pull")["digest"] == final[1]
    # the settling state was kept between reschedules and is gone once the sensor succeeded
    from airflow.models.variable import Variable as StoredVariable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        keys = session.scalars(select(StoredVariable.key)).all()
    assert not [key for key in keys if key.startswith("convoso_settle__")]


def test_settle_for_waits_at_least_that_long(convoso_conn: ConvosoEmulator) -> None:
    result = _sensor(settle_for=dt.timedelta(seconds=0.3), poke_interval=0.05, timeout=30).execute({})
    assert result["rows"] == 12
    first, last = convoso_conn.requests[0].started, convoso_conn.requests[-1].started
    assert last - first >= 0.3
    assert len(convoso_conn.requests) >= 3


def test_settling_restarts_when_rows_drop(convoso_conn: ConvosoEmulator) -> None:
    sensor = _sensor(settle_polls=2, min_rows=12)
    assert sensor.poke({}).is_done is False  # first sighting
    convoso_conn.configure(data_after_requests=10**6)  # the day empties again
    assert sensor.poke({}).is_done is False
    convoso_conn.configure(data_after_requests=0)
    assert sensor.poke({}).is_done is False  # counting starts over
    done = sensor.poke({})
    assert done.is_done is True
    assert done.xcom_value["rows"] == 12


@pytest.mark.parametrize("kwargs", [{"settle_polls": 0}, {"settle_for": -5}, {"settle_polls": "3"}])
def test_bad_settle_arguments_fail_in_the_dag_file(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="settle_"):
        _sensor(**kwargs)


def test_trigger_settles_and_a_restart_counts_afresh(convoso_conn: ConvosoEmulator) -> None:
    """A trigger rebuilt from its serialised kwargs (a triggerer restart) carries no digest
    and no token, and needs settle_polls fresh polls."""
    import asyncio

    sensor = _sensor(settle_polls=3, poke_interval=0.01)
    trigger = AgentPerformanceTrigger(
        convoso_conn_id="convoso_default",
        params=sensor.query().to_params(),
        settle_polls=3,
        poke_interval=0.01,
        end_time=time.time() + 30,
    )

    async def first_polls_then_stop() -> None:
        run = trigger.run().__aiter__()
        task = asyncio.ensure_future(run.__anext__())
        while len(convoso_conn.requests) < 2:
            await asyncio.sleep(0.005)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await run.aclose()

    asyncio.run(first_polls_then_stop())
    before = len(convoso_conn.requests)
    _, kwargs = trigger.serialize()
    assert "digest" not in str(kwargs) and convoso_conn.token not in str(kwargs)
    [event] = asyncio.run(_events(AgentPerformanceTrigger(**kwargs)))
    assert event["status"] == "success" and event["rows"] == 12 and len(event["digest"]) == 16
    assert "settled (same data on 3 of 3 polls" in event["message"]
    assert len(convoso_conn.requests) - before == 3
