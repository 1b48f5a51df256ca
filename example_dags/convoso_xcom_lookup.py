"""Small XCom lookup: a handful of agents' figures, passed straight to the next task.

Use case: "Agent Productivity Reports" for a few named agents. With no ``output_path``
the operator returns the typed rows through XCom (guarded by ``max_xcom_bytes``, 1 MiB by
default: write to object storage for anything larger).
"""

from __future__ import annotations

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.decorators import task
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator

with DAG(
    dag_id="convoso_xcom_lookup",
    description="A few agents' performance via XCom to a TaskFlow task",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1),
    catchup=False,
    params={"user_ids": [10001, 10002, 10003]},
    tags=["convoso", "example"],
    doc_md=__doc__,
) as dag:
    lookup = AgentPerformanceOperator(
        task_id="lookup",
        convoso_conn_id="{{ var.value.get('convoso_conn_id', 'convoso_default') }}",
        date_start="{{ macros.ds_add(ds, -7) }}",
        date_end="{{ macros.ds_add(ds, -1) }}",
        user_ids="{{ params.user_ids }}",
    )

    @task
    def busiest_agents(rows: list[dict]) -> list[dict]:
        """Agents by calls, with their talk share: read straight from XCom."""
        ranked = sorted(rows, key=lambda row: row["calls"], reverse=True)
        return [
            {"user_id": r["user_id"], "name": r["name"], "calls": r["calls"], "talk_sec_pt": r["talk_sec_pt"]}
            for r in ranked
        ]

    busiest_agents(lookup.output)
