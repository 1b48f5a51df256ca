"""Every path that touches the token: a deferring sensor, a landing, a lookup, a broken filter, a revoked token."""

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
        task_id="wait", date_start="{{ ds }}", deferrable=True, poke_interval=0.01, timeout=60
    )
    land = AgentPerformanceOperator(task_id="land", date_start="{{ ds }}", output_path="{{ params.out }}/{{ ds }}.csv")
    lookup = AgentPerformanceOperator(task_id="lookup", date_start="{{ ds }}", user_ids="10001")
    broken = AgentPerformanceOperator(task_id="broken", date_start="{{ ds }}", campaign_ids="999999")
    revoked = AgentPerformanceOperator(task_id="revoked", convoso_conn_id="convoso_revoked", date_start="{{ ds }}")
    wait >> [land, lookup, broken, revoked]
