"""A writer killed with SIGKILL mid-write leaves the previous object, or none; a rerun completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
