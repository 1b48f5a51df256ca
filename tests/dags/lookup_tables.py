"""Every lookup table into storage, one task each."""

from pathlib import Path

import pendulum

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG

from airflow_provider_convoso.operators.lookups import LookupTableOperator

with DAG(
    Path(__file__).stem,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1),
    catchup=False,
    params={"out": "/nonexistent"},
) as dag:
    for table in ("users", "campaigns", "lists", "statuses"):
        LookupTableOperator(task_id=f"load_{table}", table=table, output_path="{{ params.out }}/" + table + ".jsonl")
