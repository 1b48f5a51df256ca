"""Request overhead: one agent-performance call beside raw httpx and the HTTP provider's hook."""

from __future__ import annotations

import json
import os
from typing import Any

from benchmarks._harness import FORM, convoso_connection, emulator_process, http_connection, margin, median_of, timed


def bench_request_overhead(calls: int, rounds: int) -> dict[str, Any]:
    import httpx
    from airflow.providers.http.hooks.http import HttpHook

    from airflow_provider_convoso.hooks.convoso import ConvosoHook

    with emulator_process("--agents", "50", "--shape", "data") as url:
        os.environ["AIRFLOW_CONN_CONVOSO_BENCH"] = convoso_connection(url)
        os.environ["AIRFLOW_CONN_HTTP_BENCH"] = http_connection(url)
        # Both sides keep their client between calls: the hook once ``get_conn()`` has opened
        # it, until ``close()`` (a call alone opens a client and closes it when it ends), the
        # raw side as one ``httpx.Client``. The peer's ``HttpHook.run`` opens a session a call.
        hook = ConvosoHook("convoso_bench")
        hook.get_conn()
        raw = httpx.Client()
        peer = HttpHook(method="POST", http_conn_id="http_bench")
        endpoint = "/v1/agent-performance/search"

        def ours() -> None:
            hook.get_agent_performance(date_start="2026-03-01", date_end="2026-03-03")

        def baseline() -> None:
            raw.post(url + endpoint, data=FORM).raise_for_status()

        def http_provider() -> None:
            json.loads(peer.run(endpoint, data=FORM).content)

        ours()
        assert len(json.loads(peer.run(endpoint, data=FORM).content)["data"]) == 50
        rounds_of: list[dict[str, list[tuple[float, float]]]] = []
        for _ in range(rounds):
            samples: dict[str, list[tuple[float, float]]] = {"ours": [], "baseline": [], "peer": []}
            for _ in range(calls):  # interleaved, so drift hits all three equally
                samples["baseline"].append(timed(baseline))
                samples["ours"].append(timed(ours))
                samples["peer"].append(timed(http_provider))
            rounds_of.append(samples)
        raw.close()
        hook.close()

    def median(kind: str, index: int) -> float:
        return median_of([median_of([s[index] for s in r[kind]]) for r in rounds_of])

    ratios = sorted(median_of([w for w, _ in r["ours"]]) / median_of([w for w, _ in r["baseline"]]) for r in rounds_of)
    ratio = median_of(ratios)
    vs_peer = median("ours", 0) / median("peer", 0)
    return {
        "name": (
            "Request: hook call incl. decode + typing of 50 agents, vs raw httpx post, "
            f"vs HttpHook.run + json.loads ({rounds} rounds)"
        ),
        "ours": {"wall_ms": round(median("ours", 0) * 1000, 3), "cpu_ms": round(median("ours", 1) * 1000, 3)},
        "baseline": {
            "wall_ms": round(median("baseline", 0) * 1000, 3),
            "cpu_ms": round(median("baseline", 1) * 1000, 3),
        },
        "peer": {"wall_ms": round(median("peer", 0) * 1000, 3), "cpu_ms": round(median("peer", 1) * 1000, 3)},
        "ratio": round(ratio, 3),
        "round_ratios": [round(r, 3) for r in ratios],
        "vs_peer": round(vs_peer, 3),
        "target": "<= 1.15 x raw httpx; ahead of the HTTP provider (vs_peer < 1)",
        "margin": margin(ratio, 1.15),
        "met": ratio <= 1.15 and vs_peer < 1,
        "calls": calls,
    }
