"""Month backfill: one task, one request per day, run concurrently.

Use case: "Trend Analysis". ``split_by_day=True`` makes one request per calendar day of
the month (``max_concurrency`` at a time, sharing one HTTP client), adds a ``date`` field
to every row, orders rows by date then ``user_id``, and writes one Parquet file (JSONL
when pyarrow, the ``[parquet]`` extra, is not installed). If any day still fails after its
retries the task fails and nothing is written.

Trigger it with the month's first and last day as params, or let them default to the
previous calendar month. Days are the Convoso account's days (its time zone).
"""

from __future__ import annotations

import importlib.util

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator

FORMAT = "parquet" if importlib.util.find_spec("pyarrow") else "jsonl"
FIRST = "{{ params.first_day or logical_date.subtract(months=1).start_of('month').to_date_string() }}"
LAST = "{{ params.last_day or logical_date.start_of('month').subtract(days=1).to_date_string() }}"

with DAG(
    dag_id="convoso_month_backfill",
    description="A month of Convoso agent performance, day by day, in one task",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1),
    catchup=False,
    params={"first_day": "", "last_day": ""},
    tags=["convoso", "example"],
    doc_md=__doc__,
) as dag:
    AgentPerformanceOperator(
        task_id="backfill_month",
        convoso_conn_id="{{ var.value.get('convoso_conn_id', 'convoso_default') }}",
        date_start=FIRST,
        date_end=LAST,
        split_by_day=True,
        max_concurrency=8,
        output_path="{{ var.value.get('convoso_output_base', 'file:///tmp/convoso') }}/agent_performance_month/"
        + FIRST
        + "_"
        + LAST
        + "."
        + FORMAT,
        output_conn_id="{{ var.value.get('convoso_output_conn_id', '') }}",
    )
