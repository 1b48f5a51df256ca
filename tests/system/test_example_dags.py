"""Every example DAG loads with no import error and runs end to end against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pendulum
import pytest
from support import RunDag

from airflow_provider_convoso.testing import ConvosoEmulator, read_output

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"


@pytest.fixture
def output_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIRFLOW_VAR_CONVOSO_OUTPUT_BASE", f"file://{tmp_path}")
    return tmp_path


def _example(name: str) -> Path:
    return EXAMPLES / f"{name}.py"


def test_dagbag_loads_every_example_without_errors() -> None:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLES))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {
        "convoso_daily_agent_report",
        "convoso_daily_call_center",
        "convoso_month_backfill",
        "convoso_multi_account",
        "convoso_xcom_lookup",
        "convoso_warehouse_load",
    }


def test_daily_schedule_makes_ds_the_run_day_on_both_lines() -> None:
    """With CronTriggerTimetable the logical date is the run time on 2.11 and 3.x alike."""
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.trigger import CronTriggerTimetable

    timetable = CronTriggerTimetable("30 2 * * *", timezone="UTC")
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=pendulum.datetime(2026, 3, 4), latest=None, catchup=True),
    )
    assert info.logical_date == pendulum.datetime(2026, 3, 4, 2, 30)
    assert info.data_interval.start == info.data_interval.end == info.logical_date


@pytest.mark.airflow_dag
def test_daily_agent_report_end_to_end(
    convoso_conn: ConvosoEmulator, run_dag: RunDag, output_base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first poke (on the worker) finds nothing, so the sensor defers; the figures move on
    # the trigger's first two polls, then stand still: three alike settle the day.
    monkeypatch.setenv("CONVOSO_POKE_INTERVAL", "0.05")
    convoso_conn.configure(data_after_requests=1, changing_requests=3, inconsistent_every=6)
    dag_run, xcom = run_dag(_example("convoso_daily_agent_report"), logical_date="2026-03-04T02:30:00+00:00")
    assert "success" in str(dag_run.state).lower()
    sensor_answers = [r.rows for r in convoso_conn.requests][:-1]  # the last request is the extract's
    assert sensor_answers == [0, 12, 12, 12, 12, 12]
    # The run of 2026-03-04 asked for "yesterday", 2026-03-03, in every request.
    assert {(r.params["date_start"], r.params["date_end"]) for r in convoso_conn.requests} == {
        ("2026-03-03", "2026-03-03")
    }
    data = output_base / "agent_performance" / "dt=2026-03-03" / "agents.jsonl"
    assert len(data.read_text().splitlines()) == 12
    summary = json.loads((data.parent / "summary.json").read_text())
    assert summary["agents"] == 12
    assert sum(summary["by_metric"]["talk_pct"].values()) == 12
    # agents 10001 and 10007 break the contract's relations: the report names them
    quality = summary["quality"]
    assert quality["checked"] == 12
    assert quality["rules"]["time_parts_sum_to_total"]["examples"] == ["10001", "10007"]
    assert summary["digest"] == xcom("wait_for_data")["digest"] == xcom("extract")["digest"]
    assert xcom("score_agents") == {
        "summary_path": f"file://{data.parent}/summary.json",
        "agents": 12,
        "flagged": len(summary["flagged"]),
    }
    card = xcom("scorecard")
    assert card["path"] == f"file://{data.parent}/scorecard.html" and card["agents"] == 12
    assert card["outside"] == len(summary["flagged"])
    assert "Agent scorecard, 2026-03-03" in (data.parent / "scorecard.html").read_text()


@pytest.mark.airflow_dag
def test_daily_call_center_end_to_end(
    convoso_conn: ConvosoEmulator, run_dag: RunDag, output_base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONVOSO_POKE_INTERVAL", "0.05")
    dag_run, xcom = run_dag(_example("convoso_daily_call_center"), logical_date="2026-03-04T02:45:00+00:00")
    assert "success" in str(dag_run.state).lower()
    assert xcom("wait_for_day")["rows"] == 12
    calls = xcom("call_logs")
    assert (calls["start_time"], calls["end_time"]) == ("2026-03-02 22:00:00", "2026-03-03 23:59:59")  # 2 h lookback
    day = output_base / "call_logs" / "dt=2026-03-03" / "calls.parquet"
    assert calls["rows"] == len(read_output(day.read_bytes(), "parquet")) > 0
    events = output_base / "agent_productivity" / "dt=2026-03-03" / "events.parquet"
    assert xcom("agent_productivity")["rows"] == len(read_output(events.read_bytes(), "parquet")) > 0
    for table in ("users", "campaigns", "lists", "statuses"):
        path = output_base / "lookups" / table / "dt=2026-03-03" / f"{table}.jsonl"
        assert xcom(table)["rows"] == len(path.read_text().splitlines()) > 0
    leads = output_base / "leads" / "dt=2026-03-03" / "leads.parquet"
    changed = convoso_conn.leads_truth("2026-03-03 00:00:00", "2026-03-03 23:59:59")
    assert xcom("leads")["rows"] == len(read_output(leads.read_bytes(), "parquet")) == len(changed) > 0
    recordings = xcom("recordings")
    folder = output_base / "recordings" / "dt=2026-03-03"
    assert recordings["downloaded"] == len(list(folder.glob("*.mp3"))) > 0 and recordings["failed"] == 0
    assert len((folder / "manifest.jsonl").read_text().splitlines()) == recordings["recordings"]


@pytest.mark.airflow_dag
def test_month_backfill_end_to_end(convoso_conn: ConvosoEmulator, run_dag: RunDag, output_base: Path) -> None:
    dag_run, xcom = run_dag(_example("convoso_month_backfill"))
    assert "success" in str(dag_run.state).lower()
    meta = xcom("backfill_month")
    assert (meta["date_start"], meta["date_end"]) == ("2026-02-01", "2026-02-28")
    assert meta["format"] == "parquet"
    assert meta["path"] == f"file://{output_base}/agent_performance_month/2026-02-01_2026-02-28.parquet"
    assert len(convoso_conn.requests) == 28


@pytest.mark.airflow_dag
def test_multi_account_end_to_end(convoso_conn: ConvosoEmulator, run_dag: RunDag, output_base: Path) -> None:
    dag_run, _ = run_dag(_example("convoso_multi_account"))
    assert "success" in str(dag_run.state).lower()
    for campaign in (111, 222, 333):
        assert (output_base / f"campaign={campaign}" / "dt=2026-03-02" / "agents.jsonl").exists()
    campaigns = sorted(r.params.get("campaign_ids", "-") for r in convoso_conn.requests)
    assert campaigns == ["-", "111", "222", "333"]


@pytest.mark.airflow_dag
def test_xcom_lookup_end_to_end(convoso_conn: ConvosoEmulator, run_dag: RunDag) -> None:
    dag_run, xcom = run_dag(_example("convoso_xcom_lookup"))
    assert "success" in str(dag_run.state).lower()
    busiest = xcom("busiest_agents")
    assert [r["user_id"] for r in busiest] and {r["user_id"] for r in busiest} == {"10001", "10002", "10003"}
    assert [r["calls"] for r in busiest] == sorted((r["calls"] for r in busiest), reverse=True)
    assert convoso_conn.requests[0].params == {
        "date_start": "2026-02-24",
        "date_end": "2026-03-02",
        "user_ids": "10001,10002,10003",
    }
