"""DAG-parse cost: importing the operator and sensor modules, beside a DAG file that imports nothing of ours."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import Any

from benchmarks._harness import margin, median_of, wall_cpu_ms

_IMPORT_PROBE = """
import sys, time
try:
    from airflow.sdk import BaseHook, BaseOperator, BaseSensorOperator
except ImportError:
    from airflow.hooks.base import BaseHook
    from airflow.models import BaseOperator
    from airflow.sensors.base import BaseSensorOperator
start, cpu = time.perf_counter(), time.process_time()
for module in sys.argv[1:]:
    __import__(module)
print(time.perf_counter() - start, time.process_time() - cpu)
"""


def _import_cost(modules: list[str], env: dict[str, str]) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, *modules], capture_output=True, text=True, check=True, env=env
    )
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def bench_parse_cost(runs: int) -> dict[str, Any]:
    ours = [
        "airflow_provider_convoso.operators.agent_performance",
        "airflow_provider_convoso.operators.call_logs",
        "airflow_provider_convoso.operators.agent_productivity",
        "airflow_provider_convoso.operators.lookups",
        "airflow_provider_convoso.sensors.agent_performance",
    ]
    http = ["airflow.providers.http.operators.http", "airflow.providers.http.sensors.http"]
    # Deployed code is imported from bytecode (pip compiles a wheel when it installs it):
    # both sides get theirs compiled once into a scratch cache, whatever this shell says.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    ours_s, http_s = [], []
    with tempfile.TemporaryDirectory() as cache:
        env["PYTHONPYCACHEPREFIX"] = cache
        _import_cost(ours, env)  # compile and cache
        _import_cost(http, env)
        for _ in range(runs):  # interleaved, fresh interpreter each time
            ours_s.append(_import_cost(ours, env))
            http_s.append(_import_cost(http, env))
    ratio = median_of([w for w, _ in ours_s]) / median_of([w for w, _ in http_s])
    return {
        "name": "DAG-parse import cost (our four operators + sensor vs the HTTP provider's operator + sensor)",
        "ours": wall_cpu_ms(ours_s),
        "peer": wall_cpu_ms(http_s),
        "ratio": round(ratio, 3),
        "target": "<= 0.10",
        "margin": margin(ratio, 0.10),
        "met": ratio <= 0.10,
        "runs": runs,
    }
