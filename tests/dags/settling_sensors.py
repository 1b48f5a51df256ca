"""The same settling wait in each sensor mode, each on its own agent, then a pull that
reports the digest of what it wrote."""

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
    waits = [
        AgentPerformanceSensor(
            task_id=f"wait_{mode}",
            date_start="{{ ds }}",
            date_end="{{ ds }}",
            user_ids=user_id,
            settle_polls=2,
            poke_interval=0.05 if mode != "reschedule" else 1,
            timeout=120,
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
        )
        for mode, user_id in (("poke", "10001"), ("reschedule", "10002"), ("deferrable", "10003"))
    ]
    pull = AgentPerformanceOperator(
        task_id="pull",
        date_start="{{ ds }}",
        date_end="{{ ds }}",
        user_ids="10001",
        output_path="{{ params.out }}/{{ ds }}.jsonl",
    )
    waits >> pull
