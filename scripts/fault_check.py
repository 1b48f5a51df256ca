"""The deployment's own faults, on the deploy check's real parts, with work in flight.

One production-shaped Airflow 3.3.2 (PostgreSQL, Celery on Redis, separate scheduler,
dag-processor, triggerer, API server and worker) and two emulators with latency. Each fault
runs on fresh DAG runs writing to a fresh folder, and the outputs are compared byte for byte
with a clean run's:

1. SIGKILL the triggerer while four deferrable sensors (two settling) are deferred; start a
   new one. Every sensor finishes once.
2. SIGKILL the Celery worker (and its task processes) while a call-log day and a
   ``split_by_day`` backfill are reading; start a new one. Airflow retries them after the
   heartbeat timeout; no partial object or temporary file is left.
3. Restart PostgreSQL, then (separately) Redis, while the extracts are queued and running;
   components that exit are started again, as a supervisor would.
4. SIGTERM a running extract (what a warm shutdown sends): it stops within seconds, cleans
   up, and its retry succeeds.

Run it with ``make fault-check`` (``scripts/fault_check.sh`` installs what it needs first).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deployment import (
    CheckFailed,
    Processes,
    airflow,
    airflow_env,
    check,
    free_port,
    listening,
    new_workspace,
    query,
    show_failure,
    start_airflow,
    start_emulator,
    start_postgres,
    start_redis,
    stop_everything,
    trigger_dag,
    wait_dag,
    wait_for,
)

LOGICAL_DATE = "2026-03-04T02:30:00+00:00"
AGENTS = 12
SENSORS = 4
#: A killed worker's task is noticed after this many seconds without a heartbeat.
HEARTBEAT_TIMEOUT_S = 20

SENSORS_DAG = """
import pendulum
from airflow.sdk import DAG
from airflow_provider_convoso.sensors.agent_performance import AgentPerformanceSensor

with DAG(dag_id="fault_sensors", schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False):
    for index in range({sensors}):
        AgentPerformanceSensor(
            task_id=f"wait_{{index}}", convoso_conn_id="convoso_sensors",
            # A day each, so each sensor's data shows up after its own requests.
            date_start=f"{{{{{{{{ macros.ds_add(ds, -{{index + 1}}) }}}}}}}}",
            deferrable=True, poke_interval=1, timeout=600,
            settle_polls=3 if index % 2 else 1,
        )
"""

EXTRACT_DAG = """
import datetime
import pendulum
from airflow.sdk import DAG
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator
from airflow_provider_convoso.operators.call_logs import CallLogsOperator

RETRIES = dict(retries=3, retry_delay=datetime.timedelta(seconds=2))
with DAG(dag_id="fault_extract", schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False,
         params={"out": ""}):
    CallLogsOperator(
        task_id="call_logs", convoso_conn_id="convoso_extract", date="2026-03-03", max_concurrency=2,
        output_path="{{ params.out }}/calls.jsonl", **RETRIES,
    )
    AgentPerformanceOperator(
        task_id="backfill", convoso_conn_id="convoso_extract", date_start="2026-02-01", date_end="2026-02-28",
        split_by_day=True, max_concurrency=2, output_path="{{ params.out }}/month.jsonl", **RETRIES,
    )
