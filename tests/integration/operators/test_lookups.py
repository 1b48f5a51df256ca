"""The lookup tables against the emulator: each table's shape, users' paging, the operator's outputs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from support import ConnJson, RunDag

from airflow_provider_convoso.compat import AirflowFailException
from airflow_provider_convoso.endpoints.lookups import load, php_date
from airflow_provider_convoso.exceptions import ConvosoAPIError, ConvosoAuthError, ConvosoResponseError
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.operators.lookups import LookupTableOperator
from airflow_provider_convoso.testing import ConvosoEmulator, read_output
from airflow_provider_convoso.wire.envelope import data_of


def _op(**kwargs: Any) -> LookupTableOperator:
    kwargs.setdefault("task_id", "lookup")
    return LookupTableOperator(**kwargs)


def test_users_page_by_the_rows_received(convoso_conn: ConvosoEmulator) -> None:
    convoso_conn.configure(limit_clamp=5)  # the hook asks for 100 a page; the server sends 5
    users = ConvosoHook().get_lookup("users")
    assert [u["id"] for u in users] == [str(10001 + n) for n in range(12)]
    pages = [r for r in convoso_conn.requests if r.path == "/v1/users/search"]
    assert [r.params["offset"] for r in pages] == ["0", "5", "10"]
    assert all(r.params["limit"] == "100" and r.token_in_body for r in pages)
    assert users[0]["email"] == "jane.smith.10001@example.com" and users[0]["extension"] == [400000]


def test_users_id_comes_from_the_record_and_a_mismatched_key_is_logged(
    convoso_conn: ConvosoEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    convoso_conn.configure(user_key_mismatches=2)
    with caplog.at_level(logging.WARNING, "airflow_provider_convoso.endpoints.lookups"):
        users = ConvosoHook().get_lookup("users")
    assert [u["id"] for u in users[:3]] == ["10001", "10002", "10003"]
    assert "the user keyed '910001' has id '10001'" in caplog.text
    assert "910003" not in caplog.text


def test_users_search_terms_and_the_missing_filter_error(convoso_conn: ConvosoEmulator) -> None:
    assert [u["first_name"] for u in ConvosoHook().get_lookup("users", user="jane,carlos")] == ["Jane", "Carlos"]
    convoso_conn.configure(users_require_filter=True)
    with pytest.raises(ConvosoAPIError, match="Missing users") as caught:
        ConvosoHook().get_lookup("users")
    assert caught.value.error_code == 6005 and isinstance(caught.value, AirflowFailException)


def test_campaigns_ids_as_strings_and_php_dates(convoso_conn: ConvosoEmulator) -> None:
    campaigns = ConvosoHook().get_lookup("campaigns")
    assert [c["id"] for c in campaigns] == ["111", "222", "333", "444"]
    assert [c["last_call_date"] for c in campaigns] == [
        "2026-03-03T17:59:02-08:00",  # PST on 2026-03-03
        "2026-03-03T09:30:00+00:00",
        "2026-03-03",
        None,
    ]


def test_lists_merge_both_statuses(convoso_conn: ConvosoEmulator) -> None:
    lists = ConvosoHook().get_lookup("lists")
    assert sorted(x["id"] for x in lists) == [str(1001 + n) for n in range(6)]
    assert {x["status"] for x in lists} == {"Y", "N"}
    asked = [r.params.get("status") for r in convoso_conn.requests if r.path == "/v1/lists/search"]
    assert asked == ["1", "0"]
    assert all(isinstance(x["campaign_id"], str) for x in lists)
    called = {x["id"]: x["last_called_at"] for x in lists}
    assert called["1001"] is None and called["1002"] == "2026-03-03 10:00:00"
    assert called["1003"] == "2026-03-03T11:00:00+00:00"


def test_statuses_judge_only_the_envelope_and_fix_the_misspelt_key(convoso_conn: ConvosoEmulator) -> None:
    statuses = ConvosoHook().get_lookup("statuses")
    assert [s["status"] for s in statuses] == convoso_conn.statuses
    assert {s["success"] for s in statuses} == {"Y", "N"}  # a record's own flag is data
    assert all("workflow_disposition_event_option" in s for s in statuses)
    assert not any("workflow_dispositon_event_option" in s for s in statuses)
    [sale] = ConvosoHook().get_lookup("statuses", query="sale")
    assert sale["status"] == "1"
    assert convoso_conn.requests[0].params == {"query": ""}  # empty asks for every status


@pytest.mark.parametrize("table", ["users", "campaigns", "lists", "statuses"])
def test_every_table_retries_faults_and_maps_the_auth_error(
    convoso_conn: ConvosoEmulator, table: str, monkeypatch: pytest.MonkeyPatch, conn_json: ConnJson
) -> None:
    convoso_conn.configure(faults=["503", "reset"], retry_after="0")
    assert ConvosoHook(max_retries=3).get_lookup(table)
    assert [r.fault for r in convoso_conn.requests[:2]] == ["503", "reset"]
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(convoso_conn).replace(convoso_conn.token, "bad"))
    with pytest.raises(ConvosoAuthError) as caught:
        ConvosoHook().get_lookup(table)
    assert caught.value.error_code == 5001


def test_envelopes_that_are_not_answers() -> None:
    with pytest.raises(ConvosoResponseError):
        data_of([])
    with pytest.raises(ConvosoResponseError):
        data_of({"data": []})  # no success at all
    with pytest.raises(ConvosoAPIError, match="Invalid offset value"):
        data_of({"success": False, "code": 7231, "text": "Invalid offset value"})
    assert data_of({"success": "true", "data": None}) is None
    assert load("campaigns", lambda query: {"success": True, "data": {}}) == []
    with pytest.raises(ValueError, match="table must be one of"):
        load("agents", lambda query: None)
    with pytest.raises(ValueError, match="takes no user"):
        load("lists", lambda query: None, user="x")


def test_users_paging_is_bounded_and_stops_on_an_empty_page() -> None:
    pages: list[int] = []

    def endless(query: Any) -> dict[str, Any]:
        pages.append(query.offset)
        results = {} if query.offset >= 3 else {str(query.offset): {"id": query.offset}}
        return {"success": True, "data": {"offset": query.offset, "limit": "1", "total": "999", "results": results}}

    assert [u["id"] for u in load("users", endless)] == ["0", "1", "2"]
    assert pages == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"date": "2026-07-04 12:00:00.000000", "timezone_type": 3, "timezone": "America/Los_Angeles"},
         "2026-07-04T12:00:00-07:00"),
        ({"date": "2026-01-04 12:00:00", "timezone_type": 1, "timezone": "+05:30"}, "2026-01-04T12:00:00+05:30"),
        ({"date": "2026-01-04", "timezone_type": 3, "timezone": "UTC"}, "2026-01-04"),
        ("2026-01-04 12:00:00", "2026-01-04 12:00:00"),
        (None, None),
    ],
)  # fmt: skip
def test_php_dates(value: Any, expected: Any) -> None:
    assert php_date(value) == expected


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_operator_writes_each_table(convoso_conn: ConvosoEmulator, tmp_path: Path, fmt: str) -> None:
    for table, first in (("users", "id"), ("campaigns", "id"), ("lists", "id"), ("statuses", "status")):
        target = tmp_path / f"{table}.{fmt}"
        summary = _op(table=table, output_path=str(target)).execute({})
        rows = read_output(target.read_bytes(), fmt)
        assert summary["rows"] == len(rows) > 0 and summary["table"] == table and len(summary["digest"]) == 16
        if fmt == "csv":
            assert target.read_text().split(",", 1)[0] == first  # the table's key leads
        ids = [str(row[first]) for row in rows]
        assert len(set(ids)) == len(ids)


def test_operator_to_xcom_and_argument_checks(convoso_conn: ConvosoEmulator) -> None:
    assert len(_op(table="campaigns").execute({})) == 4
    with pytest.raises(ValueError, match="table must be one of"):
        _op(table="agents")
    with pytest.raises(ValueError, match="max_xcom_bytes"):
        _op(table="users", max_xcom_bytes=10).execute({})


@pytest.mark.airflow_dag
def test_lookups_in_a_dag(convoso_conn: ConvosoEmulator, run_dag: RunDag, tmp_path: Path) -> None:
    dag_run, xcom = run_dag("lookup_tables", conf={"out": str(tmp_path)})
    assert "success" in str(dag_run.state).lower()
    for table in ("users", "campaigns", "lists", "statuses"):
        assert xcom(f"load_{table}")["rows"] == len(read_output((tmp_path / f"{table}.jsonl").read_bytes(), "jsonl"))
