"""`make demo`: run the daily example DAG end to end with `airflow dags test`.

By default it runs against the bundled Convoso emulator on loopback, so no account is
needed. Set CONVOSO_AUTH_TOKEN to run the very same DAG against your real account.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from airflow_provider_convoso.endpoints.agent_performance.scoring import format_table
from airflow_provider_convoso.testing import ConvosoEmulator

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / ".airflow-demo"
OUTPUT = ROOT / "demo-output"
DAG_ID = "convoso_daily_agent_report"
CALL_CENTER_DAG_ID = "convoso_daily_call_center"


def _airflow(env: dict[str, str], log: Path, *args: str) -> int:
    with log.open("a") as handle:
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args], env=env, stdout=handle, stderr=subprocess.STDOUT, check=False
        ).returncode


def format_quality(quality: dict | None, digest: str) -> str:
    """The data-quality report of the extract, one line per rule."""
    if not quality:
        return f"\nData-quality checks are off. Digest of the written rows: {digest}"
    lines = [f"\nData quality: {quality['checked']} records checked against the contract's rules (digest {digest})"]
    for name, rule in quality["rules"].items():
        verdict = "ok" if not rule["broken"] else f"{rule['broken']} broken, e.g. user_id {', '.join(rule['examples'])}"
        note = " (advisory)" if rule["advisory"] else ""
        lines.append(f"  {name:26} {verdict}{note}")
    return "\n".join(lines)


def format_tables(output: Path, day: str) -> str:
    """One line per table the call-center DAG landed: where, how many rows, a detail."""
    from airflow_provider_convoso.testing import read_output

    lines = []
    tables = {
        "call logs": output / "call_logs" / f"dt={day}" / "calls.parquet",
        "agent productivity": output / "agent_productivity" / f"dt={day}" / "events.parquet",
        "lead changes": output / "leads" / f"dt={day}" / "leads.parquet",
    }
    for name in ("users", "campaigns", "lists", "statuses"):
        tables[name] = output / "lookups" / name / f"dt={day}" / f"{name}.jsonl"
    for name, path in tables.items():
        if not path.exists():
            lines.append(f"  {name:20} missing ({path})")
            continue
        rows = read_output(path.read_bytes(), path.suffix.lstrip("."))
        detail = ""
        if name == "call logs":
            system = sum(1 for row in rows if row.get("is_system_user"))
            detail = f"{system} by the dialer's System User, {sum(1 for r in rows if r.get('status') == '1')} sales"
        elif name == "agent productivity":
            detail = f"{len({row['user_id'] for row in rows})} agents' logins, pauses and logouts"
        elif name == "lead changes":
            detail = (
                f"{len({row['list_id'] for row in rows})} lists, {sum(1 for r in rows if r.get('status') == '1')} sales"
            )
        lines.append(f"  {name:20} {len(rows):>6} rows  {path.relative_to(output)}  {detail}".rstrip())
    manifest = output / "recordings" / f"dt={day}" / "manifest.jsonl"
    if manifest.exists():
        entries = [json.loads(line) for line in manifest.read_text().splitlines()]
        kept = [e for e in entries if e["status"] != "failed"]
        size = sum(e["bytes"] or 0 for e in kept)
        where = manifest.parent.relative_to(output)
        lines.append(
            f"  {'recordings':20} {len(kept):>6} files {where}/  {size} bytes, {len(entries) - len(kept)} failed"
        )
    else:
        lines.append(f"  {'recordings':20} missing ({manifest})")
    return "\n".join(lines)


WAREHOUSE_DAG_ID = "convoso_warehouse_load"
WAREHOUSE_TABLES = (
    "agent_performance",
    "call_logs",
    "agent_productivity",
    "leads",
    "users",
    "campaigns",
    "lists",
    "statuses",
)


def load_warehouse(env: dict[str, str], log: Path, today: dt.date) -> str:
    """Run the warehouse DAG into a PostgreSQL the demo starts; one line per table, or how to."""
    import glob
    import tempfile

    if not glob.glob("/usr/lib/postgresql/*/bin/initdb") or os.geteuid() != 0:
        return (
            "  No PostgreSQL to start here (the demo starts Debian's postgresql package, as root).\n"
            "  `make warehouse-check` installs it and loads every table; or point\n"
            f"  AIRFLOW_CONN_CONVOSO_WAREHOUSE at yours and run {WAREHOUSE_DAG_ID}."
        )
    sys.path.insert(0, str(ROOT / "scripts"))
    import psycopg2
    from deployment import Processes, start_postgres

    work = Path(tempfile.mkdtemp(prefix="convoso-demo-warehouse-"))
    work.chmod(0o755)  # PostgreSQL runs as its own user
    procs = Processes(OUTPUT)
    try:
        port = start_postgres(procs, work)
        warehouse = {**env, "AIRFLOW_CONN_CONVOSO_WAREHOUSE": f"postgresql://airflow@127.0.0.1:{port}/airflow"}
        print(f"Running: airflow dags test {WAREHOUSE_DAG_ID} {today}T04:15:00+00:00  (into PostgreSQL on port {port})")
        if _airflow(warehouse, log, "dags", "test", WAREHOUSE_DAG_ID, f"{today}T04:15:00+00:00") != 0:
            return f"  The load failed; see {log}"
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="airflow", dbname="airflow")
        try:
            with conn.cursor() as cursor:
                lines = []
                for table in WAREHOUSE_TABLES:
                    cursor.execute(f'SELECT count(*) FROM "convoso"."{table}"')
                    lines.append(f"  convoso.{table:18} {cursor.fetchone()[0]:>6} rows")
        finally:
            conn.close()
        return "\n".join(lines)
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    shutil.rmtree(HOME, ignore_errors=True)
    shutil.rmtree(OUTPUT, ignore_errors=True)
    HOME.mkdir()
    OUTPUT.mkdir()
    today = dt.datetime.now(dt.timezone.utc).date()
    yesterday = today - dt.timedelta(days=1)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_VAR_CONVOSO_OUTPUT_BASE": f"file://{OUTPUT}",
        "CONVOSO_POKE_INTERVAL": os.environ.get("CONVOSO_POKE_INTERVAL", "1"),
    }
    log = OUTPUT / "airflow-dags-test.log"
    real_token = os.environ.get("CONVOSO_AUTH_TOKEN")
    emulator = None
    if real_token:
        print("Using your real Convoso account (CONVOSO_AUTH_TOKEN is set).")
        env["AIRFLOW_CONN_CONVOSO_DEFAULT"] = json.dumps({"conn_type": "convoso", "password": real_token})
    else:
        # The first poke finds no data yet, so the sensor defers; the figures then move on the
        # next two answers (a day still being written) and the trigger waits for three alike.
        # Every 6th agent's record is inconsistent, so the quality report has something to say.
        emulator = ConvosoEmulator(
            today=today, data_after_requests=1, changing_requests=3, inconsistent_every=6
        ).start()
        env["AIRFLOW_CONN_CONVOSO_DEFAULT"] = emulator.connection_json()
        print(f"Convoso emulator listening on {emulator.url} (no account needed)")
    try:
        print(f"Airflow home: {HOME} (SQLite, throw-away)")
        if _airflow(env, log, "db", "migrate") != 0:
            print(f"airflow db migrate failed; see {log}")
            return 1
        print(f"Running: airflow dags test {DAG_ID} {today}T02:30:00+00:00  (reports {yesterday})")
        code = _airflow(env, log, "dags", "test", DAG_ID, f"{today}T02:30:00+00:00")
        if code == 0:
            print(f"Running: airflow dags test {CALL_CENTER_DAG_ID} {today}T02:45:00+00:00  (loads {yesterday})")
            code = _airflow(env, log, "dags", "test", CALL_CENTER_DAG_ID, f"{today}T02:45:00+00:00")
        warehouse = load_warehouse(env, log, today) if code == 0 else ""
    finally:
        if emulator is not None:
            emulator.stop()
    partition = OUTPUT / "agent_performance" / f"dt={yesterday}"
    summary_path = partition / "summary.json"
    if code != 0 or not summary_path.exists():
        print(f"\nThe DAG run failed (exit code {code}). Last lines of {log}:")
        print("\n".join(log.read_text().splitlines()[-30:]))
        return 1
    summary = json.loads(summary_path.read_text())
    if emulator is not None:
        print(f"Emulator saw {len(emulator.requests)} requests (token always in the POST body).")
    print(f"\nOutput landed in {partition}/")
    for item in sorted(partition.iterdir()):
        print(f"  {item.name:14} {item.stat().st_size:>8} bytes")
    print(f"\nAgent benchmarks for {summary['date']} (v below range, ^ above range):\n")
    print(format_table(summary["scores"]))
    print(f"\n{summary['agents']} agents scored, {len(summary['flagged'])} outside at least one reference range.")
    print(format_quality(summary.get("quality"), summary["digest"]))
    print(f"\nThe scorecard page (open it in a browser; it needs no network): {partition / 'scorecard.html'}")
    print(f"\nThe call center's day {yesterday}, from {CALL_CENTER_DAG_ID}:")
    print(format_tables(OUTPUT, yesterday.isoformat()))
    print(f"\nThe same day in a warehouse, from {WAREHOUSE_DAG_ID} (upserts; a rerun leaves one row per key):")
    print(warehouse)
    print("\nPoint the same DAG at a real account with one variable:")
    print("  CONVOSO_AUTH_TOKEN=<token> make demo")
    print(f"Full Airflow log: {log}")
    print("\nSee it in the web UI (the demo's Airflow home, with this run in it):")
    print(f"  AIRFLOW_HOME={HOME} AIRFLOW__CORE__DAGS_FOLDER={ROOT / 'example_dags'} .venv/bin/airflow standalone")
    print("  then open the URL it prints (the admin password is in its output):")
    print("  - Admin > Connections > Add Connection > Convoso: the connection form")
    print(f"  - Dags > {DAG_ID} and {CALL_CENTER_DAG_ID} > Runs: these runs, the deferred sensors, each task's log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
