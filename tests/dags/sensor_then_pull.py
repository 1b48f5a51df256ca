"""A deferring sensor gates the pull; a poke-mode sensor waits on its own query."""

from pathlib import Path

import pendulum

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG

from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator
from airflow_provider_convoso.sensors.agent_performance import AgentPerformanceSensor

with DAG(
    Path(__file__).stem,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1),
    catchup=False,
    params={"out": "/nonexistent"},
) as dag:
    wait = AgentPerformanceSensor(
        task_id="wait", date_start="{{ ds }}", date_end="{{ ds }}", deferrable=True, poke_interval=0.05, timeout=60
    )
    poke = AgentPerformanceSensor(
        task_id="poke", date_start="{{ ds }}", user_ids="10001", mode="poke", poke_interval=0.01, timeout=60
    )
    pull = AgentPerformanceOperator(
        task_id="pull", date_start="{{ ds }}", date_end="{{ ds }}", output_path="{{ params.out }}/{{ ds }}.jsonl"
    )
    wait >> pull
