"""A scorecard task and a task that is not one, for the scorecard route."""

from pathlib import Path

import pendulum

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.11
    from airflow import DAG

from airflow_provider_convoso.operators.agent_scorecard import AgentScorecardOperator
from airflow_provider_convoso.operators.lookups import LookupTableOperator

with DAG(
    Path(__file__).stem,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1),
    catchup=False,
    params={"out": "/nonexistent"},
) as dag:
    AgentScorecardOperator(task_id="scorecard", date_start="2026-03-02", output_path="{{ params.out }}/card.html")
    LookupTableOperator(task_id="campaigns", table="campaigns")
