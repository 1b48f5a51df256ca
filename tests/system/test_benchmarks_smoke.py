"""The benchmarks run end to end at tiny sizes (a smoke test: no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# `make bench` runs on the primary pair only, so its smoke test does too.
@pytest.mark.primary
def test_benchmarks_smoke(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["machine"]["smoke"] is True
    ids = [r["id"] for r in report["results"]]
    assert ids == [
        "parse", "requests", "sensor", "backfill", "payload", "triggers", "calllogs", "leads",
        "calllogs_scale", "triggers_scale", "leads_scale", "digest_checks",
    ]  # fmt: skip
    for entry in report["results"]:
        assert isinstance(entry["met"], bool)
        assert entry["target"]
        if entry["id"].endswith("_scale"):  # a curve: its points, smallest first, each measured
            sizes = [point["size"] for point in entry["points"]]
            assert sizes == sorted(sizes) and len(sizes) >= 2 and sizes[0] > 0
    assert "DAG-parse import cost" in result.stdout