"""

EXTRACTS = ("call_logs", "backfill")


class Fault:
    """The deployment's handles a fault needs."""

    def __init__(self, procs: Processes, env: dict[str, str], pg_port: int, redis_port: int) -> None:
        self.procs, self.env, self.pg_port, self.redis_port = procs, env, pg_port, redis_port

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any] | None = None) -> float:
        """Trigger a run; return when it was asked for (the CLI itself takes seconds)."""
        asked = time.monotonic()
        # The extract DAG's runs have no logical date (they read fixed days), so it runs many times.
        trigger_dag(self.env, dag_id, run_id, LOGICAL_DATE if dag_id == "fault_sensors" else None, conf)
        return asked

    def states(self, run_id: str) -> dict[str, tuple[str | None, int]]:
        rows = query(self.pg_port, "SELECT task_id, state, try_number FROM task_instance WHERE run_id = %s", run_id)
        return {task: (state, tries) for task, state, tries in rows}

    def finish(self, run_id: str, timeout: float, supervise: bool = False) -> str:
        """Wait for the run's final state; with ``supervise``, start again any component that exited."""

        def restart_exited() -> None:
            for name in self.procs.exited():
                if name not in ("postgres", "redis") and not name.startswith("emulator"):
                    print(f">> {name} exited; starting it again (a supervisor's job)")
                    self.procs.restart(name)

        return wait_dag(self.pg_port, run_id, timeout, restart_exited if supervise else None)

    def until(self, what: str, probe: Callable[[], Any], timeout: float = 120) -> Any:
        return wait_for(what, probe, timeout, interval=0.2)


def spools(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.glob("convoso-*"))


def outputs_identical(reference: Path, folder: Path) -> bool:
    names = sorted(p.name for p in reference.iterdir())
    return sorted(p.name for p in folder.iterdir()) == names and all(
        (reference / name).read_bytes() == (folder / name).read_bytes() for name in names
    )


def leftovers(folder: Path, tmp: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] + spools(tmp)


def main() -> int:
    work, token, logs, procs = new_workspace("faults")
    tmp = work / "tmp"
    tmp.mkdir()
    output = work / "output"
    ports: list[int] = []
    report: list[str] = []
    ok = False
    started = time.monotonic()
    try:
        print(f">> working in {work}")
        pg_port = start_postgres(procs, work)
        redis_port = free_port()
        start_redis(procs, redis_port)
        today = LOGICAL_DATE[:10]
        sensors_url = start_emulator(procs, "emulator-sensors", token, today, AGENTS, "--data-after-requests", "6")
        extract_url = start_emulator(
            procs, "emulator-extract", token, today, AGENTS, "--latency", "0.5", "--calls-per-agent", "20"
        )
        api_port = free_port()
        env = airflow_env(
            work, pg_port, redis_port, api_port,
            AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT_S),
            AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL="2",
            AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT="30",
            AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL="5",
            TMPDIR=str(tmp),
        )  # fmt: skip
        ports = [pg_port, redis_port, api_port]
        ports += [int(url.rsplit(":", 1)[1].split("/")[0]) for url in (sensors_url, extract_url)]
        dags = work / "dags"
        dags.mkdir()
        (dags / "fault_sensors.py").write_text(SENSORS_DAG.format(sensors=SENSORS))
        (dags / "fault_extract.py").write_text(EXTRACT_DAG)

        print(">> airflow db migrate (PostgreSQL)")
        airflow(env, "db", "migrate")
        for conn_id, url in (("convoso_sensors", sensors_url), ("convoso_extract", extract_url)):
            airflow(env, "connections", "add", conn_id, "--conn-type", "convoso", "--conn-host", url,
                    "--conn-password", token)  # fmt: skip
        start_airflow(procs, env, api_port)
        wait_for(
            "the dag-processor to parse both DAGs",
            lambda: (
                len(query(pg_port, "SELECT dag_id FROM dag WHERE dag_id IN ('fault_sensors', 'fault_extract')")) == 2
            ),
            180,
        )
        for dag_id in ("fault_sensors", "fault_extract"):
            airflow(env, "dags", "unpause", dag_id)
        fault = Fault(procs, env, pg_port, redis_port)

        print(">> a clean run of the extracts, for the reference outputs")
        fault.trigger("fault_extract", "clean", {"out": f"file://{output / 'clean'}"})
        check(fault.finish("clean", 300) == "success", "the clean run succeeded")
        check(all(tries == 1 for _, tries in fault.states("clean").values()), "each extract ran once")

        report.append(triggerer_killed(fault))
        report.append(worker_killed(fault, output, tmp))
        report.append(restarted(fault, output, tmp, "postgres"))
        report.append(restarted(fault, output, tmp, "redis"))
        report.append(extract_terminated(fault, output, tmp))
        ok = True
    except CheckFailed as error:
        show_failure("FAULT CHECK", error, logs)
    finally:
        ok = stop_everything(procs, ports, "FAULT CHECK") and ok
    print("\n== faults ==")
    for line in report:
        print(line)
    print(f"{len(report)} of 5 faults survived; {time.monotonic() - started:.0f} s in all")
    if ok:
        shutil.rmtree(work, ignore_errors=True)
        print("\nFault check passed.")
        return 0
    print(f"Logs kept in {work}", file=sys.stderr)
    return 1


