"""What tests share besides fixtures: the sentinel token, fast retries, and the fixtures' types."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from airflow_provider_convoso.hooks.convoso import ConvosoHook

#: Debian's Chromium, which the browser tests drive through Playwright (never a downloaded browser).
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def airflow_env(home: Path, settings: Mapping[str, str]) -> dict[str, str]:
    """Return the environment of an Airflow 3 process in ``home`` with the simple auth manager."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        **settings,
    }


@contextlib.contextmanager
def running_api_server(home: Path, settings: Mapping[str, str]) -> Iterator[str]:
    """Migrate ``home``'s database, run Airflow's API server on a free loopback port, and stop it.

    :param home: the Airflow home (SQLite database, logs).
    :param settings: ``AIRFLOW__…`` variables on top of :func:`airflow_env`'s.
    :return: the server's URL, once it answers its health check.
    """
    port = free_port()
    env = airflow_env(home, {**settings, "AIRFLOW__API__PORT": str(port)})
    airflow = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    log = (home / "api-server.log").open("wb")
    server = subprocess.Popen(
        [*airflow, "api-server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, (home / "api-server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the API server did not answer within 120 s"
            time.sleep(0.5)  # polling a starting server; the health check above is the readiness signal
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the API server's port is still open"


TOKEN = "tok-SENTINEL-5f3a9c2e7b1d"
TODAY = dt.date(2026, 3, 3)
FAST_RETRIES: dict[str, Any] = {"retry_backoff": 0.001, "retry_max_wait": 0.05, "timeout": 2}
#: The contract's first response example, as sent.
CONTRACT_AGENT: dict[str, Any] = {
    "user_id": "12345",
    "name": "Jane Smith",
    "calls": 45,
    "human_answered": 38,
    "talk_sec_pt": 65.5,
    "wait_sec_pt": 12.3,
    "pause_sec_pt": 15.2,
    "wrap_sec_pt": 7.0,
    "talk_sec": "09:45:30",
    "wait_sec": "01:52:15",
    "pause_sec": "02:17:45",
    "wrap_sec": "01:05:20",
    "total_time": "15:00:50",
    "am": 0,
    "others": 7,
    "am_pt": 0.0,
    "others_pt": 15.6,
    "call_type": "outbound",
}


class ConnJson(Protocol):
    """``conn_json(emulator, **extra)``: the emulator as connection JSON, with fast retries."""

    def __call__(self, emulator: Any, /, **extra: Any) -> str: ...


class XCom(Protocol):
    """``xcom(task_id)``: a task's return value; ``map_indexes`` pulls one per mapped instance."""

    def __call__(self, task_id: str, map_indexes: list[int] | None = None) -> Any: ...


class RunDag(Protocol):
    """``run_dag(dag_file, ...)``: copy a DAG file into the DAGs folder and ``dag.test()`` it.

    ``dag_file`` is a name in ``tests/dags/`` or a path. ``dag_id`` names the copy (a test
    DAG's id is its file's stem), ``conf`` becomes the run's conf (it overrides the DAG's
    params). Returns ``(dag_run, xcom)``.
    """

    def __call__(
        self,
        dag_file: str | Path,
        *,
        dag_id: str | None = None,
        logical_date: str = ...,
        conf: dict[str, Any] | None = None,
    ) -> tuple[Any, XCom]: ...


#: Runs a test once on each client: httpx (tasks) and aiohttp (triggers, backfills).
BOTH_PATHS = pytest.mark.parametrize("path", ["sync", "async"])


def fetch(path: str, hook: ConvosoHook | None = None, **inputs: Any) -> list[dict[str, Any]]:
    """``hook.get_agent_performance(**inputs)`` on the sync path, or its async twin in a
    fresh event loop (the hook's async client closed before the loop ends)."""
    import asyncio

    from airflow_provider_convoso.hooks.convoso import ConvosoHook

    hook = hook or ConvosoHook()
    if path == "sync":
        return hook.get_agent_performance(**inputs)

    async def fetch_async() -> list[dict[str, Any]]:
        try:
            return await hook.aget_agent_performance(**inputs)
        finally:
            await hook.aclose()

    return asyncio.run(fetch_async())


def parse_response(
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    params: Mapping[str, str] | None = None,
    *,
    normalize: bool = True,
) -> list[dict[str, Any]]:
    """Everything from a raw agent-performance answer to typed records, or the typed error.

    :param status_code: the HTTP status.
    :param headers: the answer's headers.
    :param content: the body.
    :param params: the request's parameters.
    :param normalize: type the records.
    :return: the records.
    """
    from airflow_provider_convoso.endpoints.agent_performance.reading import parse_body
    from airflow_provider_convoso.wire.envelope import check_status

    check_status(status_code, headers, content)
    return parse_body(content, params, normalize=normalize)


def format_duration(seconds: int) -> str:
    """Return ``HH:MM:SS`` for ``seconds``, hours past 24 kept: the inverse of ``parse_duration``.

    :param seconds: a non-negative duration.
    :return: the text the service sends for it.
    """
    if seconds < 0:
        raise ValueError(f"seconds must not be negative, got {seconds}")
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
