"""AgentPerformanceOperator against the emulator: outputs, formats, storage, split_by_day, DAG runs."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support import ConnJson, RunDag

from airflow_provider_convoso.compat import AIRFLOW_V_3_0_PLUS, AirflowFailException, object_storage_path
from airflow_provider_convoso.endpoints.agent_performance.records import DOCUMENTED_FIELDS
from airflow_provider_convoso.exceptions import ConvosoInputError, ConvosoTransientError
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator
from airflow_provider_convoso.testing import ConvosoEmulator, read_output


def _op(**kwargs: Any) -> AgentPerformanceOperator:
    kwargs.setdefault("task_id", "pull")
    return AgentPerformanceOperator(**kwargs)


def _month(**kwargs: Any) -> AgentPerformanceOperator:
    """A ``split_by_day`` run over January 2026."""
    return _op(date_start="2026-01-01", date_end="2026-01-31", split_by_day=True, **kwargs)


def _read(fmt: str, data: bytes) -> list[dict[str, Any]]:
    return read_output(data, fmt)


def test_xcom_mode_returns_typed_records(convoso_conn: ConvosoEmulator) -> None:
    rows = _op(date_start="2026-03-01", date_end="2026-03-03").execute({})
    assert len(rows) == 12 and isinstance(rows[0]["calls"], int) and "talk_seconds" in rows[0]
    raw = _op(date_start="2026-03-01", normalize=False).execute({})
    assert "talk_seconds" not in raw[0]


@pytest.mark.parametrize(
    ("suffix", "fmt"),
    [
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "json"),
        (".csv", "csv"),
        (".parquet", "parquet"),
        ("", "jsonl"),
    ],
)
def test_each_format_round_trips_on_file(convoso_conn: ConvosoEmulator, tmp_path: Path, suffix: str, fmt: str) -> None:
    target = tmp_path / "out" / f"agents{suffix}"
    expected = _op(date_start="2026-03-01", date_end="2026-03-03").execute({})
    meta = _op(date_start="2026-03-01", date_end="2026-03-03", output_path=f"file://{target}").execute({})
    data = target.read_bytes()
    quality, digest = meta.pop("quality"), meta.pop("digest")
    assert meta == {
        "path": f"file://{target}",
        "format": fmt,
        "rows": 12,
        "bytes": len(data),
        "date_start": "2026-03-01",
        "date_end": "2026-03-03",
    }
    assert quality["checked"] == 12 and not any(rule["broken"] for rule in quality["rules"].values())
    assert len(digest) == 16
    back = _read(fmt, data)
    assert [r["user_id"] for r in back] == [r["user_id"] for r in expected]
    if fmt == "csv":
        header = data.decode().splitlines()[0].split(",")
        assert header[: len(DOCUMENTED_FIELDS)] == list(DOCUMENTED_FIELDS)
        assert back[0]["talk_seconds"] == str(expected[0]["talk_seconds"])
    else:
        assert back == expected
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary file left


def test_parquet_columns_are_typed(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = tmp_path / "a.parquet"
    _op(date_start="2026-02-01", date_end="2026-02-03", output_path=str(target), split_by_day=True).execute({})
    schema = pq.read_schema(target)
    assert schema.field("date").type == pa.date32()
    assert schema.field("calls").type == pa.int64()
    assert schema.field("talk_sec_pt").type == pa.float64()
    assert schema.field("talk_seconds").type == pa.int64()
    assert schema.field("talk_sec").type == pa.string()


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet"])
def test_empty_result_writes_a_valid_empty_file(convoso_conn: ConvosoEmulator, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"empty.{fmt}"
    meta = _op(date_start="2027-01-01", output_path=str(target)).execute({})
    assert meta["rows"] == 0
    data = target.read_bytes()
    assert _read(fmt, data) == []
    if fmt == "csv":
        assert data.decode().splitlines()[0].startswith("user_id,name,calls")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert "talk_seconds" in pq.read_schema(target).names


def test_memory_storage(convoso_conn: ConvosoEmulator) -> None:
    meta = _op(date_start="2026-03-02", output_path="memory://convoso-test/day.jsonl").execute({})
    data = object_storage_path("memory://convoso-test/day.jsonl", None).read_bytes()
    assert meta["rows"] == 12 and meta["bytes"] == len(data) == len(data.decode().encode())
    assert len(_read("jsonl", data)) == 12


def test_s3_storage_on_moto_server(convoso_conn: ConvosoEmulator, s3_bucket: str, moto_server: str) -> None:
    import boto3

    uri = f"s3://{s3_bucket}/convoso/dt=2026-03-02/agents.csv"
    meta = _op(date_start="2026-03-02", output_path=uri, output_conn_id="aws_moto").execute({})
    body = (
        boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
        .get_object(Bucket=s3_bucket, Key="convoso/dt=2026-03-02/agents.csv")["Body"]
        .read()
    )
    assert meta["path"] == uri and meta["bytes"] == len(body)
    assert len(_read("csv", body)) == 12
    # A rerun overwrites the same key with the same bytes (idempotent).
    _op(date_start="2026-03-02", output_path=uri, output_conn_id="aws_moto").execute({})
    keys = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1").list_objects_v2(Bucket=s3_bucket)[
        "Contents"
    ]
    assert [k["Key"] for k in keys] == ["convoso/dt=2026-03-02/agents.csv"]


@pytest.mark.parametrize("split_by_day", [False, True])
def test_xcom_size_guard(convoso_conn: ConvosoEmulator, split_by_day: bool) -> None:
    kwargs = {"date_start": "2026-03-01", "date_end": "2026-03-03" if split_by_day else None}
    rows = _op(split_by_day=split_by_day, **kwargs).execute({})
    size = len(json.dumps(rows, separators=(",", ":"), ensure_ascii=False).encode())  # compact JSON
    with pytest.raises(
        ConvosoInputError,
        match=rf"the result is {size} bytes \({len(rows)} rows\), over max_xcom_bytes={size - 1}: set output_path",
    ) as caught:
        _op(split_by_day=split_by_day, max_xcom_bytes=size - 1, **kwargs).execute({})
    assert isinstance(caught.value, AirflowFailException)
    assert _op(split_by_day=split_by_day, max_xcom_bytes=size, **kwargs).execute({}) == rows


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"output_format": "xml", "output_path": "/tmp/x"}, "output_format must be one of"),
        ({"split_by_day": True, "date_start": "2026-03-01"}, "split_by_day=True needs both"),
        ({"campaign_ids": "1;2"}, "campaign_ids element"),
        ({"date_start": "yesterday"}, "date_start must be a date"),
        ({"output_path": "nosuchscheme://bucket/x.csv"}, "output_path 'nosuchscheme://bucket/x.csv' is not usable"),
    ],
)
def test_bad_input_fails_before_any_request(convoso_conn: ConvosoEmulator, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        _op(**kwargs).execute({})
    assert isinstance(caught.value, AirflowFailException)
    assert convoso_conn.requests == []


def test_max_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_concurrency must be a positive integer, got 0"):
        _op(max_concurrency=0)


def test_split_by_day_bounds_concurrency_and_orders_output(
    convoso_conn: ConvosoEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    convoso_conn.configure(latency=0.05)
    target = tmp_path / "month.jsonl"
    meta = _op(
        date_start="2026-01-01", date_end="2026-01-31", split_by_day=True, max_concurrency=4, output_path=str(target)
    ).execute({})
    rows = _read("jsonl", target.read_bytes())
    assert meta["rows"] == len(rows) > 31 * 9
    assert convoso_conn.max_in_flight == 4
    assert sorted(r.params["date_start"] for r in convoso_conn.requests) == [f"2026-01-{d:02d}" for d in range(1, 32)]
    assert all(r.params["date_start"] == r.params["date_end"] for r in convoso_conn.requests)
    captured = capsys.readouterr()
    progress = [
        line for line in (caplog.text + captured.out + captured.err).splitlines() if "Convoso backfill:" in line
    ]
    assert progress
    assert "31/31 days done" in progress[-1] and "MiB received" in progress[-1]
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates) and list(rows[0])[0] == "date"
    # Each day's rows are what a single-day request returns, in the API's order.
    day = _op(date_start="2026-01-07", date_end="2026-01-07").execute({})
    assert [{k: v for k, v in r.items() if k != "date"} for r in rows if r["date"] == "2026-01-07"] == day


@pytest.mark.parametrize("output", ["xcom", "jsonl"])
def test_split_by_day_types_each_day_while_later_days_are_fetched(
    emulator: ConvosoEmulator,
    monkeypatch: pytest.MonkeyPatch,
    conn_json: ConnJson,
    tmp_path: Path,
    output: str,
) -> None:
    """The last day's answer is held 3 s: the first two days are typed before it is sent."""
    from airflow_provider_convoso.endpoints.agent_performance import reading as responses

    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(emulator, timeout=30))
    emulator.configure(faults=[None, None, "slow"], slow_delay=3.0)
    decoding: list[float] = []
    iter_records = responses.iter_records

    def timed(*args: Any, **kwargs: Any) -> Any:
        decoding.append(time.monotonic())
        return iter_records(*args, **kwargs)

    monkeypatch.setattr(responses, "iter_records", timed)
    target = tmp_path / "days.jsonl"
    result = _op(
        date_start="2026-01-01",
        date_end="2026-01-03",
        split_by_day=True,
        max_concurrency=1,
        output_path=None if output == "xcom" else str(target),
    ).execute({})
    rows = result if output == "xcom" else _read("jsonl", target.read_bytes())
    assert sorted({r["date"] for r in rows}) == ["2026-01-01", "2026-01-02", "2026-01-03"]
    last = max(emulator.requests, key=lambda r: r.started)
    assert last.params["date_start"] == "2026-01-03" and last.fault == "slow"
    assert len(decoding) == 3
    # The last answer cannot leave before its 3 s delay has passed. (Its `ended` is stamped
    # after it is sent, which can be after the client has read it and returned.)
    assert decoding[0] < decoding[1] < last.started + 3.0


