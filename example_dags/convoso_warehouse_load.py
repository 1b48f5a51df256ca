"""From the bucket to the warehouse: a day of every Convoso table loaded into PostgreSQL with upserts.

Use case: keep warehouse tables of agent performance, call logs, agent productivity, lead
changes and the four lookup tables current, one row per natural key holding the newest
values, however often a day is rerun and however late its rows arrive.

For each table the DAG extracts the day to CSV under ``{output_base}/warehouse/<table>/dt=YYYY-MM-DD/``
(the files' columns are the published schema's, in order:
``airflow_provider_convoso.schemas``), then one task loads it:

1. ``CREATE TABLE IF NOT EXISTS`` from the published DDL (``schemas.ddl(table, "postgres")``);
2. a staging table like it (``_staging_<table>``), emptied, then filled with
   ``COPY … FROM STDIN (FORMAT csv, HEADER)`` through ``PostgresHook.copy_expert`` (every
   column, no cast); fields the schema does not know (a lead table's custom fields) become
   text columns of both;
3. one ``INSERT … SELECT DISTINCT ON (key) … ON CONFLICT (key) DO UPDATE`` that keeps the
   latest row per key and overwrites only with newer data: a lead only with a copy updated
   at least as late (``updated_at_utc``); the other tables with the newer extract (a rerun
   or a lookback reads the service's current rows), and only where a value changed.

Call logs re-read the last two hours of the day before (late rows); agent performance is
extracted by day (its key is the day and the agent). Configuration: the Airflow Variables
``convoso_conn_id``, ``convoso_output_base`` and ``convoso_warehouse_conn_id`` (a Postgres
connection, default ``convoso_warehouse``) and ``convoso_warehouse_schema`` (default ``convoso``).
"""

from __future__ import annotations

import datetime

import pendulum
from airflow.timetables.trigger import CronTriggerTimetable

try:  # Airflow 3
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.decorators import task
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator
from airflow_provider_convoso.operators.agent_productivity import AgentProductivityOperator
from airflow_provider_convoso.operators.call_logs import CallLogsOperator
from airflow_provider_convoso.operators.leads import LeadsOperator
from airflow_provider_convoso.operators.lookups import LookupTableOperator

CONVOSO_TZ = "UTC"  # the Convoso account's time zone, as in the connection's timezone extra
DAY = "{{ params.day or macros.ds_add(ds, -1) }}"
CONN_ID = "{{ var.value.get('convoso_conn_id', 'convoso_default') }}"
OUTPUT_BASE = "{{ var.value.get('convoso_output_base', 'file:///tmp/convoso') }}"
WAREHOUSE_CONN_ID = "{{ var.value.get('convoso_warehouse_conn_id', 'convoso_warehouse') }}"
SCHEMA = "{{ var.value.get('convoso_warehouse_schema', 'convoso') }}"
LOOKUPS = ("users", "campaigns", "lists", "statuses")


