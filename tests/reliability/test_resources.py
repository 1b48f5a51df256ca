"""Nothing left open: sessions, connectors, sockets and threads released on every path.

The async API is used as DAG authors write it (``asyncio.run(hook.aget_...())``, no
``aclose()``), cancelled mid-request, failed mid-call and dropped; each path is checked by
what the process holds afterwards and by what Python and aiohttp report at exit.
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from support import FAST_RETRIES, TODAY, TOKEN

from airflow_provider_convoso.compat import aget_connection
from airflow_provider_convoso.exceptions import ConvosoAuthError, ConvosoTransientError
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.testing import ConvosoEmulator
from airflow_provider_convoso.triggers.agent_performance import AgentPerformanceTrigger

# A script as a DAG author writes it: no aclose(), no `async with`. -X dev shows every
# ResourceWarning, and aiohttp reports an unclosed session or connector on stderr when it
# is collected; both make this script's run fail the test.
_AS_USERS_WRITE_IT = """
import asyncio, gc, os, sys, warnings
warnings.simplefilter("error", ResourceWarning)
from airflow_provider_convoso.compat import aget_connection
from airflow_provider_convoso.exceptions import ConvosoAuthError, ConvosoTransientError
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.endpoints.agent_performance.query import AgentPerformanceQuery
from airflow_provider_convoso.testing import ConvosoEmulator

with ConvosoEmulator(token="tok-x", today=__import__("datetime").date(2026, 3, 3)) as emulator:
    os.environ["AIRFLOW_CONN_CONVOSO_DEFAULT"] = emulator.connection_json(retry_backoff=0.001)
    hook = ConvosoHook()
    rows = asyncio.run(hook.aget_agent_performance(date_start="2026-03-02"))
    assert len(rows) == 12, rows
    rows, digest = asyncio.run(hook.afingerprint(AgentPerformanceQuery()))
    # Two calls at once on one hook, then a failing one: each path closes what it opened.
    async def both():
        return await asyncio.gather(hook.aget_agent_performance(), hook.acount(AgentPerformanceQuery()))
    asyncio.run(both())
    os.environ["AIRFLOW_CONN_CONVOSO_BAD"] = emulator.connection_json(retry_backoff=0.001).replace("tok-x", "tok-wrong")
    try:
        asyncio.run(ConvosoHook(convoso_conn_id="convoso_bad").aget_agent_performance())
    except ConvosoAuthError:
        pass
    else:
        raise SystemExit("no auth error")
    # The sync API the same way: each call closes the client it opened.
    assert len(hook.get_agent_performance(date_start="2026-03-02")) == 12
    assert hook.get_lookup("campaigns")
    assert list(hook.iter_agent_productivity(__import__("datetime").date(2026, 3, 2)))
    assert hook.test_connection()[0]
    del hook
    gc.collect()
