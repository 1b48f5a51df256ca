"""The daily example DAG on a production-shaped Airflow, checked from the outside.

PostgreSQL is the metadata database and Redis the Celery broker; a scheduler, a
dag-processor, a triggerer, an API server and a Celery worker run as separate processes;
the connection is stored (encrypted) in the database; the emulator runs in its own
process. Everything listens on loopback and is stopped by PID at the end. Run it with
``make deploy-check`` (``scripts/deploy_check.sh`` installs what it needs first).
"""

from __future__ import annotations

import collections
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
DAG_ID = "convoso_daily_agent_report"
CALL_CENTER_DAG_ID = "convoso_daily_call_center"
BACKFILL_DAG_ID = "convoso_month_backfill"
BACKFILL_DAYS = ("2026-02-01", "2026-02-28")
BAD_DAG_ID = "deploy_check_bad_token"
LOGICAL_DATE = "2026-03-04T02:30:00+00:00"
REPORT_DAY = "2026-03-03"
AGENTS = 12

BAD_TOKEN_DAG = """
import pendulum
from airflow.sdk import DAG
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator

with DAG(dag_id="{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False):
    AgentPerformanceOperator(
        task_id="extract", convoso_conn_id="convoso_bad_token", date_start="{{{{ ds }}}}", retries=3
    )
"""


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
    """Every process the check starts, each in its own session, stopped by PID."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )
        self.started.append((name, process))
        print(f">> started {name} (pid {process.pid})")
        return process

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


def write_dags(dags: Path) -> None:
    dags.mkdir()
    source = (ROOT / "example_dags" / f"{DAG_ID}.py").read_text()
    # The example polls every 5 minutes unless CONVOSO_POKE_INTERVAL says otherwise (the
    # components' environment sets 5 s): the check needs the same DAG to finish in seconds.
    check('os.environ.get("CONVOSO_POKE_INTERVAL"' in source, "the example DAG reads CONVOSO_POKE_INTERVAL")
    (dags / f"{DAG_ID}.py").write_text(source)
    for dag_id in (CALL_CENTER_DAG_ID, BACKFILL_DAG_ID):
        (dags / f"{dag_id}.py").write_text((ROOT / "example_dags" / f"{dag_id}.py").read_text())
    (dags / f"{BAD_DAG_ID}.py").write_text(BAD_TOKEN_DAG.format(dag_id=BAD_DAG_ID))


def start_emulator(procs: Processes, logs: Path, name: str, token: str, *extra: str) -> str:
    """Start an emulator process for the check's account and return its URL."""
    started = procs.start(
        name,
        [sys.executable, "-u", "-m", "airflow_provider_convoso.testing.emulator", "--token", token,
         "--today", LOGICAL_DATE[:10], "--agents", str(AGENTS), *extra],
        env={"PATH": os.environ["PATH"]},
    )  # fmt: skip
    url: str = wait_for(f"the {name}'s URL", lambda: (logs / f"{name}.log").read_text().strip().splitlines()[:1], 30)[0]
    print(f">> {name} at {url} (pid {started.pid})")
    return url


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
    args = ["dags", "trigger", dag_id, "-r", run_id]
    if logical_date:
        args += ["-l", logical_date]
    if conf:
        args += ["-c", json.dumps(conf)]
    airflow(env, *args)

    def finished() -> str | None:
        rows = query(port, "SELECT state FROM dag_run WHERE run_id = %s", run_id)
        state = rows[0][0] if rows else None
        return state if state in ("success", "failed") else None

    state: str = wait_for(f"run {run_id} of {dag_id}", finished, timeout)
    return state


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="convoso-deploy-"))
    work.chmod(0o755)  # PostgreSQL runs as its own user and must reach its data folder
    token = "deploy-" + secrets.token_hex(20)
    logs = work / "process-logs"
    logs.mkdir()
    procs = Processes(logs)
    ports: list[int] = []
    ok = False
    try:
        print(f">> working in {work}")
        pg_port = start_postgres(procs, work)
        redis_port = free_port()
        procs.start(
            "redis",
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            env={"PATH": os.environ["PATH"]},
        )
        wait_for("Redis", lambda: listening(redis_port), 30)

        emulator_url = start_emulator(procs, logs, "emulator", token, "--data-after-requests", "1")
        # The backfill's days have data on their first request (the daily DAG's sensor needs a
        # first poll without): a second emulator, behind its own connection.
        backfill_url = start_emulator(procs, logs, "emulator-backfill", token, "--latency", "0.05")

        from cryptography.fernet import Fernet

        api_port = free_port()
        home = work / "airflow-home"
        output = work / "output"
        db_url = f"postgresql+psycopg2://airflow@127.0.0.1:{pg_port}/airflow"
        env = {
            "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
            "LANG": "C.UTF-8",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(work / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://airflow@127.0.0.1:{pg_port}/airflow",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR": "True",
            "AIRFLOW_VAR_CONVOSO_OUTPUT_BASE": f"file://{output}",
            "CONVOSO_POKE_INTERVAL": "5",
        }
        ports = [pg_port, redis_port, api_port]
        ports += [
            int(env[k])
            for k in ("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT")
        ]
        ports += [int(url.rsplit(":", 1)[1].split("/")[0]) for url in (emulator_url, backfill_url)]
        write_dags(work / "dags")

        print(">> airflow db migrate (PostgreSQL)")
        airflow(env, "db", "migrate")
        airflow(env, "connections", "add", "convoso_default", "--conn-type", "convoso",
                "--conn-host", emulator_url, "--conn-password", token)  # fmt: skip
        airflow(env, "connections", "add", "convoso_backfill", "--conn-type", "convoso",
                "--conn-host", backfill_url, "--conn-password", token)  # fmt: skip
        airflow(env, "connections", "add", "convoso_bad_token", "--conn-type", "convoso",
                "--conn-host", emulator_url, "--conn-password", "not-the-token")  # fmt: skip

        for name, argv in (
            ("api-server", ["api-server", "--port", str(api_port), "--host", "127.0.0.1"]),
            ("scheduler", ["scheduler"]),
            ("dag-processor", ["dag-processor"]),
            ("triggerer", ["triggerer"]),
            ("celery-worker", ["celery", "worker", "--concurrency", "4"]),
        ):
            procs.start(name, [str(VENV_BIN / "airflow"), *argv], env=env)
        wait_for("the API server", lambda: listening(api_port), 120)

        def parsed() -> bool:
            rows = query(pg_port, "SELECT dag_id FROM dag WHERE dag_id IN (%s, %s, %s, %s)", DAG_ID, BAD_DAG_ID,
                         CALL_CENTER_DAG_ID, BACKFILL_DAG_ID)  # fmt: skip
            return len(rows) == 4

        wait_for("the dag-processor to parse the four DAGs", parsed, 180)
        for dag_id in (DAG_ID, BAD_DAG_ID, CALL_CENTER_DAG_ID, BACKFILL_DAG_ID):
            airflow(env, "dags", "unpause", dag_id)

        print(f">> running {DAG_ID} for {LOGICAL_DATE}")
        state = run_dag(env, pg_port, DAG_ID, "deploy_check_ok", LOGICAL_DATE, 300)
        ok_checks(pg_port, state, home, logs, output)

        print(f">> running {CALL_CENTER_DAG_ID} for {LOGICAL_DATE}")
        state = run_dag(env, pg_port, CALL_CENTER_DAG_ID, "deploy_check_call_center", LOGICAL_DATE, 300)
        call_center_checks(pg_port, state, output)

        print(f">> running {BACKFILL_DAG_ID} for {BACKFILL_DAYS[0]}..{BACKFILL_DAYS[1]}")
        first, last = BACKFILL_DAYS
        airflow(env, "variables", "set", "convoso_conn_id", "convoso_backfill")  # the example's connection
        state = run_dag(env, pg_port, BACKFILL_DAG_ID, "deploy_check_backfill", None, 300,
                        conf={"first_day": first, "last_day": last})  # fmt: skip
        backfill_checks(pg_port, state, home, output)

        print(f">> running {BAD_DAG_ID} (wrong token, retries=3)")
        state = run_dag(env, pg_port, BAD_DAG_ID, "deploy_check_bad_token", LOGICAL_DATE, 240)
        check(state == "failed", "the bad-token run failed")
        rows = query(pg_port, "SELECT state, try_number, max_tries FROM task_instance WHERE run_id = %s",
                     "deploy_check_bad_token")  # fmt: skip
        check(rows == [("failed", 1, 3)], f"it failed on its first try with retries=3 (state, try, max_tries: {rows})")

        secret_checks(pg_port, token, home, logs, output)
        ok = True
    except CheckFailed as error:
        print(f"\nDEPLOY CHECK FAILED: {error}", file=sys.stderr)
        for log in sorted(logs.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-15:]
            print(f"--- last lines of {log.name}:\n" + "\n".join(tail), file=sys.stderr)
    finally:
        procs.stop_all()
        still = [port for port in ports if listening(port)]
        if still:
            print(f"DEPLOY CHECK FAILED: ports still listening after stop: {still}", file=sys.stderr)
            ok = False
        else:
            print(f"   ok  nothing left listening on the {len(ports)} ports the check used")
    if ok:
        shutil.rmtree(work, ignore_errors=True)
        print("\nDeploy check passed.")
        return 0
    print(f"Logs kept in {work}", file=sys.stderr)
    return 1


def ok_checks(pg_port: int, state: str, home: Path, logs: Path, output: Path) -> None:
    check(state == "success", "the daily run succeeded")
    task_logs = home / "logs" / f"dag_id={DAG_ID}" / "run_id=deploy_check_ok"
    sensor_log = (task_logs / "task_id=wait_for_data" / "attempt=1.log").read_text()
    check("Pausing task as DEFERRED" in sensor_log, "the sensor poked once on the worker, then deferred")
    triggerer_ids = [row[0] for row in query(pg_port, "SELECT id FROM job WHERE job_type = 'TriggererJob'")]
    check(len(triggerer_ids) == 1, f"one triggerer job ran ({triggerer_ids})")
    trigger_log = task_logs / "task_id=wait_for_data" / f"attempt=1.log.trigger.{triggerer_ids[0]}.log"
    text = trigger_log.read_text() if trigger_log.exists() else ""
    check("Trigger fired event" in text and "'status': 'success'" in text,
          f"the trigger ran in the triggerer process (job {triggerer_ids[0]}) and fired success")  # fmt: skip
    check("settled (same data on 3 of 3 polls" in text, "the trigger waited for three polls alike (settle_polls=3)")
    rows = query(pg_port, "SELECT external_executor_id, hostname FROM task_instance "
                 "WHERE run_id = 'deploy_check_ok' AND task_id = 'extract'")  # fmt: skip
    celery_id = rows[0][0] if rows else None
    check(bool(celery_id), f"extract went through Celery (task id {celery_id})")
    # Celery logs the task's end after the task itself has reported success.
    wait_for(
        f"Celery task {celery_id} to be logged as succeeded by the worker",
        lambda: f"execute_workload[{celery_id}] succeeded" in (logs / "celery-worker.log").read_text(errors="replace"),
        30,
    )
    check(True, f"extract ran as Celery task {celery_id} on the worker")
    partition = output / "agent_performance" / f"dt={REPORT_DAY}"
    records = [json.loads(line) for line in (partition / "agents.jsonl").read_text().splitlines()]
    check(len(records) == AGENTS and all(record.get("user_id") for record in records),
          f"agents.jsonl holds {AGENTS} complete records")  # fmt: skip
    summary = json.loads((partition / "summary.json").read_text())
    check(summary["agents"] == AGENTS, "summary.json scores every agent")
    quality = summary.get("quality") or {}
    check(quality.get("checked") == AGENTS and not any(r["broken"] for r in quality.get("rules", {}).values()),
          "summary.json carries the data-quality report: every record checked, no rule broken")  # fmt: skip
    check(len(summary.get("digest") or "") == 16, "summary.json carries the digest of the written rows")
    leftovers = sorted(p.name for p in partition.iterdir() if p.name not in ("agents.jsonl", "summary.json"))
    check(not leftovers, f"no temporary files left beside the outputs ({leftovers})")


def call_center_checks(pg_port: int, state: str, output: Path) -> None:
    check(state == "success", "the call-center run succeeded (call logs, productivity, four lookup tables)")
    rows = query(pg_port, "SELECT task_id, external_executor_id FROM task_instance WHERE run_id = %s",
                 "deploy_check_call_center")  # fmt: skip
    check(len(rows) == 7 and all(executor_id for _, executor_id in rows),
          f"all 7 tasks of the run went through Celery ({sorted(task for task, _ in rows)})")  # fmt: skip
    partition = f"dt={REPORT_DAY}"
    for name, path in (
        ("call logs", output / "call_logs" / partition / "calls.parquet"),
        ("agent productivity", output / "agent_productivity" / partition / "events.parquet"),
        *((table, output / "lookups" / table / partition / f"{table}.jsonl")
          for table in ("users", "campaigns", "lists", "statuses")),
    ):  # fmt: skip
        check(path.exists() and path.stat().st_size > 0, f"{name} landed in {path.relative_to(output)}")


def backfill_checks(pg_port: int, state: str, home: Path, output: Path) -> None:
    check(state == "success", "the month backfill run succeeded")
    rows = query(pg_port, "SELECT external_executor_id FROM task_instance WHERE run_id = 'deploy_check_backfill'")
    check(len(rows) == 1 and bool(rows[0][0]), f"backfill_month went through Celery ({rows})")
    first, last = BACKFILL_DAYS
    [written] = list((output / "agent_performance_month").glob(f"{first}_{last}.*"))
    if written.suffix == ".parquet":
        import pyarrow.parquet as pq

        dates = [str(day) for day in pq.read_table(written, columns=["date"]).column("date").to_pylist()]
    else:
        dates = [json.loads(line)["date"] for line in written.read_text().splitlines()]
    days, per_day = 28, collections.Counter(dates)
    check(len(per_day) == days and dates == sorted(dates) and all(0 < n <= AGENTS for n in per_day.values()),
          f"{written.name} holds {len(dates)} agent rows over each of the {days} days, in day order")  # fmt: skip
    task_log = (home / "logs" / f"dag_id={BACKFILL_DAG_ID}" / "run_id=deploy_check_backfill" / "task_id=backfill_month"
                / "attempt=1.log").read_text()  # fmt: skip
    check(f"Convoso backfill: {days}/{days} days done" in task_log,
          "the task logged the backfill's progress (fetched in a worker thread, written in the task's)")  # fmt: skip


def secret_checks(pg_port: int, token: str, home: Path, logs: Path, output: Path) -> None:
    rows = query(pg_port, "SELECT is_encrypted, password FROM connection WHERE conn_id = 'convoso_default'")
    check(bool(rows) and rows[0][0] is True and rows[0][1] != token, "the stored password is encrypted")
    hits = [
        str(p)
        for base in (home, logs, output)
        for p in base.rglob("*")
        if p.is_file() and token.encode() in p.read_bytes()
    ]
    check(not hits, f"the token appears in no log or output file ({len(hits)} hits: {hits[:3]})")
    dump = subprocess.run(
        [pg_bin("pg_dump"), "-h", "127.0.0.1", "-p", str(pg_port), "-U", "airflow", "--data-only", "airflow"],
        capture_output=True,
        check=True,
    ).stdout
    check(len(dump) > 10_000 and token.encode() not in dump, "the token is not in clear text anywhere in the database")


if __name__ == "__main__":
    sys.exit(main())