def triggerer_killed(fault: Fault) -> str:
    print(">> fault 1: SIGKILL the triggerer while the sensors are deferred")
    start = fault.trigger("fault_sensors", "triggerer_killed")
    fault.until(
        f"all {SENSORS} sensors deferred",
        lambda: [s for s, _ in fault.states("triggerer_killed").values()] == ["deferred"] * SENSORS,
    )
    triggers = query(fault.pg_port, "SELECT count(*) FROM trigger")[0][0]
    check(triggers == SENSORS, f"{SENSORS} triggers are stored while the sensors wait ({triggers})")
    injected = time.monotonic() - start
    fault.procs.kill("triggerer")
    fault.procs.restart("triggerer")
    state = fault.finish("triggerer_killed", 300)
    states = fault.states("triggerer_killed")
    check(state == "success", "the sensors' run succeeded")
    check(all(s == ("success", 1) for s in states.values()), f"every sensor succeeded on its first try ({states})")
    check(query(fault.pg_port, "SELECT count(*) FROM trigger")[0][0] == 0, "no trigger is left behind")
    logs = Path(fault.env["AIRFLOW_HOME"]) / "logs" / "dag_id=fault_sensors" / "run_id=triggerer_killed"
    fired = {
        task: sum(
            log.read_text().count("Trigger fired event") for log in (logs / f"task_id={task}").glob("*.trigger.*")
        )
        for task in states
    }
    resumed = {
        task: (logs / f"task_id={task}" / "attempt=1.log").read_text().count("agent rows available") for task in states
    }
    check(all(count == 1 for count in fired.values()) and all(count == 1 for count in resumed.values()),
          f"each trigger fired once and each sensor resumed once (fired {fired}, resumed {resumed})")  # fmt: skip
    return (
        f"fault 1 triggerer SIGKILL at +{injected:.1f}s with {SENSORS} sensors deferred: "
        f"{SENSORS}/{SENSORS} finished once, none lost, none twice"
    )


def worker_killed(fault: Fault, output: Path, tmp: Path) -> str:
    print(">> fault 2: SIGKILL the Celery worker while the extracts read")
    folder = output / "worker_killed"
    start = fault.trigger("fault_extract", "worker_killed", {"out": f"file://{folder}"})
    fault.until(
        "both extracts running, their spools on disk",
        lambda: (
            all(fault.states("worker_killed").get(t, (None,))[0] == "running" for t in EXTRACTS)
            and len(spools(tmp)) >= 2
        ),
    )
    injected = time.monotonic() - start
    fault.procs.kill("celery-worker")
    killed_spools = spools(tmp)
    fault.procs.restart("celery-worker")
    state = fault.finish("worker_killed", 300)
    states = fault.states("worker_killed")
    check(state == "success", "the extracts' run succeeded after the worker was killed")
    check(all(s == "success" and tries == 2 for s, tries in states.values()),
          f"each extract was retried once by Airflow ({states})")  # fmt: skip
    check(outputs_identical(output / "clean", folder), "the outputs are byte-identical to the clean run's")
    check(not leftovers(folder, tmp), f"no partial object, temp file or spool is left ({killed_spools} were)")
    return (
        f"fault 2 worker SIGKILL at +{injected:.1f}s with {len(killed_spools)} extracts mid-read: "
        f"2/2 retried and finished, outputs identical, {len(killed_spools)} stale spools removed"
    )


