"""Transient faults: every run heals, byte for byte; faults that outlast the retries leave nothing."""

from __future__ import annotations

import collections
import json
import time
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_convoso.exceptions import ConvosoTransientError
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator
from airflow_provider_convoso.testing import ConvosoEmulator

KINDS = ("429", "500", "502", "503", "504", "timeout", "reset", "truncated")
RUNS = 100


def _configure(emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Default retry settings (5 retries, 60 s cap) with a short backoff base; a short
    client timeout so that the emulator's hung answers count as timeouts quickly."""
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", emulator.connection_json(retry_backoff=0.005, timeout=0.4))


def _stats(emulator: ConvosoEmulator) -> dict[str, Any]:
    faults = collections.Counter(r.fault for r in emulator.requests if r.fault)
    return {"requests": len(emulator.requests), "faults": sum(faults.values()), "by_kind": dict(sorted(faults.items()))}


def test_hundred_operator_runs_heal_byte_identical(
    emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _configure(emulator, monkeypatch)
    baseline = tmp_path / "baseline.jsonl"
    AgentPerformanceOperator(
        task_id="base", date_start="2026-02-01", date_end="2026-02-28", output_path=str(baseline)
    ).execute({})
    expected = baseline.read_bytes()
    emulator.reset_log()
    emulator.configure(fault_rate=0.3, fault_kinds=KINDS, fault_seed=20261125, retry_after="1", timeout_delay=1.0)
    started = time.monotonic()
    for run in range(RUNS):
        target = tmp_path / f"run-{run}.jsonl"
        # Each run asks for a different range end, so each draws its own faults.
        AgentPerformanceOperator(
            task_id=f"run{run}",
            date_start="2026-02-01",
            date_end="2026-02-28",
            campaign_ids=None,
            output_path=str(target),
        ).execute({})
        assert target.read_bytes() == expected, f"run {run} differs from the fault-free output"
        emulator.configure(fault_seed=20261125 + run + 1)
    stats = {**_stats(emulator), "runs": RUNS, "succeeded": RUNS, "seconds": round(time.monotonic() - started, 1)}
    print("\nRELIABILITY operator", json.dumps(stats))
    assert stats["faults"] >= 0.2 * stats["requests"]
    assert set(stats["by_kind"]) == set(KINDS)


def test_split_by_day_heals_under_the_same_faults(
    emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _configure(emulator, monkeypatch)
    baseline = tmp_path / "baseline.csv"
    kwargs = {"date_start": "2026-01-01", "date_end": "2026-01-31", "split_by_day": True, "max_concurrency": 8}
    AgentPerformanceOperator(task_id="base", output_path=str(baseline), **kwargs).execute({})
    expected = baseline.read_bytes()
    emulator.reset_log()
    for run in range(5):
        emulator.configure(fault_rate=0.3, fault_kinds=KINDS, fault_seed=7000 + run, retry_after="1", timeout_delay=1.0)
        target = tmp_path / f"split-{run}.csv"
        AgentPerformanceOperator(task_id=f"split{run}", output_path=str(target), **kwargs).execute({})
        assert target.read_bytes() == expected
    stats = _stats(emulator)
    print("\nRELIABILITY split_by_day", json.dumps({**stats, "runs": 5, "days_per_run": 31}))
    assert stats["faults"] >= 0.2 * stats["requests"]


@pytest.mark.parametrize("split_by_day", [False, True])
def test_faults_outlasting_retries_fail_transient_and_write_nothing(
    emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, split_by_day: bool
) -> None:
    _configure(emulator, monkeypatch)
    emulator.configure(fault_rate=1.0, fault_kinds=("500", "reset", "truncated"))
    target = tmp_path / "never.parquet"
    with pytest.raises(ConvosoTransientError, match="after 6 attempts"):
        AgentPerformanceOperator(
            task_id="t",
            date_start="2026-01-01",
            date_end="2026-01-03",
            split_by_day=split_by_day,
            output_path=str(target),
        ).execute({})
    assert list(tmp_path.iterdir()) == []
    per_request = collections.Counter(json.dumps(r.params, sort_keys=True) for r in emulator.requests)
    # One first attempt plus the default 5 retries for the day that failed the run; a
    # backfill cancels the days still in flight then, so none of them goes further.
    assert max(per_request.values()) == 6
