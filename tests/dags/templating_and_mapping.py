"""Templated dates, filters from params, an output path per run, an asset alias, and a mapped task."""

from pathlib import Path

import pendulum

try:
    from airflow.sdk import DAG, AssetAlias

    outlets = [AssetAlias("convoso-agent-performance")]
except ImportError:  # Airflow 2.11: no asset aliases
    from airflow import DAG

    outlets = []

from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator

with DAG(
    Path(__file__).stem,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1),
    catchup=False,
    params={"out": "/nonexistent", "campaigns": [111, 222]},
) as dag:
    AgentPerformanceOperator(
        task_id="pull",
        date_start="{{ macros.ds_add(ds, -1) }}",
        date_end="{{ macros.ds_add(ds, -1) }}",
        campaign_ids="{{ params.campaigns }}",
        output_path="file://{{ params.out }}/dt={{ ds }}/agents.csv",
        outlets=outlets,
    )
    AgentPerformanceOperator.partial(task_id="mapped", date_start="{{ ds }}").expand(
        campaign_ids=[111, [222, 333], "444"]
    )
