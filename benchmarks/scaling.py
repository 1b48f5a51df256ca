"""How cost grows with the work: call logs, trigger fan-out and leads at three sizes each.

Each curve is measured in this run, every size against the others: time per unit at the
largest size against a middle one, peak RSS at the largest against the smallest. The
figures carry their points, so ``--plots`` draws them without measuring again.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
from typing import Any

from benchmarks._harness import MEASURE, TODAY, emulator_process, margin, median_of

#: The operator in a fresh interpreter: warmed up on a small window, then run on the day;
#: prints its wall and CPU seconds, rows and the process's peak RSS (Airflow included).
_PROBE = """
import json, os, sys, time
kind, url, out_dir, day = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
connection = {"conn_type": "convoso", "host": url, "password": "emulator-token"}
os.environ["AIRFLOW_CONN_CONVOSO_DEFAULT"] = json.dumps(connection)
if kind == "calls":
    from airflow_provider_convoso.operators.call_logs import CallLogsOperator as Operator
    extra = {"max_concurrency": 8}
else:
    from airflow_provider_convoso.operators.leads import LeadsOperator as Operator
    extra = {}

def run(window):
    path = os.path.join(out_dir, kind + "-" + window["end"][:10] + ".jsonl")
    if kind == "calls":
        times = {"start_time": window["start"], "end_time": window["end"]}
    else:
        times = {"updated_start": window["start"], "updated_end": window["end"]}
    result = Operator(task_id=kind, output_path=path, **times, **extra).execute({})
    return {"rows": result["rows"], "pages": result["pages"]}

