"""Sensor poke: one poke beside the HTTP provider's HttpSensor."""

from __future__ import annotations

import os
from typing import Any

from benchmarks._harness import (
    FORM,
    convoso_connection,
    emulator_process,
    http_connection,
    margin,
    median_of,
    timed,
    wall_cpu_ms,
)


def bench_sensor_poke(pokes: int) -> dict[str, Any]:
    from airflow.providers.http.sensors.http import HttpSensor

    from airflow_provider_convoso.sensors.agent_performance import AgentPerformanceSensor

    with emulator_process("--agents", "50", "--shape", "data") as url:
        os.environ["AIRFLOW_CONN_CONVOSO_BENCH"] = convoso_connection(url)
        os.environ["AIRFLOW_CONN_HTTP_BENCH"] = http_connection(url)
        ours = AgentPerformanceSensor(
            task_id="ours", convoso_conn_id="convoso_bench", date_start="2026-03-01", date_end="2026-03-03"
        )
        peer = HttpSensor(
            task_id="peer",
            http_conn_id="http_bench",
            endpoint="/v1/agent-performance/search",
            method="POST",
            request_params=FORM,
            response_check=lambda response: len(response.json()["data"]) >= 1,
        )
        assert ours.poke({})  # type: ignore[arg-type]
        assert peer.poke({})  # type: ignore[arg-type]
        samples: dict[str, list[tuple[float, float]]] = {"ours": [], "peer": []}
        for _ in range(pokes):
            samples["ours"].append(timed(lambda: ours.poke({})))  # type: ignore[arg-type]
            samples["peer"].append(timed(lambda: peer.poke({})))  # type: ignore[arg-type]
    ratio = median_of([w for w, _ in samples["ours"]]) / median_of([w for w, _ in samples["peer"]])
    return {
        "name": "Sensor poke: AgentPerformanceSensor vs HttpSensor with a response_check, 50 agents",
        "ours": wall_cpu_ms(samples["ours"]),
        "peer": wall_cpu_ms(samples["peer"]),
        "vs_peer": round(ratio, 3),
        "target": "ahead of HttpSensor (vs_peer < 1)",
        "margin": margin(ratio, 1.0),
        "met": ratio < 1,
        "pokes": pokes,
    }
