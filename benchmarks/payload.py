"""Large payloads: a 20,000-agent answer written in each format, in process and end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._harness import MEASURE, TODAY, emulator_process, margin, median_of

_END_TO_END_MODES = ("baseline", "jsonl-plain", "jsonl", "parquet-plain", "parquet")


# The tail of both probes: time run(work) and measure its peak memory, after the warm-up.


_PAYLOAD_PROBE = (
    """
import json, logging, os, sys, time
mode, path, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
body = open(path, "rb").read()
from airflow_provider_convoso.compat import object_storage_path
from airflow_provider_convoso.endpoints.agent_performance.inspection import Inspection
from airflow_provider_convoso.output import write_records
from airflow_provider_convoso.endpoints.agent_performance.reading import iter_records
from airflow_provider_convoso.endpoints.agent_performance.records import COLUMNS, KINDS
target = os.path.join(out_dir, "agents." + ("jsonl" if mode == "baseline" else mode.split("-")[0]))

def run(content):
    if mode == "baseline":
        # What a plain script would do: decode the whole answer, write one JSON line per agent.
        data = json.loads(content)["data"]
        with open(target, "w", encoding="utf-8") as handle:
            for record in data.values():
                handle.write(json.dumps(record) + "\\n")
        return len(data)
    # Exactly the operator's path for an output_path: stream, type, check, digest, write,
    # rename. "untyped" is the same path with normalize=False, to show what typing itself
    # adds; "plain" leaves out the digest and the quality checks, to show what they add.
    fmt, typed = mode.split("-")[0], not mode.endswith("-untyped")
    inspection = None
    if not mode.endswith(("-untyped", "-plain")):
        inspection = Inspection("warn", None, typed=True, log=logging.getLogger("bench"))
    records = lambda: iter_records(content, normalize=typed)
    write = write_records(
        object_storage_path(target, None), records, fmt, columns=COLUMNS, kinds=KINDS, observe=inspection
    )
    return write[0]

# Warm up on a three-agent answer, so code and libraries loaded on first use are not
# counted as payload memory.
first = json.loads(body)
first["data"] = dict(list(first["data"].items())[:3])
run(json.dumps(first).encode())
del first
work = body
"""
    + MEASURE
)


_END_TO_END_PROBE = (
    """
import json, os, sys, time
mode, url, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
connection = {"conn_type": "convoso", "host": url, "password": "emulator-token"}
os.environ["AIRFLOW_CONN_CONVOSO_DEFAULT"] = json.dumps(connection)
import httpx
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator

def run(users):
    if mode == "baseline":
        # A plain script: post, decode the whole answer, write one JSON line per agent.
        form = {"auth_token": "emulator-token", "date_start": "2026-03-02", "date_end": "2026-03-02"}
        response = httpx.post(url + "/v1/agent-performance/search", data={**form, **users}, timeout=120)
        data = json.loads(response.content)["data"]
        with open(os.path.join(out_dir, "e2e.jsonl"), "w", encoding="utf-8") as handle:
            for record in data.values():
                handle.write(json.dumps(record) + "\\n")
        return len(data)
    fmt = mode.split("-")[0]
    return AgentPerformanceOperator(
        task_id="e2e", date_start="2026-03-02", date_end="2026-03-02", output_path=os.path.join(out_dir, "e2e." + fmt),
        **users,
    ).execute({})["rows"]

if mode.endswith("-plain"):
    # The same operator with an inspection that looks at nothing: no digest, no quality checks.
    import airflow_provider_convoso.endpoints.agent_performance.inspection as inspection

    class _Unobserved(inspection.Inspection):
        def batch(self, records, lines):
            pass

        def done(self):
            pass

    inspection.Inspection = _Unobserved
