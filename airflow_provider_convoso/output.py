"""Serialising records (JSONL, JSON, CSV, Parquet) and writing them atomically.

Serialisation is pure; writing takes an ``ObjectStoragePath`` and makes sure the object at
the target is only ever complete: a local file is written beside the target and renamed,
an object store gets the bytes in one put (or one completed multipart upload).
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_convoso.exceptions import ConvosoInputError
from airflow_provider_convoso.records import (
    COMPANION_FIELDS,
    FLOAT_FIELDS,
    INT_FIELDS,
    column_order,
)

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

FORMATS = ("jsonl", "json", "csv", "parquet")
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
_LOCAL_PROTOCOLS = frozenset({"", "file", "local"})


def resolve_format(output_format: str | None, output_path: str | None) -> str:
    """The output format: explicit, else from the path's extension, else ``jsonl``."""
    if output_format is not None and str(output_format).strip():
        fmt = str(output_format).strip().lower()
        if fmt not in FORMATS:
            raise ConvosoInputError(f"output_format must be one of {', '.join(FORMATS)}, got {output_format!r}")
        return fmt
    suffix = os.path.splitext(str(output_path or ""))[1].lower()
    return _EXTENSIONS.get(suffix, "jsonl")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def to_jsonl(records: Sequence[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode("utf-8")


def to_json(records: Sequence[dict[str, Any]]) -> bytes:
    return json.dumps(list(records), ensure_ascii=False).encode("utf-8")


def to_csv(records: Sequence[dict[str, Any]], columns: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(column)) for column in columns])
    return buffer.getvalue().encode("utf-8")


def _arrow_type(pa: Any, column: str, values: list[Any]) -> Any:
    if column == "date":
        return pa.date32()
    if column in INT_FIELDS or column in COMPANION_FIELDS:
        return pa.int64()
    if column in FLOAT_FIELDS:
        return pa.float64()
    kinds = {type(value) for value in values if value is not None}
    if kinds == {bool}:
        return pa.bool_()
    if kinds and kinds <= {int}:
        return pa.int64()
    if kinds and kinds <= {int, float}:
        return pa.float64()
    return pa.string()


def to_parquet(records: Sequence[dict[str, Any]], columns: Sequence[str]) -> bytes:
    """Typed columns; unknown non-scalar values are stored as JSON text."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConvosoInputError(
            "output_format 'parquet' needs pyarrow: pip install 'airflow-provider-convoso[parquet]'"
        ) from None
    import datetime as dt

    arrays, fields = [], []
    for column in columns:
        values = [record.get(column) for record in records]
        arrow_type = _arrow_type(pa, column, values)
        if arrow_type == pa.date32():
            values = [dt.date.fromisoformat(v) if isinstance(v, str) else v for v in values]
        elif arrow_type == pa.string():
            values = [None if v is None else v if isinstance(v, str) else json.dumps(v) for v in values]
        elif arrow_type == pa.float64():
            values = [None if v is None else float(v) for v in values]
        arrays.append(pa.array(values, type=arrow_type))
        fields.append(pa.field(column, arrow_type))
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def serialize(records: Sequence[dict[str, Any]], fmt: str, *, split_by_day: bool = False) -> bytes:
    """Bytes of ``records`` in ``fmt``; an empty list gives a valid empty file."""
    if fmt == "jsonl":
        return to_jsonl(records)
    if fmt == "json":
        return to_json(records)
    columns = column_order(list(records), extra_first=("date",) if split_by_day else ())
    if fmt == "csv":
        return to_csv(records, columns)
    if fmt == "parquet":
        return to_parquet(records, columns)
    raise ConvosoInputError(f"output_format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def storage_uri(output_path: str) -> str:
    """The URI of an output path as given: scheme-less local paths become ``file://`` URIs.

    (``str(ObjectStoragePath)`` embeds the connection id, which is not part of the address.)
    """
    text = str(output_path).strip()
    if "://" in text:
        return text
    return "file://" + os.path.abspath(text)


def write_atomically(path: ObjectStoragePath, data: bytes) -> None:
    """Write ``data`` so that ``path`` holds the previous object, or none, until it is complete."""
    if path.protocol in _LOCAL_PROTOCOLS:
        target = Path(path.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return
    # One put: S3, GCS and Azure make an object visible only when the upload completes.
    path.fs.pipe_file(path.path, data)