@task(retries=2, retry_delay=datetime.timedelta(seconds=30))
def load(table: str, path: str, warehouse_conn_id: str, schema: str) -> dict[str, int]:
    """Upsert one extracted CSV into ``schema.table``: staging, latest per key, newer data only."""
    import csv
    import io
    import re
    import shutil
    import tempfile
    from pathlib import Path

    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from airflow_provider_convoso.compat import object_storage_path
    from airflow_provider_convoso.schemas import ddl
    from airflow_provider_convoso.schemas import table as published

    source = object_storage_path(path, None)
    with source.open("rb") as handle:
        header = next(csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline="")))
    known, key = published(table).column_names, published(table).key
    # Fields the schema does not know (a lead table's custom fields) become text columns;
    # their names come from the service, so only plain identifiers are accepted.
    extras = [column for column in header if column not in known]
    if header[: len(known)] != list(known) or not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", c) for c in extras):
        raise ValueError(f"{path}: the header is not the published {table} columns and plain extra names")
    target, staging = f'"{schema}"."{table}"', f'"{schema}"."_staging_{table}"'
    names = ", ".join(f'"{column}"' for column in header)
    keys = ", ".join(f'"{column}"' for column in key)
    updates = ", ".join(f'"{column}" = EXCLUDED."{column}"' for column in header if column not in key)
    if table == "leads":  # a lead changes: keep the copy updated last
        order, newer = '"updated_at_utc" DESC NULLS LAST', f'{target}."updated_at_utc" <= EXCLUDED."updated_at_utc"'
    else:  # a newer extract of a call, an event, a day or a lookup row: where a value differs
        excluded = ", ".join(f'EXCLUDED."{column}"' for column in header)
        current = ", ".join(f'{target}."{column}"' for column in header)
        order, newer = keys, f"({current}) IS DISTINCT FROM ({excluded})"
    hook = PostgresHook(postgres_conn_id=warehouse_conn_id)
    hook.run(
        [
            f'CREATE SCHEMA IF NOT EXISTS "{schema}"',
            ddl(table, "postgres", name=f"{schema}.{table}"),
            *(f'ALTER TABLE {target} ADD COLUMN IF NOT EXISTS "{column}" TEXT' for column in extras),
            f"CREATE UNLOGGED TABLE IF NOT EXISTS {staging} (LIKE {target})",
            *(f'ALTER TABLE {staging} ADD COLUMN IF NOT EXISTS "{column}" TEXT' for column in extras),
            f"TRUNCATE {staging}",
        ]
    )
    with tempfile.TemporaryDirectory() as scratch:  # copy_expert reads a local file
        local = Path(scratch) / "rows.csv"
        with source.open("rb") as remote, open(local, "wb") as copy:
            shutil.copyfileobj(remote, copy, 1024 * 1024)
        hook.copy_expert(f"COPY {staging} ({names}) FROM STDIN WITH (FORMAT csv, HEADER true)", str(local))
    staged = hook.get_first(f"SELECT count(*) FROM {staging}")[0]
    merge = (
        f"INSERT INTO {target} ({names}) SELECT DISTINCT ON ({keys}) {names} FROM {staging} "
        f"ORDER BY {keys}, {order} ON CONFLICT ({keys}) DO UPDATE SET {updates} WHERE {newer}"
    )
    changed = hook.get_first(f"WITH upserted AS ({merge} RETURNING 1) SELECT count(*) FROM upserted")[0]
    hook.run(f"TRUNCATE {staging}")
    return {"staged": staged, "upserted": changed}


with DAG(
    dag_id="convoso_warehouse_load",
    description="A day of every Convoso table, extracted to CSV and upserted into PostgreSQL",
    schedule=CronTriggerTimetable("15 4 * * *", timezone=CONVOSO_TZ),
    start_date=pendulum.datetime(2026, 1, 1, tz=CONVOSO_TZ),
    catchup=False,
    params={"day": ""},  # a run's conf can name the day to (re)load; default yesterday
    max_active_runs=1,  # one load of a table at a time: its staging table is shared
    tags=["convoso", "example"],
    doc_md=__doc__,
) as dag:
    partition = "/dt=" + DAY

    def csv_path(table: str) -> str:
        return OUTPUT_BASE + "/warehouse/" + table + partition + "/" + table + ".csv"

    extracts = {
        "agent_performance": AgentPerformanceOperator(
            task_id="extract_agent_performance",
            convoso_conn_id=CONN_ID,
            date_start=DAY,
            date_end=DAY,
            split_by_day=True,  # each row carries its day: the table's key is (date, user_id)
            output_path=csv_path("agent_performance"),
        ),
        "call_logs": CallLogsOperator(
            task_id="extract_call_logs",
            convoso_conn_id=CONN_ID,
            date=DAY,
            lookback=datetime.timedelta(hours=2),
            max_concurrency=8,
            output_path=csv_path("call_logs"),
        ),
        "agent_productivity": AgentProductivityOperator(
            task_id="extract_agent_productivity",
            convoso_conn_id=CONN_ID,
            date=DAY,
            output_path=csv_path("agent_productivity"),
        ),
        "leads": LeadsOperator(
            task_id="extract_leads", convoso_conn_id=CONN_ID, date=DAY, output_path=csv_path("leads")
        ),
        **{
            table: LookupTableOperator(
                task_id=f"extract_{table}", convoso_conn_id=CONN_ID, table=table, output_path=csv_path(table)
            )
            for table in LOOKUPS
        },
    }
    for table, extract in extracts.items():
        extract >> load.override(task_id=f"load_{table}")(table, csv_path(table), WAREHOUSE_CONN_ID, SCHEMA)
