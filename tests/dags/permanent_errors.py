"""Every permanent error in one DAG: a revoked token (operator and sensor) and each unknown filter."""

import datetime
from pathlib import Path

import pendulum

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG

from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator
from airflow_provider_convoso.sensors.agent_performance import AgentPerformanceSensor

# The filters whose unknown ids the service answers with a permanent error code.
FILTERS = ("campaign_ids", "queue_ids", "list_ids", "user_ids", "status_ids")
retry = {"retries": 3, "retry_delay": datetime.timedelta(seconds=0)}

with DAG(Path(__file__).stem, schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False) as dag:
    AgentPerformanceOperator(task_id="bad_token", convoso_conn_id="convoso_bad", date_start="2026-01-01", **retry)
    AgentPerformanceSensor(
        task_id="sensor_bad_token",
        convoso_conn_id="convoso_bad",
        date_start="2026-01-02",
        poke_interval=0.01,
        timeout=30,
        **retry,
    )
    for day, name in enumerate(FILTERS, start=1):
        AgentPerformanceOperator(task_id=f"bad_{name}", date_start=f"2026-02-{day:02d}", **{name: "999999"}, **retry)
