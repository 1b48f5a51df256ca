"""Backfill concurrency: a month by day, against the ideal and a bare client's floor."""

from __future__ import annotations

import datetime as dt
import math
import os
from typing import Any

from benchmarks._harness import FORM_TYPE, convoso_connection, emulator_process, margin, median_of, timed


def bench_backfill(days: int, latency: float, runs: int) -> dict[str, Any]:
    from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator

    end = (dt.date(2026, 1, 1) + dt.timedelta(days=days - 1)).isoformat()

    def run(concurrency: int) -> tuple[float, float]:
        op = AgentPerformanceOperator(
            task_id=f"c{concurrency}",
            convoso_conn_id="convoso_backfill",
            date_start="2026-01-01",
            date_end=end,
            split_by_day=True,
            max_concurrency=concurrency,
        )
        rows: list[dict[str, Any]] = []
        wall, cpu = timed(lambda: rows.extend(op.execute({})), collect=True)
        assert len({r["date"] for r in rows}) == days
        return wall, cpu

    def floor(url: str) -> tuple[float, float]:
        """The same 31 requests from 8 threads of ``http.client``, bodies read and dropped:
        what this emulator allows a client that does nothing else."""
        import http.client
        from concurrent.futures import ThreadPoolExecutor

        host, port = url.removeprefix("http://").rsplit(":", 1)

        def post(day: int) -> None:
            date = (dt.date(2026, 1, 1) + dt.timedelta(days=day)).isoformat()
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            body = f"auth_token=emulator-token&date_start={date}&date_end={date}"
            connection.request("POST", "/v1/agent-performance/search", body, {"Content-Type": FORM_TYPE})
            connection.getresponse().read()
            connection.close()

        def all_days() -> None:
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(post, range(days)))

        return timed(all_days, collect=True)

    # The emulator runs in its own process, as the real API would: the operator's fetches
    # do not share a GIL with the server.
    with emulator_process("--latency", str(latency)) as url:
        os.environ["AIRFLOW_CONN_CONVOSO_BACKFILL"] = convoso_connection(url)
        run(8)  # warm-up
        serial_s, parallel_s, floor_s = [], [], []
        for _ in range(runs):  # interleaved
            serial_s.append(run(1))
            parallel_s.append(run(8))
            floor_s.append(floor(url))
    serial, parallel = median_of([w for w, _ in serial_s]), median_of([w for w, _ in parallel_s])
    ideal = math.ceil(days / 8) * latency
    speedup, vs_ideal = serial / parallel, parallel / ideal
    floor_wall = median_of([w for w, _ in floor_s])
    return {
        "name": f"Backfill split_by_day {days} days @ {int(latency * 1000)} ms (8 vs 1 in flight)",
        "ours": {"wall_s": round(parallel, 3), "cpu_s": round(median_of([c for _, c in parallel_s]), 3)},
        "baseline": {"wall_s": round(serial, 3), "cpu_s": round(median_of([c for _, c in serial_s]), 3)},
        "floor": {"wall_s": round(floor_wall, 3), "cpu_s": round(median_of([c for _, c in floor_s]), 3)},
        "speedup": round(speedup, 2),
        "ideal_s": round(ideal, 3),
        "vs_ideal": round(vs_ideal, 3),
        "floor_vs_ideal": round(floor_wall / ideal, 3),
        "target": "speedup >= 6 and vs_ideal <= 1.3",
        "margin": min(margin(speedup, 6, higher_is_better=True), margin(vs_ideal, 1.3)),
        "met": speedup >= 6 and vs_ideal <= 1.3,
    }