run({"user_ids": "10001,10002,10003"})  # warm-up, as in the probe above
work = {}  # every agent
"""
    + MEASURE
)


def bench_large_payload(agents: int, runs: int) -> dict[str, Any]:
    from airflow_provider_convoso.testing import ConvosoEmulator

    with ConvosoEmulator(agents=agents, today=TODAY, shape="keyed") as emulator:
        body = json.dumps(
            emulator.answer({"date_start": "2026-03-02", "date_end": "2026-03-02"}, emulator.token)
        ).encode()
    results: dict[str, dict[str, float]] = {}
    modes = ("baseline", "jsonl-untyped", "jsonl-plain", "jsonl", "parquet-plain", "parquet")
    with tempfile.TemporaryDirectory() as scratch:
        body_path = os.path.join(scratch, "body.json")
        Path(body_path).write_bytes(body)
        samples: dict[str, list[dict[str, float]]] = {}

        def sample(name: str, probe: str, mode: str, source: str) -> None:
            # A fresh interpreter each time; the probe prints its figures as the last line.
            out = subprocess.run(
                [sys.executable, "-c", probe, mode, source, scratch], capture_output=True, text=True, check=True
            ).stdout
            samples.setdefault(name, []).append(json.loads(out.strip().splitlines()[-1]))

        for _ in range(runs):  # interleaved
            for mode in modes:
                sample(mode, _PAYLOAD_PROBE, mode, body_path)
        with emulator_process("--agents", str(agents), "--shape", "keyed") as url:
            for _ in range(runs):
                for mode in _END_TO_END_MODES:
                    sample(f"e2e-{mode}", _END_TO_END_PROBE, mode, url)
        for mode, runs_of_mode in samples.items():
            results[mode] = {
                "seconds": median_of([s["seconds"] for s in runs_of_mode]),
                "cpu_seconds": median_of([s["cpu_seconds"] for s in runs_of_mode]),
                "rows": runs_of_mode[0]["rows"],
                "peak_rss_delta": median_of([s["peak_rss_delta"] for s in runs_of_mode]),
            }
    base = results["baseline"]["seconds"]
    end_to_end = {
        mode.removeprefix("e2e-"): {
            "seconds": round(r["seconds"], 3),
            "cpu_seconds": round(r["cpu_seconds"], 3),
            "peak_rss_mib": round(r["peak_rss_delta"] / 2**20, 1),
            "rss_vs_response": round(r["peak_rss_delta"] / len(body), 2),
        }
        for mode, r in results.items()
        if mode.startswith("e2e-")
    }
    figures = {
        mode: {
            "rows_per_s": round(r["rows"] / r["seconds"]),
            "seconds": round(r["seconds"], 4),
            "cpu_seconds": round(r["cpu_seconds"], 4),
            "vs_baseline": round(r["seconds"] / base, 2),
            "peak_rss_mib": round(r["peak_rss_delta"] / 2**20, 1),
            "rss_vs_response": round(r["peak_rss_delta"] / len(body), 2),
        }
        for mode, r in results.items()
        if not mode.startswith("e2e-")
    }
    written = [figures[mode] for mode in ("jsonl", "parquet")]
    typing_added = (results["jsonl-plain"]["seconds"] - results["jsonl-untyped"]["seconds"]) / base
    # The digest and the quality checks, against the same write without them.
    checks_added = {
        fmt: round(results[fmt]["seconds"] / results[f"{fmt}-plain"]["seconds"] - 1, 3) for fmt in ("jsonl", "parquet")
    }
    checks_cpu_added = {
        fmt: round(results[fmt]["cpu_seconds"] / results[f"{fmt}-plain"]["cpu_seconds"] - 1, 3)
        for fmt in ("jsonl", "parquet")
    }
    # The same, taken over the operator's whole run over HTTP (informational, beside the target).
    checks_added_end_to_end = {
        fmt: round(results[f"e2e-{fmt}"]["seconds"] / results[f"e2e-{fmt}-plain"]["seconds"] - 1, 3)
        for fmt in ("jsonl", "parquet")
    }
    return {
        "name": f"Large payload: {agents} agents keyed ({len(body) / 2**20:.1f} MiB) parse+type+write",
        "response_bytes": len(body),
        "typing_added_vs_baseline": round(typing_added, 2),
        "digest_and_checks_added": checks_added,
        "digest_and_checks_cpu_added": checks_cpu_added,
        "digest_and_checks_added_end_to_end": checks_added_end_to_end,
        "figures": figures,
        # Informational: the operator end to end over HTTP (emulator time dominates).
        "end_to_end": end_to_end,
        "target": "typing adds <= 1x baseline; total <= 2x baseline; peak RSS <= 4x response (JSONL and Parquet); "
        "digest + quality checks add <= 10% to the write",
        "margin": min(
            margin(max(typing_added, 1e-9), 1.0),
            *(margin(max(added, 1e-9), 0.10) for added in checks_added.values()),
            *(margin(f["vs_baseline"], 2.0) for f in written),
            *(margin(f["rss_vs_response"], 4.0) for f in written),
        ),
        "met": typing_added <= 1.0
        and all(added <= 0.10 for added in checks_added.values())
        and all(f["vs_baseline"] <= 2.0 for f in written)
        and all(f["rss_vs_response"] <= 4.0 for f in written),
    }


#: The operator over HTTP with the time spent in its digest and quality checks counted
#: (every call of ``Inspection.batch``, ``done`` and ``summary``, where both happen).
_INSPECTION_PROBE = """
import json, os, sys, time
fmt, url, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
connection = {"conn_type": "convoso", "host": url, "password": "emulator-token"}
os.environ["AIRFLOW_CONN_CONVOSO_DEFAULT"] = json.dumps(connection)
import airflow_provider_convoso.endpoints.agent_performance.inspection as inspection
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator

