"""A day of the call center: agent performance settled, then call logs, productivity and lookups.

Use case: load yesterday's calls, agent state changes and the tables that name their ids
into date-partitioned storage, for a warehouse to join.

* ``wait_for_day`` (deferrable sensor) waits until agent performance for yesterday has
  stopped changing: the day is complete enough to load.
* ``call_logs`` writes every call of yesterday (account-local), re-pulling the last two
  hours of the day before for late rows, to ``{output_base}/call_logs/dt=YYYY-MM-DD/calls.parquet``.
* ``agent_productivity`` writes yesterday's login/ready/pause/logout events beside it.
* ``leads`` exports the leads changed yesterday (every lead whose last update falls on that
  day, complete while leads keep changing) to ``{output_base}/leads/dt=YYYY-MM-DD/leads.parquet``.
* ``recordings`` downloads yesterday's call recordings into ``{output_base}/recordings/dt=YYYY-MM-DD/``
  with a ``manifest.jsonl``; a rerun fetches only what is missing.
* ``users``, ``campaigns``, ``lists`` and ``statuses`` reload each lookup table in full;
  they do not wait for the sensor (a failed lookup does not block the facts).

Days are the account's: set the connection's ``timezone`` extra (e.g.
``America/Los_Angeles``) and ``CONVOSO_TZ`` below to the same zone.
Configuration: the Airflow Variables of ``convoso_daily_agent_report`` and the
environment variable ``CONVOSO_POKE_INTERVAL`` (seconds, default 300).
"""

from __future__ import annotations

import datetime
import os

import pendulum
from airflow.timetables.trigger import CronTriggerTimetable

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG
from airflow_provider_convoso.operators.agent_productivity import AgentProductivityOperator
from airflow_provider_convoso.operators.call_logs import CallLogsOperator
from airflow_provider_convoso.operators.call_recordings import CallRecordingsOperator
from airflow_provider_convoso.operators.leads import LeadsOperator
from airflow_provider_convoso.operators.lookups import LookupTableOperator
from airflow_provider_convoso.sensors.agent_performance import AgentPerformanceSensor

CONVOSO_TZ = "UTC"  # the Convoso account's time zone, as in the connection's timezone extra
YESTERDAY = "{{ macros.ds_add(ds, -1) }}"
CONN_ID = "{{ var.value.get('convoso_conn_id', 'convoso_default') }}"
OUTPUT_BASE = "{{ var.value.get('convoso_output_base', 'file:///tmp/convoso') }}"
OUTPUT_CONN_ID = "{{ var.value.get('convoso_output_conn_id', '') }}"
POKE_INTERVAL = float(os.environ.get("CONVOSO_POKE_INTERVAL", "300"))

with DAG(
    dag_id="convoso_daily_call_center",
    description="Yesterday's Convoso call logs, recordings, agent productivity, lead changes and lookup tables",
    schedule=CronTriggerTimetable("45 2 * * *", timezone=CONVOSO_TZ),
    start_date=pendulum.datetime(2026, 1, 1, tz=CONVOSO_TZ),
    catchup=False,
    tags=["convoso", "example"],
    doc_md=__doc__,
) as dag:
    wait_for_day = AgentPerformanceSensor(
        task_id="wait_for_day",
        convoso_conn_id=CONN_ID,
        date_start=YESTERDAY,
        date_end=YESTERDAY,
        settle_polls=2,
        deferrable=True,
        poke_interval=POKE_INTERVAL,
        timeout=6 * 3600,
    )
    partition = "/dt=" + YESTERDAY
    call_logs = CallLogsOperator(
        task_id="call_logs",
        convoso_conn_id=CONN_ID,
        date=YESTERDAY,
        lookback=datetime.timedelta(hours=2),
        max_concurrency=8,
        output_path=OUTPUT_BASE + "/call_logs" + partition + "/calls.parquet",
        output_conn_id=OUTPUT_CONN_ID,
        retries=2,
    )
    productivity = AgentProductivityOperator(
        task_id="agent_productivity",
        convoso_conn_id=CONN_ID,
        date=YESTERDAY,
        output_path=OUTPUT_BASE + "/agent_productivity" + partition + "/events.parquet",
        output_conn_id=OUTPUT_CONN_ID,
        retries=2,
    )
    leads = LeadsOperator(
        task_id="leads",
        convoso_conn_id=CONN_ID,
        date=YESTERDAY,
        output_path=OUTPUT_BASE + "/leads" + partition + "/leads.parquet",
        output_conn_id=OUTPUT_CONN_ID,
        retries=2,
    )
    recordings = CallRecordingsOperator(
        task_id="recordings",
        convoso_conn_id=CONN_ID,
        date=YESTERDAY,
        output_path=OUTPUT_BASE + "/recordings" + partition,
        output_conn_id=OUTPUT_CONN_ID,
        max_concurrency=8,
        retries=2,
    )
    wait_for_day >> [call_logs, productivity, recordings]
    for table in ("users", "campaigns", "lists", "statuses"):
        LookupTableOperator(
            task_id=table,
            convoso_conn_id=CONN_ID,
            table=table,
            output_path=OUTPUT_BASE + "/lookups/" + table + partition + "/" + table + ".jsonl",
            output_conn_id=OUTPUT_CONN_ID,
            retries=2,
        )
