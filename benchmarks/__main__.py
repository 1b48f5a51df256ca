"""Each figure is measured beside its baseline in the same run, on the loopback emulator.

python -m benchmarks                 # full sizes, prints a table
python -m benchmarks --json out.json # also writes the figures
python -m benchmarks --smoke         # tiny sizes (CI smoke test, not a timing)
python -m benchmarks --plots DIR     # also draws the scaling curves (needs the [bench] extra)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._harness import print_table
from benchmarks.backfill import bench_backfill
from benchmarks.call_logs import bench_call_logs
from benchmarks.leads import bench_leads
from benchmarks.parse_cost import bench_parse_cost
from benchmarks.payload import bench_digest_checks, bench_large_payload
from benchmarks.request_overhead import bench_request_overhead
from benchmarks.scaling import bench_calllogs_scale, bench_leads_scale, bench_triggers_scale
from benchmarks.sensor_poke import bench_sensor_poke
from benchmarks.trigger_fanout import bench_trigger_fanout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--plots", type=Path, help="draw the scaling curves as SVG files in this folder")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the benchmarks run, measures nothing")
    parser.add_argument(
        "--only",
        action="append",
        help="run only these: parse, requests, sensor, backfill, payload, triggers, calllogs, leads, "
        "calllogs_scale, triggers_scale, leads_scale, digest_checks",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    smoke = args.smoke
    plan: dict[str, Callable[[], dict[str, Any]]] = {
        "parse": lambda: bench_parse_cost(2 if smoke else 15),
        "requests": lambda: bench_request_overhead(10 if smoke else 500, 1 if smoke else 3),
        "sensor": lambda: bench_sensor_poke(5 if smoke else 200),
        "backfill": lambda: bench_backfill(5 if smoke else 31, 0.005 if smoke else 0.05, 1 if smoke else 9),
        "payload": lambda: bench_large_payload(200 if smoke else 20_000, 1 if smoke else 5),
        "triggers": lambda: bench_trigger_fanout(
            5 if smoke else 200, 0.005 if smoke else 0.05, 0.01 if smoke else 0.1, 1 if smoke else 5
        ),
        "calllogs": lambda: bench_call_logs(3_000 if smoke else 120_000, 0.005 if smoke else 0.05, 1 if smoke else 2),
        "leads": lambda: bench_leads(4_000 if smoke else 200_000, 0.005 if smoke else 0.05, 1 if smoke else 2),
        "calllogs_scale": lambda: bench_calllogs_scale(
            (600, 1_200, 2_400) if smoke else (12_000, 120_000, 1_200_000), 0.005 if smoke else 0.05, 1 if smoke else 2
        ),
        "triggers_scale": lambda: bench_triggers_scale(
            (5, 20) if smoke else (200, 2_000), 0.005 if smoke else 0.05, 0.01 if smoke else 0.1, 1 if smoke else 3
        ),
        "leads_scale": lambda: bench_leads_scale(
            (500, 1_000, 2_000) if smoke else (20_000, 200_000, 1_000_000), 0.005 if smoke else 0.05, 1 if smoke else 3
        ),
        "digest_checks": lambda: bench_digest_checks((20, 200) if smoke else (2_000, 20_000), 1 if smoke else 5),
    }
    results = []
    for name, run in plan.items():
        if args.only and name not in args.only:
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results.append({"id": name, **run()})
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "airflow": __import__("airflow").__version__,
        "smoke": smoke,
    }
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    if args.plots:
        from benchmarks.plots import draw

        for path in draw(results, args.plots):
            print(f"drew {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
