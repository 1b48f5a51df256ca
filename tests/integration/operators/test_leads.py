"""LeadsOperator and the hook's export against the emulator's leads/search, leads changing under it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_convoso.compat import AirflowFailException, object_storage_path
from airflow_provider_convoso.exceptions import ConvosoAuthError, ConvosoInputError, ConvosoResponseError
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.operators.leads import LeadsOperator
from airflow_provider_convoso.testing import ConvosoEmulator, read_output

LEADS = "/v1/leads/search"
DAY = "2026-03-02"  # the emulator's today is 2026-03-03: leads were last updated on each of the 7 days before


def _op(**kwargs: Any) -> LeadsOperator:
    kwargs.setdefault("task_id", "leads")
    return LeadsOperator(**kwargs)


def _lead_requests(emulator: ConvosoEmulator) -> list[Any]:
    return [r for r in emulator.requests if r.path == LEADS]


def _day(emulator: ConvosoEmulator, day: str = DAY) -> dict[str, str]:
    return emulator.leads_truth(f"{day} 00:00:00", f"{day} 23:59:59")


def test_a_day_of_changes_is_read_in_pages_of_2000_from_the_last_update_time(
    convoso_conn: ConvosoEmulator, tmp_path: Path
) -> None:
    convoso_conn.configure(leads_per_day=5000)
    summary = _op(date=DAY, output_path=str(tmp_path / "leads.jsonl")).execute({})
    rows = read_output((tmp_path / "leads.jsonl").read_bytes(), "jsonl")
    truth = _day(convoso_conn)
    assert len(truth) == 5000 and {r["id"]: r["updated_at"] for r in rows} == truth
    assert summary["rows"] == 5000 and summary["pages"] == 3 and summary["re_reads"] == 0
    assert (summary["updated_start"], summary["updated_end"]) == (f"{DAY} 00:00:00", f"{DAY} 23:59:59")
    requests = _lead_requests(convoso_conn)
    assert [r.params["offset"] for r in requests] == ["0", "0", "0"]
    assert {r.params["limit"] for r in requests} == {"2000"}
    assert requests[0].params["updated_at_start_date"] == f"{DAY} 00:00:00"
    # Each page starts at the update time the one before ended at (that second read twice).
    assert [r.params["updated_at_start_date"] for r in requests[1:]] == [
        rows[1999]["updated_at"],
        rows[3998]["updated_at"],
    ]
    assert all(r.params["updated_at_end_date"] == f"{DAY} 23:59:59" for r in requests)
    assert all(r.token_in_body and not r.token_in_query for r in requests)
    assert (
        summary["duplicates_dropped"]
        == sum(1 for i in (1999, 3998) if rows[i]["updated_at"] == rows[i + 1]["updated_at"])
        or summary["duplicates_dropped"] >= 0
    )


def test_leads_updated_while_the_export_pages_are_all_there_once_and_newest(
    convoso_conn: ConvosoEmulator, tmp_path: Path
) -> None:
    # After each page the account updates 40 leads: 20 the export read already, 20 it has not.
    convoso_conn.configure(leads_per_day=9000, lead_updates_per_page=40)
    summary = _op(date=DAY, output_path=str(tmp_path / "leads.csv")).execute({})
    rows = read_output((tmp_path / "leads.csv").read_bytes(), "csv")
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == summary["rows"]
    truth = _day(convoso_conn)
    assert len(truth) < 9000  # leads left the day while it was read (they were updated today)
    got = {r["id"]: r for r in rows}
    assert all(got[lead]["updated_at"] == when for lead, when in truth.items())
    assert set(got) > set(truth)  # leads read before they left the day keep the copy read


def test_an_open_window_reads_the_leads_updated_into_its_tail(convoso_conn: ConvosoEmulator) -> None:
    # The window runs to tomorrow: every updated lead moves into it, to after the newest, and is read there.
    convoso_conn.configure(leads_per_day=3000, lead_days=2, lead_updates_per_page=30)
    hook = ConvosoHook()
    stats: dict[str, Any] = {}
    leads = list(hook.iter_leads("2026-03-02 00:00:00", "2026-03-04 23:59:59", stats=stats, limit=500))
    truth = convoso_conn.leads_truth("2026-03-02 00:00:00", "2026-03-04 23:59:59")
    assert {lead["id"]: lead["updated_at"] for lead in leads} == truth
    assert any(when > "2026-03-03 23:59:31" for when in truth.values())  # after the newest lead: moved ones
    assert stats["pages"] > 12 and stats["duplicates_dropped"] > 0


def test_an_offset_cap_does_not_stop_a_large_window(convoso_conn: ConvosoEmulator) -> None:
    convoso_conn.configure(leads_per_day=7000, leads_offset_cap=100)
    _op(date=DAY, output_path="memory://leads/capped.jsonl").execute({})
    rows = read_output(object_storage_path("memory://leads/capped.jsonl", None).read_bytes(), "jsonl")
    assert {r["id"]: r["updated_at"] for r in rows} == _day(convoso_conn)
    assert max(int(r.params["offset"]) for r in _lead_requests(convoso_conn)) == 0


def test_a_second_holding_more_leads_than_a_page_is_read_by_offset(convoso_conn: ConvosoEmulator) -> None:
    # Four leads a second; pages of three: each second is paged by offset.
    convoso_conn.configure(leads_per_day=4 * 86_400, lead_days=1)
    window = ("2026-03-03 00:00:00", "2026-03-03 00:00:09")
    stats: dict[str, Any] = {}
    leads = list(ConvosoHook().iter_leads(*window, limit=3, stats=stats))
    assert {lead["id"]: lead["updated_at"] for lead in leads} == convoso_conn.leads_truth(*window) and len(leads) == 40
    offsets = {r.params["offset"] for r in _lead_requests(convoso_conn)}
    assert offsets == {"0", "3"}
    convoso_conn.configure(leads_offset_cap=2)
    with pytest.raises(ConvosoResponseError, match=r"more leads were updated at 2026-03-03 00:00:00 .*add a filter"):
        list(ConvosoHook().iter_leads(*window, limit=3))


def test_records_are_typed_and_custom_fields_renamed(
    convoso_conn: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, conn_json: Any
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(convoso_conn, timezone="America/New_York"))
    rows = _op(date=DAY, custom_fields={"field_81": "appointment_at"}).execute({})
    lead = rows[0]
    assert isinstance(lead["id"], str) and lead["id"] == lead["lead_id"]
    assert isinstance(lead["called_count"], int) and isinstance(lead["called_count_inbound"], int)
    local = dt.datetime.fromisoformat(lead["updated_at"])
    assert lead["updated_at_utc"] == local.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert "field_81" not in lead and "appointment_at" in lead and "field_1" in lead
    never = [r for r in rows if r["called_count"] == 0]
    assert never and all(r["last_called"] is None and r["last_called_utc"] is None for r in never)
    requests = _lead_requests(convoso_conn)
    assert requests[0].params["updated_at_start_date"] == f"{DAY} 00:00:00"  # account-local, as given


def test_an_aware_window_is_converted_into_the_account_zone(
    convoso_conn: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, conn_json: Any
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(convoso_conn, timezone="America/Los_Angeles"))
    utc = dt.timezone.utc
    _op(
        updated_start=dt.datetime(2026, 3, 2, 8, tzinfo=utc), updated_end=dt.datetime(2026, 3, 2, 9, tzinfo=utc)
    ).execute({})
    request = _lead_requests(convoso_conn)[0]
    assert (request.params["updated_at_start_date"], request.params["updated_at_end_date"]) == (
        "2026-03-02 00:00:00",
        "2026-03-02 01:00:00",
    )


def test_a_filter_is_sent_and_honoured(convoso_conn: ConvosoEmulator) -> None:
    rows = _op(date=DAY, list_id="1003").execute({})
    assert rows and {r["list_id"] for r in rows} == {"1003"}
    assert all(r.params["list_id"] == "1003" for r in _lead_requests(convoso_conn))


def test_parquet_and_s3_outputs(convoso_conn: ConvosoEmulator, s3_bucket: str) -> None:
    uri = f"s3://{s3_bucket}/leads/dt={DAY}/leads.parquet"
    summary = _op(date=DAY, output_path=uri, output_conn_id="aws_moto").execute({})
    rows = read_output(object_storage_path(uri, "aws_moto").read_bytes(), "parquet")
    assert summary["path"] == uri and len(rows) == summary["rows"] == len(_day(convoso_conn))
    assert isinstance(rows[0]["called_count"], int) and rows[0]["updated_at_utc"].tzinfo is not None


def test_a_token_without_the_leads_section_fails_at_once_naming_the_endpoint(convoso_conn: ConvosoEmulator) -> None:
    convoso_conn.configure(denied_paths=[LEADS])
    with pytest.raises(ConvosoAuthError, match="may not read leads/search") as caught:
        _op(date=DAY).execute({})
    assert isinstance(caught.value, AirflowFailException)
    assert len(_lead_requests(convoso_conn)) == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, "needs date, or both updated_start and updated_end"),
        ({"updated_start": "2026-03-02", "updated_end": "2026-03-02 10:00:00"}, "HH:MM:SS"),
        ({"date": DAY, "status": "A,B"}, "takes one value"),
    ],
)
def test_bad_windows_fail_before_any_request(convoso_conn: ConvosoEmulator, kwargs: dict[str, Any], error: str) -> None:
    with pytest.raises(ConvosoInputError, match=error):
        _op(**kwargs).execute({})
    assert not convoso_conn.requests