def restarted(fault: Fault, output: Path, tmp: Path, name: str) -> str:
    print(f">> fault 3: restart {name} while the extracts are queued and running")
    folder = output / f"{name}_restarted"
    run_id = f"{name}_restarted"
    start = fault.trigger("fault_extract", run_id, {"out": f"file://{folder}"})
    fault.until(
        "an extract running",
        lambda: any(s == "running" for s, _ in fault.states(run_id).values()),
    )
    injected = time.monotonic() - start
    fault.procs.kill(name, signal.SIGINT if name == "postgres" else signal.SIGTERM)
    fault.procs.restart(name)
    port = fault.pg_port if name == "postgres" else fault.redis_port
    wait_for(f"{name} to listen again", lambda: listening(port), 60)
    state = fault.finish(run_id, 300, supervise=True)
    states = fault.states(run_id)
    check(state == "success", f"the run succeeded across the {name} restart")
    check(outputs_identical(output / "clean", folder), "the outputs are byte-identical to the clean run's")
    check(not leftovers(folder, tmp), "no temp file or spool is left")
    tries = {task: t for task, (_, t) in states.items()}
    written = sorted(p.name for p in folder.iterdir())
    check(written == ["calls.jsonl", "month.jsonl"], f"one complete object per output, nothing else ({written})")
    retried = sorted(task for task, count in tries.items() if count > 1)
    rewritten = f"{', '.join(retried)} retried by Airflow and rewritten whole" if retried else "each written once"
    return f"fault 3 {name} restart at +{injected:.1f}s: 2/2 finished (tries {tries}), outputs identical, {rewritten}"


def extract_terminated(fault: Fault, output: Path, tmp: Path) -> str:
    print(">> fault 4: SIGTERM the running backfill")
    folder = output / "terminated"
    start = fault.trigger("fault_extract", "terminated", {"out": f"file://{folder}"})

    def task_pid() -> int | None:
        rows = query(fault.pg_port, "SELECT state, pid FROM task_instance WHERE run_id = 'terminated' "
                     "AND task_id = 'backfill'")  # fmt: skip
        return rows[0][1] if rows and rows[0][0] == "running" and rows[0][1] and spools(tmp) else None

    pid = fault.until("the backfill running, its spool on disk", task_pid)
    injected = time.monotonic() - start
    os.kill(pid, signal.SIGTERM)
    sent = time.monotonic()

    def first_try_over() -> bool:
        state, tries = fault.states("terminated")["backfill"]
        return tries > 1 or state in ("up_for_retry", "failed", "success")

    fault.until("the first try to end", first_try_over, 60)
    stopped_in = time.monotonic() - sent
    state = fault.finish("terminated", 300)
    check(state == "success", "the run succeeded: the SIGTERMed extract's retry succeeded")
    check(fault.states("terminated")["backfill"] == ("success", 2), "the backfill succeeded on its second try")
    log = (Path(fault.env["AIRFLOW_HOME"]) / "logs" / "dag_id=fault_extract" / "run_id=terminated"
           / "task_id=backfill" / "attempt=1.log").read_text()  # fmt: skip
    check("ConvosoTaskStopped" in log, "the first try stopped with ConvosoTaskStopped")
    check(stopped_in < 15, f"it stopped within its grace period ({stopped_in:.1f}s)")
    check(outputs_identical(output / "clean", folder), "the outputs are byte-identical to the clean run's")
    check(not leftovers(folder, tmp), "no temp file or spool is left")
    return (
        f"fault 4 SIGTERM to the backfill at +{injected:.1f}s: stopped in {stopped_in:.1f}s, retried, "
        "outputs identical, nothing left behind"
    )


if __name__ == "__main__":
    sys.exit(main())
