"""Yesterday's call logs into date-partitioned storage, and one agent's events to XCom."""

from pathlib import Path

import pendulum

try:
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.decorators import task

from airflow_provider_convoso.operators.agent_productivity import AgentProductivityOperator
from airflow_provider_convoso.operators.call_logs import CallLogsOperator

with DAG(
    Path(__file__).stem,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1),
    catchup=False,
    params={"out": "/nonexistent"},
) as dag:
    CallLogsOperator(
        task_id="calls",
        date="{{ macros.ds_add(ds, -1) }}",
        output_path="{{ params.out }}/{{ macros.ds_add(ds, -1) }}.parquet",
        max_concurrency=4,
    )
    # To XCom: the events' aware datetimes go through Airflow's XCom serialisation to the next task.
    events = AgentProductivityOperator(
        task_id="events", date="{{ macros.ds_add(ds, -1) }}", agent_emails="jane.smith.10001@example.com"
    )

    @task
    def event_types(pulled: list) -> dict:
        import datetime

        first = pulled[0]["event_time"]
        return {
            "events": len(pulled),
            "users": sorted({event["user_id"] for event in pulled}),
            "datetime": isinstance(first, datetime.datetime),
            "utc_offset_s": first.utcoffset().total_seconds(),
        }

    event_types(events.output)