spent = [0.0]

def counted(method):
    def call(*args, **kwargs):
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start
    return call

for name in ("batch", "done", "summary"):
    setattr(inspection.Inspection, name, counted(getattr(inspection.Inspection, name)))

def run(users):
    return AgentPerformanceOperator(
        task_id="e2e", date_start="2026-03-02", date_end="2026-03-02", output_path=os.path.join(out_dir, "e2e." + fmt),
        **users,
    ).execute({})["rows"]

run({"user_ids": "10001,10002,10003"})  # warm-up
spent[0] = 0.0
start = time.perf_counter()
rows = run({})
print(json.dumps({"seconds": time.perf_counter() - start, "inspection_seconds": spent[0], "rows": rows}))
"""


def bench_digest_checks(sizes: tuple[int, ...], runs: int) -> dict[str, Any]:
    """What the digest and the quality checks add to the operator's whole run, at each size.

    Each run is the operator over HTTP in a fresh interpreter, with the time spent in the
    digest and the checks counted inside it: what they add is that time over the rest of
    the run. (Two separate runs with and without them differ by more than the checks cost:
    the emulator's answer time varies by more from run to run.)

    :param sizes: agents in the day's answer.
    :param runs: fresh interpreters per format (medians).
    :return: the figure.
    """
    points: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        for agents in sizes:
            shares: dict[str, list[float]] = {}
            seconds: dict[str, list[float]] = {}
            rows = 0
            with emulator_process("--agents", str(agents), "--shape", "keyed") as url:
                for _ in range(runs):  # interleaved
                    for fmt in ("jsonl", "parquet"):
                        out = subprocess.run(
                            [sys.executable, "-c", _INSPECTION_PROBE, fmt, url, scratch],
                            capture_output=True,
                            text=True,
                            check=True,
                        ).stdout
                        run = json.loads(out.strip().splitlines()[-1])
                        rows = run["rows"]  # the agents who worked that day: about nine in ten
                        inspected = run["inspection_seconds"]
                        shares.setdefault(fmt, []).append(inspected / (run["seconds"] - inspected))
                        seconds.setdefault(fmt, []).append(run["seconds"])
            points.append(
                {
                    "size": agents,
                    "rows": rows,
                    **{f"{fmt}_s": round(median_of(values), 4) for fmt, values in seconds.items()},
                    **{f"{fmt}_added": round(median_of(values), 4) for fmt, values in shares.items()},
                }
            )
    added = [point[f"{fmt}_added"] for point in points for fmt in ("jsonl", "parquet")]
    return {
        "name": f"Digest and quality checks: added to the operator's whole run, {' and '.join(map(str, sizes))} agents",
        "points": points,
        "runs": runs,
        "target": "digest + quality checks add <= 10% to the operator's run (JSONL and Parquet, every size)",
        "margin": min(margin(max(value, 1e-9), 0.10) for value in added),
        "met": all(value <= 0.10 for value in added),
    }
