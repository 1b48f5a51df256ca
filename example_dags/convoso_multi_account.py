"""Several campaigns and several Convoso accounts, with dynamic task mapping.

Use case: "Team Benchmarking" across campaigns and business units. One mapped task
instance per campaign (``expand_kwargs``, so each writes its own partition) and one per
Convoso connection (``expand(convoso_conn_id=...)``), each account being a connection
whose password is that account's token.

Configure with the DAG params ``campaign_ids`` and ``conn_ids`` when triggering, and the
Variable ``convoso_output_base`` for where the per-campaign partitions land.
"""

from __future__ import annotations

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.decorators import task
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator

DAY = "{{ macros.ds_add(ds, -1) }}"
OUTPUT_BASE = "{{ var.value.get('convoso_output_base', 'file:///tmp/convoso') }}"

with DAG(
    dag_id="convoso_multi_account",
    description="Per-campaign and per-account agent performance via dynamic task mapping",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1),
    catchup=False,
    params={"campaign_ids": [111, 222, 333], "conn_ids": ["convoso_default"]},
    tags=["convoso", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def campaign_jobs(output_base: str, day: str, params: dict | None = None) -> list[dict]:
        """One extract per campaign, each to its own partition (templated arguments are rendered)."""
        return [
            {"campaign_ids": campaign, "output_path": f"{output_base}/campaign={campaign}/dt={day}/agents.jsonl"}
            for campaign in (params or {})["campaign_ids"]
        ]

    @task
    def conn_ids(params: dict | None = None) -> list[str]:
        return list((params or {})["conn_ids"])

    per_campaign = AgentPerformanceOperator.partial(
        task_id="per_campaign",
        date_start=DAY,
        date_end=DAY,
    ).expand_kwargs(campaign_jobs(output_base=OUTPUT_BASE, day=DAY))

    per_account = AgentPerformanceOperator.partial(
        task_id="per_account",
        date_start=DAY,
        date_end=DAY,
    ).expand(convoso_conn_id=conn_ids())