print("clean")
"""


def test_the_async_api_without_aclose_leaves_nothing_open() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-c", _AS_USERS_WRITE_IT],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "error::ResourceWarning"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("clean")
    for leak in ("Unclosed", "ResourceWarning", "unclosed"):
        assert leak not in result.stderr, result.stderr[-3000:]


@pytest.fixture
def slow_emulator() -> Iterator[ConvosoEmulator]:
    with ConvosoEmulator(token=TOKEN, today=TODAY) as running:
        yield running


def _held(emulator: ConvosoEmulator) -> tuple[int, int, int]:
    """Client sockets to the emulator, open files and threads this process holds, the
    emulator's own (its listening socket, a handler thread per request) left out.

    Airflow's async connection lookup starts a process-wide thread pool on first use
    (asgiref's, kept for the process's life): one lookup before the first count puts it
    in both counts.
    """
    asyncio.run(aget_connection("convoso_default"))
    process = psutil.Process()
    clients = [c for c in process.net_connections(kind="inet") if c.raddr and c.raddr.port == emulator.port]
    threads = [t for t in threading.enumerate() if "process_request" not in t.name]
    return len(clients), len(process.open_files()), len(threads)


async def _until(condition: object, seconds: float = 10.0) -> None:
    """Wait, a loop tick at a time, until ``condition()`` holds (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


def test_a_trigger_cancelled_mid_request_closes_its_session(
    slow_emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sensor timing out or a triggerer shutting down cancels the trigger while it waits on Convoso."""
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", slow_emulator.connection_json(**FAST_RETRIES))
    slow_emulator.configure(latency=30)
    before = _held(slow_emulator)
    sessions: list[object] = []

    async def cancel_mid_request() -> None:
        trigger = AgentPerformanceTrigger(convoso_conn_id="convoso_default", params={}, poke_interval=0.01)
        events = trigger.run()
        poll = asyncio.ensure_future(events.__anext__())
        await _until(lambda: len(slow_emulator.requests) == 1)
        from airflow_provider_convoso.hooks import _sessions

        sessions.append(_sessions.open_sessions())
        poll.cancel()
        with pytest.raises(asyncio.CancelledError):
            await poll
        await events.aclose()
        sessions.append(_sessions.open_sessions())

    asyncio.run(cancel_mid_request())
    gc.collect()
    assert sessions == [1, 0]
    assert _held(slow_emulator) == before


def test_a_failing_call_and_a_dropped_hook_leave_no_socket_or_thread(
    slow_emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", slow_emulator.connection_json(**FAST_RETRIES))
    before = _held(slow_emulator)
    hook = ConvosoHook()
    assert len(asyncio.run(hook.aget_agent_performance())) == 12
    wrong = slow_emulator.connection_json(**FAST_RETRIES).replace(TOKEN, "tok-wrong")
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_BAD", wrong)
    with pytest.raises(ConvosoAuthError):
        asyncio.run(ConvosoHook(convoso_conn_id="convoso_bad").aget_agent_performance())
    del hook
    gc.collect()
    assert _held(slow_emulator) == before


def test_a_hook_kept_open_by_async_with_serves_every_call_on_one_session(
    slow_emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", slow_emulator.connection_json(**FAST_RETRIES))
    seen: list[object] = []

    async def three_calls() -> None:
        async with ConvosoHook() as hook:
            for _ in range(3):
                await hook.aget_agent_performance()
                seen.append(await hook.aget_conn())
            assert not seen[-1].closed  # type: ignore[attr-defined]
        assert seen[-1].closed  # type: ignore[attr-defined]

    asyncio.run(three_calls())
    assert len({id(session) for session in seen}) == 1


def test_an_error_mid_pages_closes_every_connection(
    slow_emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call-log read failing on its third page, pages in flight beside it, unpinned and pinned."""
    from airflow_provider_convoso.endpoints.call_logs.query import CallLogsQuery
    from airflow_provider_convoso.spool import BodySpool

    monkeypatch.setenv(
        "AIRFLOW_CONN_CONVOSO_DEFAULT", slow_emulator.connection_json(**{**FAST_RETRIES, "max_retries": 0})
    )
    before = _held(slow_emulator)
    window = {"start_time": "2026-03-02 00:00:00", "end_time": "2026-03-02 23:59:59"}
    slow_emulator.configure(limit_clamp=20, faults=[None, None, "500"])
    hook = ConvosoHook()
    with BodySpool() as spool, pytest.raises(ConvosoTransientError):
        asyncio.run(hook.afetch_call_log_pages(CallLogsQuery.from_inputs(**window), spool))
    slow_emulator.configure(faults=[None, None, "500"])
    with pytest.raises(ConvosoTransientError):
        list(hook.iter_call_logs(**window))
    assert len(slow_emulator.requests) > 6  # pages were in flight when each read failed
    gc.collect()
    assert _held(slow_emulator) == before


def test_recordings_and_a_failing_leads_export_leave_nothing_open(
    slow_emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Downloads that fail (404s, tiny bodies, timeouts) and a leads export failing mid-pages."""
    from airflow_provider_convoso._tempfiles import TEMP_PREFIX
    from airflow_provider_convoso.operators.call_recordings import CallRecordingsOperator

    options = {**FAST_RETRIES, "max_retries": 0, "timeout": 0.3}
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", slow_emulator.connection_json(**options))
    before = _held(slow_emulator)
    # This process's temporary names only: another suite may share the folder (CI runs two at once).
    scratch, ours = Path(tempfile.gettempdir()), f"{TEMP_PREFIX}*-{os.getpid()}-*"
    leftovers = set(scratch.glob(ours))
    slow_emulator.configure(recording_missing_every=3, recording_tiny_every=4)
    result = CallRecordingsOperator(task_id="r", date="2026-03-02", output_path=str(tmp_path / "a")).execute({})
    assert result["downloaded"] and result["failed"]
    slow_emulator.configure(recording_latency=2)  # every download times out
    result = CallRecordingsOperator(
        task_id="r", date="2026-03-02", user_id="10001", output_path=str(tmp_path / "b")
    ).execute({})
    assert result["failed"] == result["recordings"] > 0
    slow_emulator.configure(leads_per_day=5000, faults=[None, "500"])
    with pytest.raises(ConvosoTransientError):
        list(ConvosoHook().iter_leads("2026-03-02 00:00:00", "2026-03-02 23:59:59"))
    gc.collect()
    assert _held(slow_emulator) == before
    assert set(scratch.glob(ours)) == leftovers
