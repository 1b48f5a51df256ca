"""Daily agent report: wait for yesterday's Convoso data, land it, score every agent.

Use case: "Agent Productivity Reports" and "Quality Monitoring" from the Convoso contract.

* ``wait_for_data`` (deferrable sensor) waits, without holding a worker slot, until
  Convoso has yesterday's rows and they have stopped changing (the same answer on three
  polls in a row: late events keep arriving after midnight).
* ``extract`` writes them to ``{output_base}/agent_performance/dt=YYYY-MM-DD/agents.jsonl``
  and checks every record against the contract's rules (``quality_checks="warn"``).
* ``score_agents`` checks each agent against the contract's reference benchmarks and
  writes ``summary.json`` beside the data, with the data-quality report and the digest.
* ``scorecard`` writes ``scorecard.html`` beside them: one self-contained page of every
  agent against the reference ranges, from the records ``extract`` wrote.

Which day is "yesterday"
------------------------
The schedule is an explicit ``CronTriggerTimetable`` on both Airflow 2.11 and 3.x, so the
logical date is the run's own time on both (Airflow 3's ``@daily`` already behaves this
way; Airflow 2.11's ``@daily`` would instead start the data interval at the previous
midnight). "Yesterday" is therefore ``macros.ds_add(ds, -1)`` on both lines.

Time zones: Convoso reports days in the account's time zone. Set ``CONVOSO_TZ`` below to
that zone so the run fires after the account's midnight and ``ds`` is the account's day.

Configuration (Airflow Variables, all optional):
``convoso_conn_id`` (default ``convoso_default``), ``convoso_output_base`` (default
``file:///tmp/convoso``) and ``convoso_output_conn_id`` (the object store's connection).
The environment variable ``CONVOSO_POKE_INTERVAL`` (seconds, default 300) sets how often
the sensor polls; ``make demo`` sets it to 1.
"""

from __future__ import annotations

import os

import pendulum
from airflow.timetables.trigger import CronTriggerTimetable

try:  # Airflow 3
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2.11
    from airflow import DAG
    from airflow.decorators import task
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator
from airflow_provider_convoso.operators.agent_scorecard import AgentScorecardOperator
from airflow_provider_convoso.sensors.agent_performance import AgentPerformanceSensor

CONVOSO_TZ = "UTC"  # the Convoso account's time zone, e.g. "America/Los_Angeles"
YESTERDAY = "{{ macros.ds_add(ds, -1) }}"
CONN_ID = "{{ var.value.get('convoso_conn_id', 'convoso_default') }}"
OUTPUT_BASE = "{{ var.value.get('convoso_output_base', 'file:///tmp/convoso') }}"
OUTPUT_CONN_ID = "{{ var.value.get('convoso_output_conn_id', '') }}"
POKE_INTERVAL = float(os.environ.get("CONVOSO_POKE_INTERVAL", "300"))

with DAG(
    dag_id="convoso_daily_agent_report",
    description="Yesterday's Convoso agent performance, landed and scored against benchmarks",
    schedule=CronTriggerTimetable("30 2 * * *", timezone=CONVOSO_TZ),
    start_date=pendulum.datetime(2026, 1, 1, tz=CONVOSO_TZ),
    catchup=False,
    tags=["convoso", "example"],
    doc_md=__doc__,
) as dag:
    wait_for_data = AgentPerformanceSensor(
        task_id="wait_for_data",
        convoso_conn_id=CONN_ID,
        date_start=YESTERDAY,
        date_end=YESTERDAY,
        deferrable=True,
        settle_polls=3,
        poke_interval=POKE_INTERVAL,
        timeout=6 * 3600,
    )

    extract = AgentPerformanceOperator(
        task_id="extract",
        convoso_conn_id=CONN_ID,
        date_start=YESTERDAY,
        date_end=YESTERDAY,
        output_path=OUTPUT_BASE + "/agent_performance/dt=" + YESTERDAY + "/agents.jsonl",
        output_conn_id=OUTPUT_CONN_ID,
        quality_checks="warn",
        retries=2,
    )

    @task
    def score_agents(extracted: dict, output_conn_id: str = OUTPUT_CONN_ID) -> dict:
        """Score every agent against the reference thresholds and write summary.json."""
        import json

        from airflow_provider_convoso.endpoints.agent_performance.scoring import outliers, summarize
        from airflow_provider_convoso.endpoints.agent_performance.scoring import score_agents as score

        try:  # Airflow 3
            from airflow.sdk import ObjectStoragePath
        except ImportError:  # Airflow 2.11
            from airflow.io.path import ObjectStoragePath

        from airflow_provider_convoso.output import write_atomically

        rows_path = ObjectStoragePath(extracted["path"], conn_id=output_conn_id or None)
        rows = [json.loads(line) for line in rows_path.read_text().splitlines() if line]
        scores = score(rows)
        summary = {
            "date": extracted["date_start"],
            "agents": len(scores),
            "by_metric": summarize(scores),
            "flagged": outliers(scores),
            "scores": scores,
            "quality": extracted.get("quality"),
            "digest": extracted["digest"],
        }
        summary_uri = extracted["path"].rsplit("/", 1)[0] + "/summary.json"
        write_atomically(
            ObjectStoragePath(summary_uri, conn_id=output_conn_id or None), json.dumps(summary, indent=2).encode()
        )
        return {"summary_path": summary_uri, "agents": len(scores), "flagged": len(summary["flagged"])}

    scorecard = AgentScorecardOperator(
        task_id="scorecard",
        date_start=YESTERDAY,
        records_path=OUTPUT_BASE + "/agent_performance/dt=" + YESTERDAY + "/agents.jsonl",  # no second API call
        records_conn_id=OUTPUT_CONN_ID,
        output_path=OUTPUT_BASE + "/agent_performance/dt=" + YESTERDAY + "/scorecard.html",
        output_conn_id=OUTPUT_CONN_ID,
    )

    wait_for_data >> extract >> scorecard
    score_agents(extract.output)
