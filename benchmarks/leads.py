"""Leads: a large export against the ideal sequential paging, and its memory against a tenth of it."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from typing import Any

from benchmarks._harness import MEASURE, TODAY, convoso_connection, emulator_process, margin, median_of, timed

_LEADS_MEMORY_PROBE = """
import json, os, sys, time, tempfile
mode, url, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
connection = {"conn_type": "convoso", "host": url, "password": "emulator-token"}
os.environ["AIRFLOW_CONN_CONVOSO_DEFAULT"] = json.dumps(connection)
from airflow_provider_convoso.operators.leads import LeadsOperator

def run(day):
    path = os.path.join(out_dir, "leads-" + day + ".jsonl")
    return LeadsOperator(task_id="leads", date=day, output_path=path).execute({})["rows"]

run("2026-03-02")  # warm-up: another day of the same size
work = "2026-03-03"
""" + MEASURE.replace(
    'print(json.dumps({"seconds"',
    "import resource\npeak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
    'print(json.dumps({"peak_rss": peak_rss, "seconds"',
)

_WINDOW = (f"{TODAY.isoformat()} 00:00:00", f"{TODAY.isoformat()} 23:59:59")


def bench_leads(leads: int, latency: float, runs: int) -> dict[str, Any]:
    from airflow_provider_convoso.endpoints.leads.query import MAX_LIMIT, LeadsQuery
    from airflow_provider_convoso.hooks.convoso import ConvosoHook
    from airflow_provider_convoso.spool import BodySpool

    query = LeadsQuery.from_inputs(updated_at_start_date=_WINDOW[0], updated_at_end_date=_WINDOW[1])

    def read() -> tuple[float, float, int, int]:
        with BodySpool() as spool:
            stats: list[Any] = []
            wall, cpu = timed(lambda: stats.append(ConvosoHook("convoso_leads").read_leads(query, spool)), collect=True)
        return wall, cpu, stats[0].pages, len(stats[0].last_page)

    args = ("--leads-per-day", str(leads), "--lead-days", "2")
    with emulator_process(*args, "--latency", str(latency)) as url:
        os.environ["AIRFLOW_CONN_CONVOSO_LEADS"] = convoso_connection(url)
        read()  # warm-up: the emulator encodes each lead once
        samples = [read() for _ in range(runs)]
    wall, cpu = median_of([s[0] for s in samples]), median_of([s[1] for s in samples])
    pages, read_leads = samples[0][2], samples[0][3]
    assert read_leads == leads, (read_leads, leads)
    ideal = math.ceil(leads / MAX_LIMIT) * latency
    vs_ideal = wall / ideal
    memory: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for label, count in (("small", leads // 10), ("large", leads)):
            with emulator_process("--leads-per-day", str(count), "--lead-days", "2") as url:
                out = subprocess.run(
                    [sys.executable, "-c", _LEADS_MEMORY_PROBE, label, url, scratch],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            assert figures["rows"] == count, (figures["rows"], count)
            memory[label] = {
                "leads": count,
                "peak_rss_mib": round(figures["peak_rss"] / 2**20, 1),
                "peak_rise_mib": round(figures["peak_rss_delta"] / 2**20, 1),
                "seconds": round(figures["seconds"], 2),
            }
    rss_ratio = memory["large"]["peak_rss_mib"] / memory["small"]["peak_rss_mib"]
    return {
        "name": f"Leads: a {leads}-lead export ({pages} pages) @ {int(latency * 1000)} ms, against ideal paging",
        "ours": {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)},
        "ideal_s": round(ideal, 3),
        "vs_ideal": round(vs_ideal, 3),
        "memory": {
            label: f"{m['leads']} leads: peak RSS {m['peak_rss_mib']} MiB (rise {m['peak_rise_mib']}), {m['seconds']} s"
            for label, m in memory.items()
        },
        "rss_large_vs_small": round(rss_ratio, 2),
        "target": "vs_ideal <= 1.3 (pages one after another), peak RSS of 10x the leads <= 1.5x",
        "margin": min(margin(vs_ideal, 1.3), margin(rss_ratio, 1.5)),
        "met": vs_ideal <= 1.3 and rss_ratio <= 1.5,
    }
