"""Trigger fan-out: many deferred triggers in one loop, beside the HTTP provider's trigger."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from benchmarks._harness import (
    TODAY,
    collect_garbage,
    convoso_connection,
    emulator_process,
    http_connection,
    margin,
    median_of,
)

POLLS = 3  # the data shows up on each trigger's third poll
_ENDPOINT = "/v1/agent-performance/search"


async def _first_event(run: AsyncIterator[Any]) -> Any:
    async for event in run:
        return event.payload
    return None


def _agents(triggers: int) -> int:
    return max(triggers * 5 // 4, 12)  # about 10 % of agents have a day off


def _pollers(triggers: int, poke_interval: float) -> dict[str, Callable[[int, str], Any]]:
    """Each kind of poller of one agent's day, by name: ``ours``, ``peer``, ``httpx``, ``aiohttp``."""
    import ssl

    from airflow.providers.http.triggers.http import HttpSensorTrigger

    from airflow_provider_convoso.testing import ConvosoEmulator
    from airflow_provider_convoso.triggers.agent_performance import AgentPerformanceTrigger

    active = [row["user_id"] for row in ConvosoEmulator(agents=_agents(triggers), today=TODAY).records({})]

    async def ours(index: int, url: str) -> bool:
        trigger = AgentPerformanceTrigger(
            convoso_conn_id="convoso_fanout",
            params={"user_ids": active[index]},
            poke_interval=poke_interval,
            end_time=time.time() + 300,
        )
        return (await _first_event(trigger.run()))["status"] == "success"

    async def http_provider(index: int, url: str) -> bool:
        trigger = HttpSensorTrigger(
            endpoint=_ENDPOINT,
            http_conn_id="http_fanout",
            method="POST",
            data={"auth_token": "emulator-token", "user_ids": active[index]},
            poke_interval=poke_interval,
        )
        return (await _first_event(trigger.run())) is True

    tls = ssl.create_default_context()  # one for all pollers, as a careful httpx user would share it

    async def bare_httpx(index: int, url: str) -> bool:
        import httpx

        form = {"auth_token": "emulator-token", "user_ids": active[index]}
        async with httpx.AsyncClient(timeout=30, verify=tls) as client:
            for _ in range(POLLS + 2):
                response = await client.post(url + _ENDPOINT, data=form)
                if json.loads(response.content).get("data"):
                    return True
                await asyncio.sleep(poke_interval)
        return False

    async def bare_aiohttp(index: int, url: str) -> bool:
        import aiohttp

        form = {"auth_token": "emulator-token", "user_ids": active[index]}
        async with aiohttp.ClientSession() as session:
            for _ in range(POLLS + 2):
                async with session.post(url + _ENDPOINT, data=form) as response:
                    if json.loads(await response.read()).get("data"):
                        return True
                await asyncio.sleep(poke_interval)
        return False

    return {"ours": ours, "peer": http_provider, "httpx": bare_httpx, "aiohttp": bare_aiohttp}


def fanout_measure(kind: str, count: int, population: int, latency: float, poke_interval: float) -> tuple[float, float]:
    """Wall seconds and event-loop CPU seconds of ``count`` pollers of one kind in one loop.

    :param kind: ``ours``, ``peer`` (``HttpSensorTrigger``), ``httpx`` or ``aiohttp``.
    :param count: pollers in the loop.
    :param population: the largest count of the run (it sizes the emulator's agents).
    :param latency: the emulator's latency per request, seconds.
    :param poke_interval: each poller's interval, seconds.
    :return: ``(wall_s, loop_cpu_s)``.
    """
    poller = _pollers(population, poke_interval)[kind]
    # The emulator runs in its own process, as the real API would: the figure is about
    # the triggers' event loop, not an in-process server competing for the GIL.
    args = ("--agents", str(_agents(population)), "--shape", "data", "--latency", str(latency))
    args += ("--data-after-requests", str(POLLS - 1))
    if kind == "peer":
        args += ("--not-ready-status", "404")
    with emulator_process(*args) as url:
        os.environ["AIRFLOW_CONN_CONVOSO_FANOUT"] = convoso_connection(url)
        os.environ["AIRFLOW_CONN_HTTP_FANOUT"] = http_connection(url)

        async def all_of_them() -> list[bool]:
            return list(await asyncio.gather(*(poller(i, url) for i in range(count))))

        collect_garbage()
        start, loop_cpu = time.perf_counter(), time.thread_time()  # the loop runs in this thread
        outcomes = asyncio.run(all_of_them())
        wall, loop_cpu = time.perf_counter() - start, time.thread_time() - loop_cpu
    assert outcomes == [True] * count, outcomes
    return wall, loop_cpu


def bench_trigger_fanout(triggers: int, latency: float, poke_interval: float, runs: int) -> dict[str, Any]:
    def measure(kind: str, count: int) -> tuple[float, float]:
        return fanout_measure(kind, count, triggers, latency, poke_interval)

    samples: dict[str, list[tuple[float, float]]] = {"single": [], "ours": [], "peer": [], "httpx": [], "aiohttp": []}
    for _ in range(runs):  # interleaved, so a change in the host's load hits all five
        samples["single"].append(measure("ours", 1))
        samples["ours"].append(measure("ours", triggers))
        samples["peer"].append(measure("peer", triggers))
        samples["httpx"].append(measure("httpx", triggers))
        samples["aiohttp"].append(measure("aiohttp", triggers))

    def figures(kind: str) -> dict[str, float]:
        count = 1 if kind == "single" else triggers
        wall, cpu = median_of([w for w, _ in samples[kind]]), median_of([c for _, c in samples[kind]])
        return {
            "wall_s": round(wall, 3),
            "loop_cpu_s": round(cpu, 3),
            "loop_cpu_ms_per_poll": round(cpu / (count * POLLS) * 1000, 3),
        }

    result = {kind: figures(kind) for kind in samples}
    ratio = result["ours"]["wall_s"] / result["single"]["wall_s"]
    vs_peer = result["ours"]["wall_s"] / result["peer"]["wall_s"]
    cpu_vs_httpx = result["ours"]["loop_cpu_ms_per_poll"] / result["httpx"]["loop_cpu_ms_per_poll"]
    return {
        "name": (
            f"Trigger fan-out: {triggers} triggers in one loop vs 1, vs {triggers} HttpSensorTriggers, "
            f"vs {triggers} bare httpx pollers ({int(latency * 1000)} ms, data on poll {POLLS})"
        ),
        "ours": result["ours"],
        "baseline": result["single"],
        "peer": result["peer"],
        "httpx": result["httpx"],
        "aiohttp": result["aiohttp"],
        "ratio": round(ratio, 3),
        "vs_peer": round(vs_peer, 3),
        "loop_cpu_vs_httpx": round(cpu_vs_httpx, 3),
        "runs": runs,
        "target": "ratio <= 2.0; no slower than HttpSensorTrigger; loop CPU per poll <= 0.5x a bare httpx poll",
        "margin": min(margin(ratio, 2.0), margin(vs_peer, 1.0), margin(cpu_vs_httpx, 0.5)),
        "met": ratio <= 2.0 and vs_peer <= 1.0 and cpu_vs_httpx <= 0.5,
    }
