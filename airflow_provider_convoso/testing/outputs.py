"""Reading back what the operator wrote, for assertions in DAG tests."""

from __future__ import annotations

import csv
import io
import json
from typing import Any


def read_output(data: bytes, fmt: str) -> list[dict[str, Any]]:
    """The rows of a JSONL, JSON, CSV or Parquet object as dicts (CSV cells stay strings)."""
    if fmt == "jsonl":
        return [json.loads(line) for line in data.decode("utf-8").splitlines()]
    if fmt == "json":
        rows: list[dict[str, Any]] = json.loads(data)
        return rows
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table: list[dict[str, Any]] = pq.read_table(io.BytesIO(data)).to_pylist()
        return table
    raise ValueError(f"fmt must be one of jsonl, json, csv, parquet, got {fmt!r}")
