"""The daily example DAG on a production-shaped Airflow, checked from the outside.

PostgreSQL is the metadata database and Redis the Celery broker; a scheduler, a
dag-processor, a triggerer, an API server and a Celery worker run as separate processes;
the connection is stored (encrypted) in the database; the emulator runs in its own
process. Everything listens on loopback and is stopped by PID at the end. Run it with
``make deploy-check`` (``scripts/deploy_check.sh`` installs what it needs first).
"""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
import sys
from pathlib import Path

from deployment import (
    ROOT,
    CheckFailed,
    airflow,
    airflow_env,
    check,
    free_port,
    new_workspace,
    pg_bin,
    query,
    run_dag,
    show_failure,
    start_airflow,
    start_emulator,
    start_postgres,
    start_redis,
    stop_everything,
    wait_for,
)

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


def main() -> int:
    work, token, logs, procs = new_workspace("deploy")
    ports: list[int] = []
    ok = False
    try:
        print(f">> working in {work}")
        pg_port = start_postgres(procs, work)
        redis_port = free_port()
        start_redis(procs, redis_port)

        emulator_url = start_emulator(procs, "emulator", token, LOGICAL_DATE[:10], AGENTS, "--data-after-requests", "1")
        # The backfill's days have data on their first request (the daily DAG's sensor needs a
        # first poll without): a second emulator, behind its own connection.
        backfill_url = start_emulator(procs, "emulator-backfill", token, LOGICAL_DATE[:10], AGENTS, "--latency", "0.05")

        api_port = free_port()
        home = work / "airflow-home"
        output = work / "output"
        env = airflow_env(
            work, pg_port, redis_port, api_port,
            AIRFLOW_VAR_CONVOSO_OUTPUT_BASE=f"file://{output}",
            CONVOSO_POKE_INTERVAL="5",
        )  # fmt: skip
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

        start_airflow(procs, env, api_port)

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
        show_failure("DEPLOY CHECK", error, logs)
    finally:
        ok = stop_everything(procs, ports, "DEPLOY CHECK") and ok
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
    card = (partition / "scorecard.html").read_text()
    check(card.count("<tr>") == AGENTS + 1 and "<script" not in card,
          f"scorecard.html shows the {AGENTS} agents, with no script")  # fmt: skip
    written = ("agents.jsonl", "summary.json", "scorecard.html")
    leftovers = sorted(p.name for p in partition.iterdir() if p.name not in written)
    check(not leftovers, f"no temporary files left beside the outputs ({leftovers})")


def call_center_checks(pg_port: int, state: str, output: Path) -> None:
    check(state == "success", "the call-center run succeeded (call logs, recordings, productivity, leads, lookups)")
    rows = query(pg_port, "SELECT task_id, external_executor_id FROM task_instance WHERE run_id = %s",
                 "deploy_check_call_center")  # fmt: skip
    check(len(rows) == 9 and all(executor_id for _, executor_id in rows),
          f"all 9 tasks of the run went through Celery ({sorted(task for task, _ in rows)})")  # fmt: skip
    partition = f"dt={REPORT_DAY}"
    for name, path in (
        ("call logs", output / "call_logs" / partition / "calls.parquet"),
        ("agent productivity", output / "agent_productivity" / partition / "events.parquet"),
        ("lead changes", output / "leads" / partition / "leads.parquet"),
        ("recordings' manifest", output / "recordings" / partition / "manifest.jsonl"),
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
