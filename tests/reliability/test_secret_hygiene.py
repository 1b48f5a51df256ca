"""The sentinel token appears nowhere: logs, XCom, rendered fields, triggers, exceptions, outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support import ConnJson, RunDag

from airflow_provider_convoso.exceptions import ConvosoError
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.sensors.agent_performance import AgentPerformanceSensor
from airflow_provider_convoso.testing import ConvosoEmulator

try:
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:
    from airflow.exceptions import TaskDeferred


def _files_containing(root: Path, needle: bytes) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            hits.append(str(path))
    return hits


def _without_airflow_30_comms_debug(output: str) -> str:
    """Drop the one line Airflow 3.0's in-process test supervisor prints for every secret.

    Under ``dag.test()`` on Airflow 3.0.x, ``InProcessSupervisorComms.send`` logs each
    request at DEBUG, including Airflow's own ``MaskSecret(value=...)`` for a connection's
    password; later lines log the message type only. A deployed worker's supervisor is a
    separate process and does not log bodies (the deploy check greps every log file).
    """
    from airflow_provider_convoso.compat import AIRFLOW_VERSION

    if not AIRFLOW_VERSION.startswith("3.0."):
        return output
    return "\n".join(line for line in output.splitlines() if "Sending request" not in line or "MaskSecret(" not in line)


@pytest.mark.airflow_dag
def test_token_never_appears_anywhere(
    emulator: ConvosoEmulator,
    monkeypatch: pytest.MonkeyPatch,
    conn_json: ConnJson,
    run_dag: RunDag,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    token = emulator.token
    assert "SENTINEL" in token
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(emulator))
    # A second account whose token the API rejects; its own token must not leak either.
    revoked = "tok-REVOKED-SENTINEL-0b7e"
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_REVOKED", conn_json(emulator).replace(token, revoked))
    emulator.configure(data_after_requests=1)
    out = tmp_path / "out"
    dag_run, xcom = run_dag("secret_hygiene", conf={"out": str(out)})
    states = {ti.task_id: str(ti.state).lower() for ti in dag_run.get_task_instances()}
    assert all("success" in states[t] for t in ("wait", "land", "lookup")), states
    assert all("failed" in states[t] for t in ("broken", "revoked")), states

    captured = capfd.readouterr()
    task_output = _without_airflow_30_comms_debug(captured.out + captured.err)
    assert "ConvosoInvalidFilterError" in task_output  # the failing tasks' exceptions were logged
    assert "ConvosoAuthError" in task_output
    for secret in (token, revoked):
        assert secret not in task_output
        # Every file Airflow wrote: task logs and the metadata DB (XCom, rendered template
        # fields, trigger rows, task failures), plus the outputs.
        assert _files_containing(Path(os.environ["AIRFLOW_HOME"]), secret.encode()) == []
        assert _files_containing(tmp_path, secret.encode()) == []
        for task_id in ("wait", "land", "lookup"):
            assert secret not in json.dumps(xcom(task_id), default=str)
    assert emulator.requests
    assert all(r.token_in_body and not r.token_in_query for r in emulator.requests)


def test_trigger_serialization_and_exceptions_never_carry_token(
    emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, conn_json: ConnJson
) -> None:
    token = emulator.token
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(emulator, max_retries=1))
    emulator.configure(data_after_requests=1)
    with pytest.raises(TaskDeferred) as deferred:
        AgentPerformanceSensor(task_id="s", date_start="2026-03-02", deferrable=True).execute({})
    assert token not in json.dumps(deferred.value.trigger.serialize())
    hook = ConvosoHook()
    assert token not in repr(hook)
    assert token not in repr(hook.settings)
    errors: list[BaseException] = []
    emulator.configure(
        faults=["503", "503", "reset", "reset", "truncated", "truncated", "timeout", "timeout"],
        retry_after="0",
        timeout_delay=0.5,
    )
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(emulator, max_retries=1, timeout=0.2))
    for kwargs in ({}, {}, {}, {}, {"campaign_ids": "999999"}, {"status_ids": "ZZ"}):
        try:
            ConvosoHook().get_agent_performance(**kwargs)
        except ConvosoError as error:
            errors.append(error)
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(emulator).replace(token, token + "x"))
    try:
        ConvosoHook().get_agent_performance()
    except ConvosoError as error:
        errors.append(error)
    assert len(errors) == 7
    for error in errors:
        for text in (str(error), repr(error), str(error.__cause__), repr(error.__cause__), str(error.__context__)):
            assert token not in text


@pytest.mark.airflow_dag
def test_recording_links_never_appear_outside_the_call_logs_that_carry_them(
    emulator: ConvosoEmulator,
    monkeypatch: pytest.MonkeyPatch,
    conn_json: ConnJson,
    run_dag: RunDag,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(emulator))
    emulator.configure(recording_missing_every=3, recording_tiny_every=5)
    out = tmp_path / "out"
    dag_run, xcom = run_dag("recording_links", conf={"out": str(out)})
    states = {ti.task_id: str(ti.state).lower() for ti in dag_run.get_task_instances()}
    assert "success" in states["land"] and "success" in states["calls"] and "failed" in states["strict"], states

    calls = [json.loads(line) for line in (out / "calls" / "calls.jsonl").read_text().splitlines()]
    links = [r["public_url"] for call in calls for r in call.get("recording") or [] if r.get("public_url")]
    assert links  # the call logs the user asked for carry them, and only those
    secrets = [emulator.recording_token, *(link.split("?")[0].rsplit("/", 1)[-1] for link in links)]
    captured = capfd.readouterr()
    task_output = captured.out + captured.err
    assert "ConvosoDownloadError" in task_output and "not found (HTTP 404)" in task_output
    recordings = out / "recordings"
    assert len(list(recordings.rglob("manifest.jsonl"))) == 1 and (out / "strict" / "manifest.jsonl").exists()
    for secret in secrets:
        assert secret not in task_output
        assert _files_containing(Path(os.environ["AIRFLOW_HOME"]), secret.encode()) == []
        assert _files_containing(recordings, secret.encode()) == []
        assert _files_containing(out / "strict", secret.encode()) == []
        assert secret not in json.dumps(xcom("land"), default=str)
