"""Every path that holds a recording link: downloads that land, a task failed over max_failed, the call logs that carry them."""

from pathlib import Path

import pendulum

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG

from airflow_provider_convoso.operators.call_logs import CallLogsOperator
from airflow_provider_convoso.operators.call_recordings import CallRecordingsOperator

with DAG(
    Path(__file__).stem,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1),
    catchup=False,
    params={"out": "/nonexistent"},
) as dag:
    CallRecordingsOperator(
        task_id="land", date="{{ ds }}", user_id="10001", output_path="{{ params.out }}/recordings/{{ ds }}"
    )
    CallRecordingsOperator(
        task_id="strict", date="{{ ds }}", user_id="10001", output_path="{{ params.out }}/strict", max_failed=0
    )
    CallLogsOperator(
        task_id="calls",
        date="{{ ds }}",
        user_id="10001",
        include_recordings=True,
        output_path="{{ params.out }}/calls/calls.jsonl",
    )
