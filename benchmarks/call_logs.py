"""Call logs: a large day's pages, 8 in flight against 1."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import subprocess
import sys
import tempfile
from typing import Any

from benchmarks._harness import MEASURE, TODAY, convoso_connection, emulator_process, margin, median_of, timed

_CALL_LOG_MEMORY_PROBE = """
import json, os, sys, time, tempfile
mode, url, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
connection = {"conn_type": "convoso", "host": url, "password": "emulator-token"}
os.environ["AIRFLOW_CONN_CONVOSO_DEFAULT"] = json.dumps(connection)
from airflow_provider_convoso.operators.call_logs import CallLogsOperator

def run(day):
    return CallLogsOperator(task_id="calls", date=day, max_concurrency=8,
                            output_path=os.path.join(out_dir, "calls-" + day + ".jsonl")).execute({})["rows"]

run("2026-03-01")  # warm-up: another day of about the same size
work = "2026-03-02"
""" + MEASURE.replace(
    'print(json.dumps({"seconds"',
    "import resource\npeak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
    'print(json.dumps({"peak_rss": peak_rss, "seconds"',
)


def _calls_per_agent(agents: int, calls: int) -> tuple[float, int]:
    """The ``calls_per_agent`` that gives a day of about ``calls`` calls, and the exact count."""
    from airflow_provider_convoso.testing import ConvosoEmulator

    day = dt.date(2026, 3, 2)
    base = len(ConvosoEmulator(agents=agents, today=TODAY).day_calls(day))
    scale = round(calls / base, 3)
    return scale, len(ConvosoEmulator(agents=agents, today=TODAY, calls_per_agent=scale).day_calls(day))


def read_day(concurrency: int) -> tuple[float, float, int]:
    """Read 2026-03-02's call logs into a spool through ``convoso_calls``: wall, CPU seconds and pages.

    :param concurrency: pages in flight.
    :return: ``(wall_s, cpu_s, pages)``.
    """
    from airflow_provider_convoso.endpoints.call_logs.query import CallLogsQuery
    from airflow_provider_convoso.hooks.convoso import ConvosoHook
    from airflow_provider_convoso.spool import BodySpool

    query = CallLogsQuery.from_inputs(start_time="2026-03-02 00:00:00", end_time="2026-03-02 23:59:59")

    async def pages(spool: BodySpool) -> int:
        hook = ConvosoHook("convoso_calls")
        try:
            stats = await hook.afetch_call_log_pages(query, spool, max_concurrency=concurrency)
        finally:
            await hook.aclose()
        return stats.pages

    with BodySpool() as spool:
        requests: list[int] = []
        wall, cpu = timed(lambda: requests.append(asyncio.run(pages(spool))), collect=True)
    return wall, cpu, requests[0]


def bench_call_logs(calls: int, latency: float, runs: int) -> dict[str, Any]:
    agents = 200
    scale, total = _calls_per_agent(agents, calls)
    emulator_args = ("--agents", str(agents), "--calls-per-agent", str(scale), "--today", TODAY.isoformat())
    with emulator_process(*emulator_args, "--latency", str(latency)) as url:
        os.environ["AIRFLOW_CONN_CONVOSO_CALLS"] = convoso_connection(url)
        read_day(8)  # warm-up: the emulator builds the day once
        serial_s, parallel_s = [], []
        for _ in range(runs):  # interleaved
            serial_s.append(read_day(1))
            parallel_s.append(read_day(8))
    requests = parallel_s[0][2]
    serial, parallel = median_of([w for w, _, _ in serial_s]), median_of([w for w, _, _ in parallel_s])
    ideal = math.ceil(requests / 8) * latency
    speedup, vs_ideal = serial / parallel, parallel / ideal
    memory: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for label, day_calls in (("small", calls // 10), ("large", calls)):
            small_scale, small_total = _calls_per_agent(agents, day_calls)
            args = ("--agents", str(agents), "--calls-per-agent", str(small_scale), "--today", TODAY.isoformat())
            with emulator_process(*args) as url:
                out = subprocess.run(
                    [sys.executable, "-c", _CALL_LOG_MEMORY_PROBE, label, url, scratch],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            assert figures["rows"] == small_total, (figures["rows"], small_total)
            memory[label] = {
                "calls": small_total,
                "peak_rss_mib": round(figures["peak_rss"] / 2**20, 1),
                "peak_rise_mib": round(figures["peak_rss_delta"] / 2**20, 1),
                "seconds": round(figures["seconds"], 2),
            }
    rss_ratio = memory["large"]["peak_rss_mib"] / memory["small"]["peak_rss_mib"]
    return {
        "name": f"Call logs: a {total}-call day ({requests} requests) @ {int(latency * 1000)} ms, 8 vs 1 in flight",
        "ours": {"wall_s": round(parallel, 3), "cpu_s": round(median_of([c for _, c, _ in parallel_s]), 3)},
        "baseline": {"wall_s": round(serial, 3), "cpu_s": round(median_of([c for _, c, _ in serial_s]), 3)},
        "speedup": round(speedup, 2),
        "ideal_s": round(ideal, 3),
        "vs_ideal": round(vs_ideal, 3),
        "memory": {
            label: f"{m['calls']} calls: peak RSS {m['peak_rss_mib']} MiB (rise {m['peak_rise_mib']})"
            for label, m in memory.items()
        },
        "rss_large_vs_small": round(rss_ratio, 2),
        "target": "speedup >= 6, vs_ideal <= 1.3, peak RSS of 10x the calls <= 1.5x",
        "margin": min(margin(speedup, 6, higher_is_better=True), margin(vs_ideal, 1.3), margin(rss_ratio, 1.5)),
        "met": speedup >= 6 and vs_ideal <= 1.3 and rss_ratio <= 1.5,
    }