def test_split_by_day_lets_its_client_close_after_the_last_day(
    convoso_conn: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_convoso.hooks.convoso import ConvosoHook

    closed: list[bool] = []
    aclose = ConvosoHook.aclose

    async def recorded(self: ConvosoHook) -> None:
        await aclose(self)
        closed.append(True)

    monkeypatch.setattr(ConvosoHook, "aclose", recorded)
    for _ in range(5):
        rows = _month(max_concurrency=8).execute({})
        assert len({r["date"] for r in rows}) == 31
    assert closed == [True] * 5  # never cancelled half-way once every day was in


def test_a_failing_write_stops_the_days_still_being_fetched(
    convoso_conn: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from airflow_provider_convoso.endpoints.agent_performance import reading as responses
    from airflow_provider_convoso.exceptions import ConvosoResponseError

    convoso_conn.configure(latency=0.2)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConvosoResponseError("the first day cannot be read")

    monkeypatch.setattr(responses, "iter_records", broken)
    target = tmp_path / "month.csv"
    target.write_text("previous complete object\n")
    with pytest.raises(ConvosoResponseError, match="the first day cannot be read"):
        _month(max_concurrency=2, output_path=str(target)).execute({})
    assert not any(thread.name == "convoso-backfill" for thread in threading.enumerate())
    assert len(convoso_conn.requests) < 31  # the days after the failure were never asked for
    assert target.read_text() == "previous complete object\n"
    assert [p.name for p in tmp_path.iterdir()] == ["month.csv"]


def test_failure_mid_run_keeps_the_previous_object(
    convoso_conn: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, conn_json: ConnJson, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(convoso_conn, max_retries=1))
    target = tmp_path / "month.csv"
    target.write_text("previous complete object\n")
    convoso_conn.configure(faults=[None] * 5 + ["503", "503"], retry_after="0")
    with pytest.raises(ConvosoTransientError):
        _month(max_concurrency=1, output_path=str(target)).execute({})
    assert target.read_text() == "previous complete object\n"
    assert [p.name for p in tmp_path.iterdir()] == ["month.csv"]
    fresh = tmp_path / "fresh.csv"
    convoso_conn.configure(faults=["503", "503"])
    with pytest.raises(ConvosoTransientError):
        _op(date_start="2026-01-01", output_path=str(fresh)).execute({})
    assert not fresh.exists()


def test_template_fields_cover_dates_filters_outputs_and_conn() -> None:
    fields = set(AgentPerformanceOperator.template_fields)
    assert fields == {
        "convoso_conn_id",
        "date_start",
        "date_end",
        "campaign_ids",
        "list_ids",
        "queue_ids",
        "user_ids",
        "status_ids",
        "output_path",
        "output_conn_id",
        "output_format",
    }
    assert AgentPerformanceOperator.template_fields_renderers and AgentPerformanceOperator.ui_color


def test_openlineage_reports_the_output_dataset(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    op = _op(date_start="2026-03-02", output_path=f"file://{tmp_path}/x.jsonl")
    assert op.get_openlineage_facets_on_complete(None) is None  # nothing written yet
    op.execute({})
    lineage = op.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in lineage.outputs] == [("file", f"{tmp_path}/x.jsonl")]
    assert [(d.namespace, d.name) for d in lineage.inputs] == [("convoso", "agent-performance")]


@pytest.mark.airflow_dag
def test_whole_dag_templating_and_mapping(convoso_conn: ConvosoEmulator, run_dag: RunDag, tmp_path: Path) -> None:
    dag_run, xcom = run_dag("templating_and_mapping", conf={"out": str(tmp_path)})
    assert str(dag_run.state) in ("success", "DagRunState.SUCCESS")
    meta = xcom("pull")
    assert meta["path"] == f"file://{tmp_path}/dt=2026-03-03/agents.csv"
    assert (meta["date_start"], meta["date_end"]) == ("2026-03-02", "2026-03-02")
    assert (tmp_path / "dt=2026-03-03" / "agents.csv").exists()
    pull_request = next(r for r in convoso_conn.requests if r.params.get("date_end") == "2026-03-02")
    assert pull_request.params["campaign_ids"] == "111,222"
    mapped = sorted(
        r.params["campaign_ids"] for r in convoso_conn.requests if r.params.get("date_start") == "2026-03-03"
    )
    assert mapped == ["111", "222,333", "444"]
    rows = xcom("mapped", map_indexes=[0, 1, 2])
    assert len(rows) == 3 and all(isinstance(r, list) for r in rows)
    if AIRFLOW_V_3_0_PLUS:
        from airflow.models.asset import AssetEvent
        from airflow.utils.session import create_session

        with create_session() as session:
            uris = [e.asset.uri for e in session.query(AssetEvent).all()]
        assert f"file://{tmp_path}/dt=2026-03-03/agents.csv" in uris


# -- data quality and the digest ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet"])
def test_quality_warn_reports_each_broken_rule(
    convoso_conn: ConvosoEmulator,
    tmp_path: Path,
    fmt: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    convoso_conn.configure(inconsistent_every=5)  # agents 10001, 10006, 10011
    target = tmp_path / f"agents.{fmt}"
    with caplog.at_level("WARNING"):
        summary = _op(date_start="2026-03-02", date_end="2026-03-02", output_path=str(target)).execute({})
    quality = summary["quality"]
    assert quality["checked"] == summary["rows"]
    broken = {name: rule["broken"] for name, rule in quality["rules"].items() if rule["broken"]}
    expected = {"time_parts_sum_to_total", "talk_sec_pt_of_total", "calls_add_up"}
    assert set(broken) == expected
    injected = [r["user_id"] for r in _read(fmt, target.read_bytes()) if r["user_id"] in ("10001", "10006", "10011")]
    for name in expected:
        assert quality["rules"][name]["examples"] == injected
        assert broken[name] == len(injected)
    # one WARNING per broken rule (Airflow 3 logs through structlog to stdout, 2.11 through logging)
    captured = capsys.readouterr()
    pattern = r"quality rule (\w+) \("
    logged = re.findall(pattern, caplog.text) or re.findall(pattern, captured.out + captured.err)
    assert sorted(logged) == sorted(expected)


def test_quality_fail_writes_nothing_and_names_the_rules(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    from airflow_provider_convoso.exceptions import ConvosoDataQualityError

    target = tmp_path / "agents.jsonl"
    target.write_text("previous\n")
    convoso_conn.configure(inconsistent_every=4)
    operator = _op(date_start="2026-03-02", output_path=str(target), quality_checks="fail")
    with pytest.raises(ConvosoDataQualityError) as caught:
        operator.execute({})
    assert isinstance(caught.value, AirflowFailException)
    assert "time_parts_sum_to_total" in str(caught.value) and "talk_sec_pt_of_total" in str(caught.value)
    assert target.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["agents.jsonl"]
    # a looser tolerance on the two failing rules lets the same data through (calls only warns)
    tolerant = _op(
        date_start="2026-03-02",
        output_path=str(target),
        quality_checks="fail",
        quality_tolerances={"time_parts_sum_to_total": 600, "talk_sec_pt_of_total": 6},
    ).execute({})
    assert tolerant["quality"]["rules"]["calls_add_up"]["broken"] == 3


def test_quality_fail_on_the_xcom_path(convoso_conn: ConvosoEmulator) -> None:
    from airflow_provider_convoso.exceptions import ConvosoDataQualityError

    convoso_conn.configure(inconsistent_every=1)
    with pytest.raises(ConvosoDataQualityError):
        _op(date_start="2026-03-02", quality_checks="fail").execute({})
    assert len(_op(date_start="2026-03-02", quality_checks="off").execute({})) == 12


def test_quality_off_and_bad_arguments(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    summary = _op(date_start="2026-03-02", output_path=str(tmp_path / "a.jsonl"), quality_checks="off").execute({})
    assert "quality" not in summary and len(summary["digest"]) == 16
    with pytest.raises(ValueError, match="quality_checks"):
        _op(quality_checks="strict")
    with pytest.raises(ValueError, match="unknown quality rule"):
        _op(date_start="2026-03-02", quality_tolerances={"talk": 1}).execute({})


def test_digest_is_the_same_in_every_format_and_changes_with_the_data(
    convoso_conn: ConvosoEmulator, tmp_path: Path
) -> None:
    digests = {
        fmt: _op(date_start="2026-03-02", output_path=str(tmp_path / f"a.{fmt}")).execute({})["digest"]
        for fmt in ("jsonl", "json", "csv", "parquet")
    }
    assert len(set(digests.values())) == 1
    again = _op(date_start="2026-03-02", output_path=str(tmp_path / "b.jsonl")).execute({})["digest"]
    assert again == digests["jsonl"]
    convoso_conn.configure(changing_requests=10**6)  # the day's figures move
    moved = _op(date_start="2026-03-02", output_path=str(tmp_path / "c.jsonl")).execute({})["digest"]
    assert moved != digests["jsonl"]
    # untyped output has a digest of its own (what was written differs)
    raw = _op(date_start="2026-03-02", output_path=str(tmp_path / "d.jsonl"), normalize=False).execute({})
    assert raw["digest"] not in (digests["jsonl"], moved)
    assert raw["quality"]["checked"] == 12
