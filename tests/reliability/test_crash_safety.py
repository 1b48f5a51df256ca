"""A writer killed with SIGKILL mid-write leaves the previous object, or none; a rerun completes it."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_convoso.testing import ConvosoEmulator

WRITER = """
import os, sys
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator

if sys.argv[2] == "pause":
    real_fsync = os.fsync
    def paused_fsync(fd):
        # The whole payload is in the temporary file but not yet renamed: tell the parent, then wait to be killed.
        print("WRITING", flush=True)
        sys.stdin.read()
        real_fsync(fd)
    os.fsync = paused_fsync
meta = AgentPerformanceOperator(task_id="w", date_start="2026-01-01", date_end="2026-01-31", output_path=sys.argv[1]).execute({})
print("DONE", meta["rows"], flush=True)
"""


@pytest.fixture
def big_emulator(monkeypatch: pytest.MonkeyPatch) -> Any:
    with ConvosoEmulator(token="crash-token", agents=3000) as emulator:
        monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", emulator.connection_json())
        yield emulator


def _writer(target: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


@pytest.mark.parametrize("previous", [None, b"previous complete object\n"])
def test_sigkill_mid_write_then_rerun(big_emulator: Any, tmp_path: Path, previous: bytes | None) -> None:
    target = tmp_path / "agents.jsonl"
    if previous is not None:
        target.write_bytes(previous)
    with _writer(target, "pause") as writer:  # closes its pipes too
        assert writer.stdout is not None
        # Airflow may log to stdout first; wait for the marker line (a blocking read, no sleep).
        assert next(line.strip() for line in writer.stdout if line.strip() == "WRITING") == "WRITING"
        partial = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert len(partial) == 1
        assert partial[0].stat().st_size > 1_000_000  # a large write was under way
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL
    if previous is None:
        assert not target.exists()
    else:
        assert target.read_bytes() == previous
    rerun = _writer(target, "run")
    out, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0
    assert "DONE 3000" in out.splitlines()
    lines = target.read_bytes().splitlines()
    assert len(lines) == 3000


STOPPED = """
import os, signal, sys, threading, time
from airflow_provider_convoso.exceptions import ConvosoTaskStopped
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator
from airflow_provider_convoso.operators.call_logs import CallLogsOperator

if sys.argv[2] == "calls":
    op = CallLogsOperator(task_id="c", date="2026-03-02", output_path=sys.argv[1], max_concurrency=2)
else:
    op = AgentPerformanceOperator(
        task_id="b", date_start="2026-02-01", date_end="2026-02-28", split_by_day=True, max_concurrency=2,
        output_path=sys.argv[1],
    )
# What Airflow 3's task runner installs: SIGTERM calls the task's on_kill in the task's thread.
signal.signal(signal.SIGTERM, lambda signum, frame: op.on_kill())
print("PID", os.getpid(), flush=True)
before = threading.active_count()
started = time.monotonic()
try:
    op.execute({})
except ConvosoTaskStopped as error:
    print("STOPPED", round(time.monotonic() - started, 1), threading.active_count() - before, error, flush=True)
"""


@pytest.mark.parametrize("extract", ["calls", "backfill"])
def test_sigterm_stops_a_running_extract_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extract: str
) -> None:
    """SIGTERM (a worker's warm shutdown, a task marked failed) ends the extract in its own thread:
    no spool or temporary file is left, the previous object stays, no thread runs on, and the
    error is not permanent (Airflow retries it)."""
    from airflow_provider_convoso.exceptions import ConvosoPermanentError, ConvosoTaskStopped

    assert not issubclass(ConvosoTaskStopped, ConvosoPermanentError)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"previous\n")
    with ConvosoEmulator(token="term-token", today=dt.date(2026, 3, 3), latency=0.5, calls_per_agent=20) as emulator:
        env = {**os.environ, "AIRFLOW_CONN_CONVOSO_DEFAULT": emulator.connection_json(), "TMPDIR": str(scratch)}
        with subprocess.Popen(
            [sys.executable, "-c", STOPPED, str(target), extract], stdout=subprocess.PIPE, text=True, env=env
        ) as task:
            assert task.stdout is not None
            pid = next(int(line.split()[1]) for line in task.stdout if line.startswith("PID "))
            # Wait (bounded) until a request is in flight and the spool is on disk: mid-read.
            deadline = time.monotonic() + 60
            while not (emulator.requests and list(scratch.glob("convoso-*-spool"))):
                assert time.monotonic() < deadline, "the extract never started reading"
                time.sleep(0.05)
            os.kill(pid, signal.SIGTERM)
            out, _ = task.communicate(timeout=60)
        requests_at_stop = len(emulator.requests)
    assert task.returncode == 0
    [line] = [line for line in out.splitlines() if line.startswith("STOPPED")]
    _, seconds, threads_left, *_ = line.split()
    assert float(seconds) < 30 and int(threads_left) == 0
    assert target.read_bytes() == b"previous\n"
    assert list(scratch.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert requests_at_stop < (31 if extract == "backfill" else 1000)
