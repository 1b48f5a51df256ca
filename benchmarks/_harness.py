"""What every figure shares: same-run baselines, wall beside CPU, the emulator, the table."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


TODAY = dt.date(2026, 3, 3)


def median_of(samples: list[float]) -> float:
    return statistics.median(samples)


def emulator_process(*args: str) -> contextlib.AbstractContextManager[str]:
    """The emulator in its own process, as the real API would be; yields its base URL."""
    from airflow_provider_convoso.testing import emulator_process

    return emulator_process("--today", TODAY.isoformat(), *args)


def wall_cpu_ms(samples: list[tuple[float, float]]) -> dict[str, float]:
    """Median wall and CPU milliseconds of ``(wall_s, cpu_s)`` samples."""
    return {
        "wall_ms": round(median_of([w for w, _ in samples]) * 1000, 3),
        "cpu_ms": round(median_of([c for _, c in samples]) * 1000, 3),
    }


def margin(value: float, limit: float, *, higher_is_better: bool = False) -> float:
    """How far inside its target a figure is: 0.2 means 20 % of headroom."""
    return round((value / limit if higher_is_better else limit / value) - 1, 3)


def timed(call: Callable[[], Any], *, collect: bool = False) -> tuple[float, float]:
    """Wall and process CPU seconds of ``call()``; ``collect`` starts it after a full collection."""
    if collect:
        collect_garbage()
    start, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - start, time.process_time() - cpu


def collect_garbage() -> None:
    """Collect garbage before a multi-second sample.

    Python collects its oldest objects (here: all of Airflow) once enough survivors pile
    up, 0.2 s or more of CPU with Airflow loaded, in whichever sample crosses the line.
    Each sample starting from a collected heap measures the code, not that luck; the
    peers' samples start the same way.
    """
    gc.collect()


def http_connection(url: str) -> str:
    """An HTTP-provider connection to the emulator at ``url``."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return json.dumps({"conn_type": "http", "host": host, "port": int(port), "schema": "http"})


def convoso_connection(url: str) -> str:
    return json.dumps({"conn_type": "convoso", "host": url, "password": "emulator-token"})


FORM = {"auth_token": "emulator-token", "date_start": "2026-03-01", "date_end": "2026-03-03"}


FORM_TYPE = "application/x-www-form-urlencoded"


def print_table(results: list[dict[str, Any]]) -> None:
    for result in results:
        print(f"\n{result['name']}")
        for key, value in result.items():
            if key in ("name", "figures", "end_to_end", "id"):
                continue
            shown = "  ".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else value
            print(f"  {key:14} {shown}")
        for mode, figures in result.get("figures", {}).items():
            print(f"  {mode:14} " + "  ".join(f"{k}={v}" for k, v in figures.items()))
        for mode, figures in result.get("end_to_end", {}).items():
            print(f"  e2e {mode:13} " + "  ".join(f"{k}={v}" for k, v in figures.items()))


#: Run ``run(work)`` in a probe subprocess and print its wall time, CPU time, rows and peak RSS.
MEASURE = """
from airflow_provider_convoso.testing import peak_memory
start, cpu = time.perf_counter(), time.process_time()
rows, peak = peak_memory(lambda: run(work))
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "rows": rows, "peak_rss_delta": peak}))
"""
