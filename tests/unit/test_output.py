"""write_records: streamed, atomic writes in every format, on file:// and memory://."""

from __future__ import annotations

import io
import itertools
import json
import tempfile
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_convoso.compat import object_storage_path
from airflow_provider_convoso.endpoints.agent_performance.records import COLUMNS, KINDS, normalize_record
from airflow_provider_convoso.exceptions import ConvosoResponseError
from airflow_provider_convoso.output import (
    FORMATS,
    ROW_GROUP_ROWS,
    _write_json,
    _write_jsonl,
    write_atomically,
)
from airflow_provider_convoso.output import write_records as write_any
from airflow_provider_convoso.testing import read_output

#: Agent-performance records' columns and kinds, as the operator writes them.
write_records = partial(write_any, columns=COLUMNS, kinds=KINDS)
AGENT = {"user_id": "1", "name": "Zoë", "calls": "4", "talk_sec_pt": "1.5", "talk_sec": "01:00:00"}


def _read(fmt: str, data: bytes) -> list[dict[str, Any]]:
    return read_output(data, fmt)


def _agents(count: int, **late: Any) -> list[dict[str, Any]]:
    """``count`` typed agents; ``late`` fields appear only on the last one."""
    rows = [normalize_record({**AGENT, "user_id": str(n)}) for n in range(count)]
    rows[-1].update(late)
    return rows


@pytest.fixture(params=["file", "memory"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    def make(name: str) -> Any:
        if request.param == "file":
            return object_storage_path(f"file://{tmp_path}/{name}", None)
        return object_storage_path(f"memory://convoso-out-{uuid.uuid4().hex}/{name}", None)

    return make


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_streams_many_batches_and_reports_rows_and_bytes(target: Any, fmt: str) -> None:
    rows = _agents(2500)  # more than two write batches
    path = target(f"agents.{fmt}")
    count, size = write_records(path, lambda: iter(rows), fmt)
    data = path.read_bytes()
    assert (count, size) == (2500, len(data))
    back = _read(fmt, data)
    assert [r["user_id"] for r in back] == [r["user_id"] for r in rows]
    if fmt != "csv":
        assert back[0] == {k: rows[0].get(k) for k in back[0]} and back[0]["name"] == "Zoë"


def test_csv_meeting_a_field_outside_the_contract_late_starts_again_with_its_column(target: Any) -> None:
    rows = _agents(3000, team="blue")
    calls = []

    def source() -> Iterator[dict[str, Any]]:
        calls.append(1)
        return iter(rows)

    path = target("agents.csv")
    count, _ = write_records(path, source, "csv")
    back = _read("csv", path.read_bytes())
    assert count == 3000 and len(calls) == 2
    assert list(back[0])[-1] == "team" and back[-1]["team"] == "blue" and back[0]["team"] == ""


def test_parquet_types_a_late_field_from_every_row_and_keeps_contract_types(target: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = target("agents.parquet")
    write_records(path, lambda: iter(_agents(3000, team_size=7)), "parquet")
    table = pq.read_table(io.BytesIO(path.read_bytes()))
    assert table.schema.field("team_size").type == pa.int64()
    assert table.column("team_size").null_count == 2999
    assert table.schema.field("calls").type == pa.int64() and table.schema.field("talk_seconds").type == pa.int64()
    assert table.num_rows == 3000


def test_typed_parquet_streams_in_row_groups(target: Any) -> None:
    import pyarrow.parquet as pq

    path = target("agents.parquet")
    count, _ = write_records(path, lambda: iter(_agents(ROW_GROUP_ROWS * 2 + 5)), "parquet")
    parquet = pq.ParquetFile(io.BytesIO(path.read_bytes()))
    assert count == parquet.metadata.num_rows == ROW_GROUP_ROWS * 2 + 5
    assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == [
        ROW_GROUP_ROWS,
        ROW_GROUP_ROWS,
        5,
    ]
    assert parquet.read().column("user_id").to_pylist()[-1] == str(ROW_GROUP_ROWS * 2 + 4)


def test_parquet_of_untyped_records_infers_every_column(target: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = target("raw.parquet")
    write_records(
        path, lambda: iter([dict(AGENT, date="2026-03-02")]), "parquet", extra_first=("date",), normalized=False
    )
    table = pq.read_table(io.BytesIO(path.read_bytes()))
    assert table.column_names[:3] == ["date", "user_id", "name"]
    assert table.schema.field("calls").type == pa.string() and table.schema.field("date").type == pa.date32()


@pytest.mark.parametrize("fmt", FORMATS)
def test_records_failing_part_way_leave_the_previous_object(
    target: Any, fmt: str, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = tmp_path_factory.mktemp("spool")
    monkeypatch.setattr(tempfile, "tempdir", str(spool))  # where object-store uploads are staged
    path = target(f"agents.{fmt}")
    path.write_bytes(b"previous complete object\n")

    def broken() -> Iterator[dict[str, Any]]:
        yield from _agents(1500)
        raise ConvosoResponseError("malformed data near 123")

    with pytest.raises(ConvosoResponseError):
        write_records(path, broken, fmt)
    assert path.read_bytes() == b"previous complete object\n"
    assert [p.name for p in path.parent.iterdir()] == [f"agents.{fmt}"]  # no temporary file left beside it
    assert list(spool.iterdir()) == []


json_records = st.dictionaries(
    st.text(max_size=6),
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=8,
    ),
    max_size=6,
)


@given(st.lists(json_records, max_size=5))
def test_json_and_jsonl_read_back_as_the_records_written(records: list[dict[str, Any]]) -> None:
    lines, array = io.BytesIO(), io.BytesIO()
    assert _write_jsonl(lines, iter(records)) == _write_json(array, iter(records)) == len(records)
    assert [json.loads(line) for line in lines.getvalue().splitlines()] == records
    assert json.loads(array.getvalue()) == records


def test_json_lines_keep_non_ascii_text_as_utf8() -> None:
    handle = io.BytesIO()
    _write_jsonl(handle, iter([{"user_name": "Zoë Núñez"}]))
    assert handle.getvalue() == '{"user_name":"Zoë Núñez"}\n'.encode()


def test_write_atomically_replaces_the_object_whole(target: Any) -> None:
    path = target("summary.json")
    path.write_bytes(b"old")
    write_atomically(path, b'{"agents": 3}')
    assert path.read_bytes() == b'{"agents": 3}'
    assert [p.name for p in path.parent.iterdir()] == ["summary.json"]


_CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.dates(),
)


@given(
    records=st.lists(st.dictionaries(st.text(max_size=6), _CELLS, max_size=5), max_size=12),
    cuts=st.lists(st.integers(0, 12), max_size=6),
)
def test_xcom_size_added_by_batches_is_the_whole_lists_compact_json(
    records: list[dict[str, Any]], cuts: list[int]
) -> None:
    """operators._output.XComSize: any split into batches, empty ones included, measures the same."""
    import msgspec

    from airflow_provider_convoso.operators._output import XComSize

    bounds = [0, *sorted(min(cut, len(records)) for cut in cuts), len(records)]
    measured = XComSize()
    for start, end in itertools.pairwise(bounds):
        measured.add(records[start:end])
    assert measured.bytes == len(msgspec.json.encode(records, enc_hook=str))