run({"start": "2026-03-01 00:00:00", "end": "2026-03-01 00:00:59"})  # warm-up: code, not data
work = {"start": day + " 00:00:00", "end": day + " 23:59:59"}
""" + MEASURE.replace(
    'print(json.dumps({"seconds"',
    # VmHWM is this process's own peak; ru_maxrss would start from the parent's (it
    # survives the fork and exec that start the probe).
    'peak_rss = int(next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1]) * 1024\n'
    'print(json.dumps({"peak_rss": peak_rss, "seconds"',
)


def _operator_run(kind: str, url: str, day: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        out = subprocess.run(
            [sys.executable, "-c", _PROBE, kind, url, scratch, day], capture_output=True, text=True, check=True
        ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _curve(points: list[dict[str, Any]], unit: str) -> dict[str, Any]:
    """Per-unit time of the largest size against the middle one, RSS of the largest against the smallest."""
    small, middle, large = points
    return {
        "time_per_unit_large_vs_middle": round(large[f"us_per_{unit}"] / middle[f"us_per_{unit}"], 3),
        "rss_large_vs_small": round(large["peak_rss_mib"] / small["peak_rss_mib"], 3),
    }


def bench_calllogs_scale(sizes: tuple[int, ...], latency: float, runs: int) -> dict[str, Any]:
    """Call logs of one account-local day at each size: the read (8 in flight) and the operator's memory.

    :param sizes: calls in the day, smallest first (three).
    :param latency: the emulator's latency per request, seconds.
    :param runs: reads per size (medians).
    :return: the figure.
    """
    from benchmarks._harness import convoso_connection
    from benchmarks.call_logs import _calls_per_agent, read_day

    agents, day = 200, "2026-03-02"
    points: list[dict[str, Any]] = []
    for calls in sizes:
        scale, total = _calls_per_agent(agents, calls)
        args = ("--agents", str(agents), "--calls-per-agent", str(scale), "--latency", str(latency))
        with emulator_process(*args) as url:
            os.environ["AIRFLOW_CONN_CONVOSO_CALLS"] = convoso_connection(url)
            read_day(8)  # warm-up: the emulator builds and encodes the day once
            reads = [read_day(8) for _ in range(runs)]
            operator = _operator_run("calls", url, day)
        assert operator["rows"]["rows"] == total, (operator["rows"], total)
        wall, requests = median_of([r[0] for r in reads]), reads[0][2]
        ideal = math.ceil(requests / 8) * latency
        points.append(
            {
                "size": total,
                "requests": requests,
                "read_s": round(wall, 3),
                "read_cpu_s": round(median_of([r[1] for r in reads]), 3),
                "ideal_s": round(ideal, 3),
                "vs_ideal": round(wall / ideal, 3),
                "us_per_call": round(wall / total * 1e6, 3),
                "operator_s": round(operator["seconds"], 3),
                "operator_us_per_call": round(operator["seconds"] / total * 1e6, 3),
                "peak_rss_mib": round(operator["peak_rss"] / 2**20, 1),
            }
        )
    curve = _curve(points, "call")
    vs_ideal = points[-1]["vs_ideal"]
    per_call, rss = curve["time_per_unit_large_vs_middle"], curve["rss_large_vs_small"]
    return {
        "name": f"Call logs scale: {' -> '.join(str(p['size']) for p in points)} calls in a day: the read "
        f"@ {int(latency * 1000)} ms, 8 in flight, and the operator's peak RSS",
        "points": points,
        **curve,
        "vs_ideal": vs_ideal,
        "target": "read time per call at the largest <= 1.15x the middle and <= 1.3x the ideal; "
        "the operator's peak RSS <= 1.5x the smallest",
        "margin": min(margin(per_call, 1.15), margin(vs_ideal, 1.3), margin(rss, 1.5)),
        "met": per_call <= 1.15 and vs_ideal <= 1.3 and rss <= 1.5,
    }


def bench_leads_scale(sizes: tuple[int, ...], latency: float, runs: int) -> dict[str, Any]:
    """A day of lead changes at each size: the operator's run, the sizes interleaved.

    :param sizes: leads changed in the day, smallest first (three).
    :param latency: the emulator's latency per request, seconds.
    :param runs: operator runs per size (medians), one size after another in each round, so
        a machine that slows down for a while slows every size alike.
    :return: the figure.
    """
    day = TODAY.isoformat()
    samples: dict[int, list[dict[str, Any]]] = {leads: [] for leads in sizes}
    with contextlib.ExitStack() as emulators:
        urls = {
            leads: emulators.enter_context(
                emulator_process("--leads-per-day", str(leads), "--lead-days", "2", "--latency", str(latency))
            )
            for leads in sizes
        }
        for url in urls.values():
            _operator_run("leads", url, day)  # warm-up: the emulator encodes each lead once
        for _ in range(runs):
            for leads, url in urls.items():
                sample = _operator_run("leads", url, day)
                assert sample["rows"]["rows"] == leads, (sample["rows"], leads)
                samples[leads].append(sample)
    points: list[dict[str, Any]] = []
    for leads, runs_of_size in samples.items():
        seconds = median_of([f["seconds"] for f in runs_of_size])
        points.append(
            {
                "size": leads,
                "seconds": round(seconds, 3),
                "cpu_seconds": round(median_of([f["cpu_seconds"] for f in runs_of_size]), 3),
                "us_per_lead": round(seconds / leads * 1e6, 3),
                "peak_rss_mib": round(max(f["peak_rss"] for f in runs_of_size) / 2**20, 1),
            }
        )
    curve = _curve(points, "lead")
    per_lead, rss = curve["time_per_unit_large_vs_middle"], curve["rss_large_vs_small"]
    return {
        "name": f"Leads scale: {' -> '.join(str(p['size']) for p in points)} leads changed in a day, "
        f"the operator's run @ {int(latency * 1000)} ms",
        "points": points,
        **curve,
        "runs": runs,
        "target": "time per lead at the largest <= 1.15x the middle; peak RSS <= 1.5x the smallest",
        "margin": min(margin(per_lead, 1.15), margin(rss, 1.5)),
        "met": per_lead <= 1.15 and rss <= 1.5,
    }


def bench_triggers_scale(sizes: tuple[int, ...], latency: float, poke_interval: float, runs: int) -> dict[str, Any]:
    """Deferred triggers in one loop at each size, and as many HttpSensorTriggers at the largest.

    :param sizes: trigger counts, smallest first.
    :param latency: the emulator's latency per request, seconds.
    :param poke_interval: each trigger's interval, seconds.
    :param runs: samples per point (medians).
    :return: the figure.
    """
    from benchmarks.trigger_fanout import POLLS, fanout_measure

    points: list[dict[str, Any]] = []
    largest = max(sizes)
    peer: list[tuple[float, float]] = []
    samples: dict[int, list[tuple[float, float]]] = {size: [] for size in sizes}
    fanout_measure("ours", min(sizes), largest, latency, poke_interval)  # warm-up: first-use imports and setup
    for _ in range(runs):  # interleaved
        for size in sizes:
            samples[size].append(fanout_measure("ours", size, largest, latency, poke_interval))
        peer.append(fanout_measure("peer", largest, largest, latency, poke_interval))

    def point(size: int, runs_of_size: list[tuple[float, float]]) -> dict[str, Any]:
        wall, cpu = median_of([w for w, _ in runs_of_size]), median_of([c for _, c in runs_of_size])
        return {
            "size": size,
            "wall_s": round(wall, 3),
            "loop_cpu_s": round(cpu, 3),
            "loop_cpu_ms_per_poll": round(cpu / (size * POLLS) * 1000, 4),
        }

    points.extend(point(size, samples[size]) for size in sizes)
    peer_point = point(largest, peer)
    peer_wall = median_of([w for w, _ in peer])
    per_poll = points[-1]["loop_cpu_ms_per_poll"] / points[0]["loop_cpu_ms_per_poll"]
    vs_peer = points[-1]["wall_s"] / peer_wall
    cpu_vs_peer = points[-1]["loop_cpu_ms_per_poll"] / peer_point["loop_cpu_ms_per_poll"]
    return {
        "name": f"Trigger fan-out scale: {' -> '.join(str(p['size']) for p in points)} triggers in one loop, "
        f"vs {largest} HttpSensorTriggers ({int(latency * 1000)} ms, data on poll {POLLS})",
        "points": points,
        "peer": peer_point,
        "cpu_per_poll_large_vs_small": round(per_poll, 3),
        "wall_vs_peer": round(vs_peer, 3),
        "loop_cpu_vs_peer": round(cpu_vs_peer, 3),
        "runs": runs,
        "target": "loop CPU per poll at the largest <= 1.2x the smallest; ahead of the peer in wall time and CPU",
        "margin": min(margin(per_poll, 1.2), margin(vs_peer, 1.0), margin(cpu_vs_peer, 1.0)),
        "met": per_poll <= 1.2 and vs_peer <= 1.0 and cpu_vs_peer <= 1.0,
    }
