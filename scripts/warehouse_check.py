"""The warehouse example DAG against a real PostgreSQL: reruns, late rows and lead changes leave
one newest row per key, equal to the emulator's truth, in the published column types.

Runs ``convoso_warehouse_load`` with ``airflow dags test`` (SQLite metadata, the emulator in
this process) four times: day 1 while every 50th call is still missing, day 2 while leads
change under its export, day 1 again (the late calls are there now), and day 3, where the
changed leads landed. Then each table is compared with the emulator row for row.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import traceback
from pathlib import Path
from typing import Any

from deployment import (
    VENV_BIN,
    airflow,
    check,
    database,
    new_workspace,
    query,
    show_failure,
    start_postgres,
    stop_everything,
)

DAG_ID = "convoso_warehouse_load"
TODAY = dt.date(2026, 3, 6)
DAYS = [TODAY - dt.timedelta(days=2), TODAY - dt.timedelta(days=1), TODAY]
SCHEMA = "convoso"


def run(env: dict[str, str], day: dt.date, logical: str, log: Path) -> None:
    """One ``airflow dags test`` of the DAG for ``day``; its output goes to ``log``."""
    import subprocess

    with log.open("ab") as output:
        result = subprocess.run(
            [str(VENV_BIN / "airflow"), "dags", "test", DAG_ID, logical, "-c", json.dumps({"day": day.isoformat()})],
            env=env, stdout=output, stderr=subprocess.STDOUT, timeout=600, check=False,
        )  # fmt: skip
    lines = log.read_text(errors="replace").splitlines()
    check(result.returncode == 0 and not any("state=failed" in line for line in lines[-200:]),
          f"{DAG_ID} loaded {day} (run at {logical})")  # fmt: skip


def _clean(value: Any) -> Any:
    """A value as the warehouse holds it: empty text loads as NULL."""
    return None if value == "" else value


def truth(emulator: Any) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows as the emulator holds them now, typed by the provider's readers."""
    from airflow_provider_convoso.hooks.convoso import ConvosoHook

    hook = ConvosoHook()
    first, last = DAYS[0], DAYS[-1]
    start = f"{first - dt.timedelta(days=1)} 22:00:00"  # day 1's two-hour lookback
    tables: dict[str, list[dict[str, Any]]] = {
        "call_logs": list(hook.iter_call_logs(start, f"{last} 23:59:59")),
        "leads": list(hook.iter_leads(f"{first} 00:00:00", f"{last} 23:59:59")),
        "agent_productivity": [event for day in DAYS for event in hook.iter_agent_productivity(day)],
        "agent_performance": [
            {"date": day, **row} for day in DAYS for row in hook.get_agent_performance(date_start=day, date_end=day)
        ],
    }
    for lookup in ("users", "campaigns", "lists", "statuses"):
        tables[lookup] = hook.get_lookup(lookup)
    return tables


def compare(cursor: Any, emulator: Any) -> None:
    from airflow_provider_convoso.schemas import TABLE_NAMES, table
    from airflow_provider_convoso.tables import _TYPES

    expected = truth(emulator)
    for name in TABLE_NAMES:
        published = table(name)
        cursor.execute(
            "SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
            " ORDER BY ordinal_position",
            (SCHEMA, name),
        )
        types = dict(cursor.fetchall())
        postgres = {"TEXT": "text", "BIGINT": "int8", "DOUBLE PRECISION": "float8", "BOOLEAN": "bool", "DATE": "date",
                    "TIMESTAMPTZ": "timestamptz", "JSONB": "jsonb"}  # fmt: skip
        wrong = {
            c.name: types.get(c.name) for c in published.columns if types.get(c.name) != postgres[_TYPES[c.kind][0]]
        }
        check(not wrong, f"{name}: every published column has its published type in PostgreSQL {wrong or ''}")
        columns = list(types)
        key = published.key
        cursor.execute(
            f'SELECT {", ".join(chr(34) + c + chr(34) for c in columns)} FROM "{SCHEMA}"."{name}" '
            f"ORDER BY {', '.join(chr(34) + c + chr(34) for c in key)}"
        )
        stored = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        rows = sorted(expected[name], key=lambda row: tuple(str(row[k]) for k in key))
        want = [{c: _clean(row.get(c)) for c in columns} for row in rows]
        got = [{c: str(v) if c == "date" and v is not None else v for c, v in row.items()} for row in stored]
        want = [{c: str(v) if c == "date" and v is not None else v for c, v in row.items()} for row in want]
        first_difference = next(((w, g) for w, g in zip(want, got, strict=False) if w != g), None)
        check(
            len(got) == len(want) and first_difference is None,
            f"{name}: {len(got)} rows, one per key, equal to the emulator's {len(want)} "
            + (f"(first difference: {first_difference})" if first_difference else ""),
        )


def main() -> int:
    from airflow_provider_convoso.testing import ConvosoEmulator

    work, token, logs, procs = new_workspace("warehouse-check")
    ok = False
    try:
        pg_port = start_postgres(procs, work)
        home = work / "airflow-home"
        (home / "dags").mkdir(parents=True)
        shutil.copy(Path(__file__).resolve().parent.parent / "example_dags" / f"{DAG_ID}.py", home / "dags")
        with ConvosoEmulator(token=token, today=TODAY, leads_per_day=300, late_rows_until_request=2) as emulator:
            env = {
                **os.environ,
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW_CONN_CONVOSO_DEFAULT": emulator.connection_json(),
                "AIRFLOW_CONN_CONVOSO_WAREHOUSE": f"postgresql://airflow@127.0.0.1:{pg_port}/airflow",
                "AIRFLOW_VAR_CONVOSO_OUTPUT_BASE": f"file://{work / 'out'}",
            }
            os.environ["AIRFLOW_CONN_CONVOSO_DEFAULT"] = env["AIRFLOW_CONN_CONVOSO_DEFAULT"]
            airflow(env, "db", "migrate")
            dags_log = logs / "dags-test.log"
            run(env, DAYS[0], "2026-03-10T04:15:00+00:00", dags_log)  # every 50th call of day 1 not there yet
            [(first_load,)] = query(
                pg_port, f'SELECT count(*) FROM "{SCHEMA}".call_logs WHERE call_date LIKE %s', f"{DAYS[0]}%"
            )
            day_one = len(emulator.day_calls(DAYS[0]))
            check(first_load < day_one, f"the first load of day 1 lacks the late calls ({first_load} of {day_one})")
            emulator.configure(lead_updates_per_page=4)  # leads change while day 2 is exported
            run(env, DAYS[1], "2026-03-11T04:15:00+00:00", dags_log)
            moved = len(emulator.leads_truth(f"{DAYS[2]} 00:00:00", f"{DAYS[2]} 23:59:59")) - 300
            check(moved > 0, f"{moved} leads changed while day 2 was exported: their new day is day 3")
            emulator.configure(lead_updates_per_page=0)
            run(env, DAYS[0], "2026-03-12T04:15:00+00:00", dags_log)  # the rerun: the late calls are in
            run(env, DAYS[2], "2026-03-13T04:15:00+00:00", dags_log)  # the changed leads' new day
            with database(pg_port) as cursor:
                compare(cursor, emulator)
        print("\nWarehouse check passed.")
        ok = True
    except Exception as error:  # any failure is reported with the logs
        traceback.print_exc()
        show_failure("Warehouse check", error, logs)
    finally:
        ok = stop_everything(procs, [], "Warehouse check") and ok
        if ok:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
