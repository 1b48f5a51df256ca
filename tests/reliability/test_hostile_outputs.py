"""Outputs that any reader reads back exactly, paths that cannot name a file, and leftovers of killed runs."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_convoso._tempfiles import TEMP_PREFIX, is_stale, temp_tag
from airflow_provider_convoso.compat import AirflowFailException, object_storage_path
from airflow_provider_convoso.endpoints.agent_performance.records import COLUMNS, KINDS
from airflow_provider_convoso.exceptions import ConvosoInputError, ConvosoResponseError
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator
from airflow_provider_convoso.output import write_records as write_any
from airflow_provider_convoso.settings import MAX_CONCURRENCY
from airflow_provider_convoso.spool import BodySpool
from airflow_provider_convoso.testing import ConvosoEmulator

#: Agent-performance records' columns and kinds, as the operator writes them.
write_records = partial(write_any, columns=COLUMNS, kinds=KINDS)
tricky = st.text(alphabet=st.sampled_from([*list("ab,;\"\r\n\t =+-@'"), "é", "\u2028"]), max_size=12)


@given(st.lists(st.tuples(tricky, tricky), min_size=1, max_size=8))
def test_any_csv_reader_reads_back_exactly_the_rows_written(
    tmp_path_factory: Any, cells: list[tuple[str, str]]
) -> None:
    folder = tmp_path_factory.mktemp("csv")
    path = object_storage_path(f"file://{folder}/agents.csv", None)
    records = [{"user_id": str(n), "name": name, "campaign": other} for n, (name, other) in enumerate(cells)]
    write_records(path, lambda: iter(records), "csv", normalized=False)
    with open(folder / "agents.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["user_id"], row["name"], row["campaign"]) for row in rows] == [
        (r["user_id"], r["name"], r["campaign"]) for r in records
    ]


def test_a_bare_carriage_return_stays_inside_its_cell(tmp_path: Path) -> None:
    path = object_storage_path(f"file://{tmp_path}/a.csv", None)
    write_records(path, lambda: iter([{"user_id": "1", "name": "Ann\rLee"}, {"user_id": "2", "name": "Bo"}]), "csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "a.csv").read_bytes().decode("utf-8"), newline="")))
    assert len(rows) == 3 and rows[1][rows[0].index("name")] == "Ann\rLee"


@pytest.mark.parametrize("escape", [False, True])
def test_csv_formula_cells_are_escaped_only_when_asked(tmp_path: Path, escape: bool) -> None:
    path = object_storage_path(f"file://{tmp_path}/f.csv", None)
    names = ["=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "plain"]
    records = [{"user_id": str(n), "name": name} for n, name in enumerate(names)]
    write_records(path, lambda: iter(records), "csv", csv_escape_formulas=escape)
    with open(tmp_path / "f.csv", newline="", encoding="utf-8") as handle:
        back = [row["name"] for row in csv.DictReader(handle)]
    expected = [("'" + n if escape and n != "plain" else n) for n in names]
    assert back == expected


@pytest.mark.parametrize(
    ("output_path", "reason"),
    [
        ("{tmp}/folder/", "names a folder"),
        ("~/agents.jsonl", "starts with '~'"),
        ("file://data/agents.jsonl", "relative file:// URL"),
        ("{tmp}", "existing folder"),
    ],
)
def test_an_output_path_that_cannot_name_a_file_fails_before_any_request(
    convoso_conn: ConvosoEmulator, tmp_path: Path, output_path: str, reason: str
) -> None:
    operator = AgentPerformanceOperator(task_id="t", output_path=output_path.format(tmp=tmp_path))
    with pytest.raises(ConvosoInputError, match=reason) as caught:
        operator.execute({})
    assert isinstance(caught.value, AirflowFailException)
    assert convoso_conn.requests == []


def test_a_value_too_large_for_parquet_is_a_permanent_error(tmp_path: Path) -> None:
    path = object_storage_path(f"file://{tmp_path}/big.parquet", None)
    with pytest.raises(ConvosoResponseError, match="Parquet"):
        write_records(path, lambda: iter([{"user_id": "1", "calls": 2**70}]), "parquet")
    assert not (tmp_path / "big.parquet").exists()


def test_max_concurrency_is_capped_and_the_pool_matches(
    convoso_conn: ConvosoEmulator, tmp_path: Path, caplog: Any
) -> None:
    convoso_conn.configure(latency=0.05)
    operator = AgentPerformanceOperator(
        task_id="t",
        date_start="2026-01-01",
        date_end="2026-02-19",  # 50 days
        split_by_day=True,
        max_concurrency=10_000,
        output_path=f"file://{tmp_path}/days.jsonl",
    )
    with caplog.at_level("WARNING"):
        operator.execute({})
    assert len(convoso_conn.requests) == 50
    assert 8 < convoso_conn.max_in_flight <= MAX_CONCURRENCY


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_a_killed_run_are_removed_by_the_next_run_of_the_same_target(tmp_path: Path) -> None:
    import socket

    host = socket.gethostname()
    dead = _dead_pid()
    stale = tmp_path / f".agents.jsonl.{TEMP_PREFIX}{host}-{dead}-0123456789ab.tmp"
    live = tmp_path / f".agents.jsonl.{TEMP_PREFIX}{host}-{os.getpid()}-0123456789ab.tmp"
    other_target = tmp_path / f".other.jsonl.{TEMP_PREFIX}{host}-{dead}-0123456789ab.tmp"
    for leftover in (stale, live, other_target):
        leftover.write_text("partial")
    assert is_stale(stale.name) and not is_stale(live.name)
    write_records(
        object_storage_path(f"file://{tmp_path}/agents.jsonl", None), lambda: iter([{"user_id": "1"}]), "jsonl"
    )
    assert not stale.exists()
    assert live.exists() and other_target.exists()  # a live writer's, and another target's
    assert temp_tag().startswith(f"{TEMP_PREFIX}{host}-{os.getpid()}-")


def test_a_killed_backfills_spool_folder_is_removed_by_the_next_spool(tmp_path: Path, monkeypatch: Any) -> None:
    import socket
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale = tmp_path / f"{TEMP_PREFIX}{socket.gethostname()}-{_dead_pid()}-0123456789ab-x1y2z3-spool"
    stale.mkdir()
    (stale / "2026-01-01").write_bytes(b"x")
    with BodySpool() as spool:
        spool.add("d", b"[]")
        assert not stale.exists()
        [own] = list(tmp_path.glob(f"{TEMP_PREFIX}*-spool"))
        assert f"-{os.getpid()}-" in own.name
