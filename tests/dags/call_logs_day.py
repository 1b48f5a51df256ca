"""Yesterday's call logs into date-partitioned storage."""

from pathlib import Path

import pendulum

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG

from airflow_provider_convoso.operators.call_logs import CallLogsOperator

with DAG(
    Path(__file__).stem,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1),
    catchup=False,
    params={"out": "/nonexistent"},
) as dag:
    CallLogsOperator(
        task_id="calls",
        date="{{ macros.ds_add(ds, -1) }}",
        output_path="{{ params.out }}/{{ macros.ds_add(ds, -1) }}.parquet",
        max_concurrency=4,
    )
