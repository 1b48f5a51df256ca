"""A production-shaped Airflow on loopback, for the deploy and fault checks.

PostgreSQL (the metadata database), Redis (the Celery broker), the emulator and each Airflow
component run as processes of their own, each in its own session, stopped by PID.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


VENV_BIN = Path(sys.executable).parent


class CheckFailed(AssertionError):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)
    print(f"   ok  {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Poll ``probe`` until it returns a truthy value, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise CheckFailed(f"timed out after {timeout:.0f}s waiting for {what}")


class Processes:
    """Every process the check starts, each in its own session, stopped by PID; any one of
    them can be killed and started again with the same command (what a supervisor does)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._commands: dict[str, tuple[list[str], dict[str, str], dict[str, Any]]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )
        log.close()  # the child holds its own descriptor
        self.started.append((name, process))
        self._commands[name] = (argv, env, kwargs)
        print(f">> started {name} (pid {process.pid})")
        return process

    def current(self, name: str) -> subprocess.Popen[bytes]:
        """The latest process started under ``name``."""
        return next(process for started, process in reversed(self.started) if started == name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the latest ``name`` process and everything in its session, and reap it."""
        process = self.current(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # children that outlived the leader
        print(f">> {signal.Signals(sig).name} to {name} (pid {process.pid}, exit {process.returncode})")

    def restart(self, name: str) -> subprocess.Popen[bytes]:
        """Start ``name`` again with the command it was first started with."""
        argv, env, kwargs = self._commands[name]
        return self.start(name, argv, env, **kwargs)

    def exited(self) -> list[str]:
        """The names whose latest process is no longer running."""
        names = dict.fromkeys(name for name, _ in self.started)
        return [name for name in names if self.current(name).poll() is not None]

    def stop_all(self) -> None:
        for name, process in reversed(self.started):
            if process.poll() is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT if name == "postgres" else signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            # Children that left the group (Celery's pool, gunicorn workers) go with it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            print(f">> stopped {name} (pid {process.pid}, exit {process.returncode})")


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise CheckFailed(f"PostgreSQL's {name} is not installed (scripts/deploy_check.sh installs it)")
    return found[-1]


def start_postgres(procs: Processes, work: Path) -> int:
    data = work / "pgdata"
    data.mkdir()
    shutil.chown(data, "postgres", "postgres")
    data.chmod(0o700)
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_postgres, pg_bin("initdb"), "-D", str(data), "-U", "airflow", "-A", "trust", "-E", "UTF8"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    procs.start(
        "postgres",
        [*as_postgres, pg_bin("postgres"), "-D", str(data), "-p", str(port), "-k", str(data),
         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8"},
    )  # fmt: skip
    import psycopg2

    def ready() -> bool:
        try:
            psycopg2.connect(host="127.0.0.1", port=port, user="airflow", dbname="postgres").close()
        except psycopg2.OperationalError:
            return False
        return True

    wait_for("PostgreSQL", ready, 60)
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="airflow", dbname="postgres")
    conn.autocommit = True
    conn.cursor().execute("CREATE DATABASE airflow")
    conn.close()
    return port


@contextlib.contextmanager
def database(port: int) -> Iterator[Any]:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user="airflow", dbname="airflow")
    conn.autocommit = True
    try:
        yield conn.cursor()
    finally:
        conn.close()


def query(port: int, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with database(port) as cursor:
        cursor.execute(sql, args)
        return list(cursor.fetchall())


def airflow(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "airflow"), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise CheckFailed(f"airflow {' '.join(args[:2])} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result.stdout


def trigger_dag(
    env: dict[str, str], dag_id: str, run_id: str, logical_date: str | None, conf: dict[str, Any] | None = None
) -> None:
    """Trigger one run through the CLI."""
    args = ["dags", "trigger", dag_id, "-r", run_id]
    if logical_date:
        args += ["-l", logical_date]
    if conf:
        args += ["-c", json.dumps(conf)]
    airflow(env, *args)


def wait_dag(port: int, run_id: str, timeout: float, while_waiting: Callable[[], None] | None = None) -> str:
    """Wait, at most ``timeout`` seconds, for a run's final state; ``while_waiting`` runs on each poll."""

    def finished() -> str | None:
        if while_waiting is not None:
            while_waiting()
        rows = query(port, "SELECT state FROM dag_run WHERE run_id = %s", run_id)
        state = rows[0][0] if rows else None
        return state if state in ("success", "failed") else None

    state: str = wait_for(f"run {run_id}", finished, timeout)
    return state


def run_dag(
    env: dict[str, str],
    port: int,
    dag_id: str,
    run_id: str,
    logical_date: str | None,
    timeout: float,
    conf: dict[str, Any] | None = None,
) -> str:
    """Trigger one run and wait, at most ``timeout`` seconds, for its final state."""
    trigger_dag(env, dag_id, run_id, logical_date, conf)
    return wait_dag(port, run_id, timeout)


def start_emulator(procs: Processes, name: str, token: str, today: str, agents: int, *extra: str) -> str:
    """Start an emulator process for the check's account and return its URL."""
    started = procs.start(
        name,
        [sys.executable, "-u", "-m", "airflow_provider_convoso.testing.emulator", "--token", token,
         "--today", today, "--agents", str(agents), *extra],
        env={"PATH": os.environ["PATH"]},
    )  # fmt: skip
    log = procs.log_dir / f"{name}.log"
    url: str = wait_for(f"the {name}'s URL", lambda: log.read_text().strip().splitlines()[:1], 30)[0]
    print(f">> {name} at {url} (pid {started.pid})")
    return url


def start_redis(procs: Processes, port: int) -> None:
    """Start Redis on loopback, nothing persisted, and wait until it listens."""
    procs.start(
        "redis",
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        env={"PATH": os.environ["PATH"]},
    )
    wait_for("Redis", lambda: listening(port), 30)


def airflow_env(work: Path, pg_port: int, redis_port: int, api_port: int, **extra: str) -> dict[str, str]:
    """The environment every Airflow process of the deployment shares."""
    from cryptography.fernet import Fernet

    db = f"postgresql+psycopg2://airflow@127.0.0.1:{pg_port}/airflow"
    return {
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "LANG": "C.UTF-8",
        "AIRFLOW_HOME": str(work / "airflow-home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(work / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://airflow@127.0.0.1:{pg_port}/airflow",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR": "True",
        **extra,
    }


#: The Airflow components of the deployment: name -> ``airflow`` arguments.
def components(api_port: int) -> dict[str, list[str]]:
    return {
        "api-server": ["api-server", "--port", str(api_port), "--host", "127.0.0.1"],
        "scheduler": ["scheduler"],
        "dag-processor": ["dag-processor"],
        "triggerer": ["triggerer"],
        "celery-worker": ["celery", "worker", "--concurrency", "4"],
    }


def start_airflow(procs: Processes, env: dict[str, str], api_port: int) -> None:
    """Start every component and wait for the API server."""
    for name, argv in components(api_port).items():
        procs.start(name, [str(VENV_BIN / "airflow"), *argv], env=env)
    wait_for("the API server", lambda: listening(api_port), 120)


def show_failure(check_name: str, error: Exception, logs: Path) -> None:
    """Print why a check failed and the last lines of every process's log."""
    print(f"\n{check_name} FAILED: {error}", file=sys.stderr)
    for log in sorted(logs.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-15:]
        print(f"--- last lines of {log.name}:\n" + "\n".join(tail), file=sys.stderr)


def stop_everything(procs: Processes, ports: list[int], check_name: str) -> bool:
    """Stop every process the check started and tell whether nothing is left listening."""
    procs.stop_all()
    still = [port for port in ports if listening(port)]
    if still:
        print(f"{check_name} FAILED: ports still listening after stop: {still}", file=sys.stderr)
        return False
    print(f"   ok  nothing left listening on the {len(ports)} ports the check used")
    return True


def new_workspace(prefix: str) -> tuple[Path, str, Path, Processes]:
    """Make a check's working folder, token, log folder and process list; a SIGTERM to the
    check (CI cancelled, a timeout) then unwinds like an error, so every process is stopped.

    :return: ``(work, token, logs, procs)``.
    """
    work = Path(tempfile.mkdtemp(prefix=f"convoso-{prefix}-"))
    work.chmod(0o755)  # PostgreSQL runs as its own user and must reach its data folder
    logs = work / "process-logs"
    logs.mkdir()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    return work, f"{prefix}-" + secrets.token_hex(20), logs, Processes(logs)
