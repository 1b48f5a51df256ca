"""Writing records as JSONL, JSON, CSV or Parquet, streamed and atomic.

Records are encoded as they arrive (from an endpoint's reader) into a local
temporary file; the target, an ``ObjectStoragePath``, only ever holds a complete object:
a local file is renamed into place, an object store gets one upload.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import glob
import io
import json
import operator
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, BinaryIO

import msgspec

from airflow_provider_convoso._tempfiles import TEMP_PREFIX, remove_stale, temp_tag
from airflow_provider_convoso.exceptions import ConvosoInputError, ConvosoResponseError

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

FORMATS = ("jsonl", "json", "csv", "parquet")
_NO_KINDS: Mapping[str, str] = MappingProxyType({})
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


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def _safe_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run: text that starts like a formula gets a leading ``'``."""
    value = _cell(value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


_BATCH = 1024  # pieces per write (text formats) or records per Arrow batch (Parquet)


def _batches(records: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class Observer:
    """Sees the records :func:`write_records` writes (a digest, quality checks); does nothing itself.

    :meth:`start` begins each pass over the records (a CSV or Parquet file meeting a field
    outside the contract starts again), :meth:`batch` sees each batch before it is written,
    and :meth:`done` runs after the last one and before the object is committed: an error
    raised there leaves the target as it was.
    """

    def start(self) -> None:
        """Begin a pass over the records: forget what an earlier pass saw."""

    def batch(self, records: list[dict[str, Any]], lines: bytes | None) -> None:
        """See a batch of records about to be written.

        :param records: the batch.
        :param lines: their JSON lines, when the format encoded them (JSONL and JSON).
        """

    def done(self) -> None:
        """Run after the last record is written and before the object is committed."""


_UNOBSERVED = Observer()


def _write_jsonl(handle: BinaryIO, records: Iterable[dict[str, Any]], observe: Observer = _UNOBSERVED) -> int:
    """One JSON object per line, a batch at a time; returns how many records there were."""
    encoder = msgspec.json.Encoder()
    count = 0
    observe.start()
    for batch in _batches(records):
        lines = encoder.encode_lines(batch)
        observe.batch(batch, lines)
        handle.write(lines)
        count += len(batch)
    return count


def _write_json(handle: BinaryIO, records: Iterable[dict[str, Any]], observe: Observer = _UNOBSERVED) -> int:
    """One JSON array, a batch at a time; returns how many records there were."""
    encoder = msgspec.json.Encoder()
    count = 0
    observe.start()
    handle.write(b"[")
    for batch in _batches(records):
        lines = encoder.encode_lines(batch)
        observe.batch(batch, lines)
        # Encoded JSON holds no raw newline, so the line breaks are exactly the separators.
        handle.write((b"," if count else b"") + lines[:-1].replace(b"\n", b","))
        count += len(batch)
    handle.write(b"]")
    return count


def _write_csv(
    handle: BinaryIO,
    records: Iterable[dict[str, Any]],
    columns: Sequence[str],
    escape_formulas: bool = False,
    observe: Observer = _UNOBSERVED,
) -> tuple[int, set[str]]:
    """Rows under ``columns``; returns their count and the keys that had no column.

    Lines end in CRLF (RFC 4180): the csv module quotes a value holding any character of
    the line terminator, so a value with a bare CR or LF is quoted and reads back as one cell.
    """
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\r\n")
    cell = _safe_cell if escape_formulas else _cell
    writer.writerow(columns)
    known = set(columns)
    missing: set[str] = set()
    rows = 0
    observe.start()
    for batch in _batches(records):
        observe.batch(batch, None)
        for record in batch:
            if not known.issuperset(record):
                missing.update(set(record).difference(known))
            writer.writerow([cell(record.get(column)) for column in columns])
        rows += len(batch)
    text.flush()
    text.detach()
    return rows, missing


def _arrow_type(pa: Any, column: str, values: list[Any], kinds: Mapping[str, str] = _NO_KINDS) -> Any:
    """A normalized column's Arrow type: fixed by ``kinds`` for the record type's own fields, else inferred."""
    kind = kinds.get(column)
    if kind == "date":
        return pa.date32()
    if kind == "int":
        return pa.int64()
    if kind == "float":
        return pa.float64()
    if kind == "bool":
        return pa.bool_()
    if kind == "timestamp":
        return pa.timestamp("ms", tz="UTC")
    if kind in ("string", "json"):
        return pa.string()
    return _inferred_type(pa, values)


def _inferred_type(pa: Any, values: list[Any]) -> Any:
    kinds = {type(value) for value in values if value is not None}
    if kinds == {bool}:
        return pa.bool_()
    if kinds == {dt.datetime} and all(value is None or value.tzinfo is not None for value in values):
        return pa.timestamp("s", tz="UTC")
    if kinds and kinds <= {int}:
        return pa.int64()
    if kinds and kinds <= {int, float}:
        return pa.float64()
    return pa.string()


def _arrow_array(
    pa: Any, column: str, values: list[Any], arrow_type: Any = None, kinds: Mapping[str, str] = _NO_KINDS
) -> Any:
    """One normalized column; unknown non-scalar values become JSON text."""
    arrow_type = arrow_type or _arrow_type(pa, column, values, kinds)
    if arrow_type == pa.date32():
        values = [dt.date.fromisoformat(v) if isinstance(v, str) else v for v in values]
    elif arrow_type == pa.string():
        values = [None if v is None else v if isinstance(v, str) else json.dumps(v, default=str) for v in values]
    elif arrow_type == pa.float64():
        values = [None if v is None else float(v) for v in values]
    return pa.array(values, type=arrow_type)


ROW_GROUP_ROWS = 4096  # Parquet rows per row group; the writer's memory is bounded by it


class _Restart(Exception):
    """A record has a field the fixed Parquet schema has no column for."""


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConvosoInputError(
            "output_format 'parquet' needs pyarrow: pip install 'airflow-provider-convoso[parquet]'"
        ) from None
    return pa, pq


def _write_parquet(
    handle: BinaryIO,
    records: Callable[[], Iterable[dict[str, Any]]],
    layout: _Layout,
    normalized: bool,
    observe: Observer = _UNOBSERVED,
) -> int:
    """Typed records stream into row groups of :data:`ROW_GROUP_ROWS` under the contract's
    fixed schema. Records with a field outside it, or left as the API sent them, start
    again on the path that infers column types from every row."""
    pa, pq = _pyarrow()
    if normalized:
        try:
            return _write_parquet_streamed(pa, pq, handle, records(), layout, observe)
        except _Restart:
            handle.seek(0)
            handle.truncate()
    return _write_parquet_inferred(pa, pq, handle, records(), layout, normalized, observe)


def _write_parquet_streamed(
    pa: Any,
    pq: Any,
    handle: BinaryIO,
    records: Iterable[dict[str, Any]],
    layout: _Layout,
    observe: Observer,
) -> int:
    columns = layout.order
    schema = pa.schema([pa.field(column, _arrow_type(pa, column, [], layout.kinds)) for column in columns])
    known = set(columns)
    rows = 0
    observe.start()
    with pq.ParquetWriter(handle, schema, compression="snappy") as writer:
        group: list[Any] = []
        for batch in _batches(records):
            if not all(known.issuperset(record) for record in batch):
                raise _Restart
            observe.batch(batch, None)
            arrays = [
                _column_array(pa, field, values) for field, values in zip(schema, _columns(batch, columns), strict=True)
            ]
            group.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
            rows += len(batch)
            if sum(part.num_rows for part in group) >= ROW_GROUP_ROWS:
                writer.write_table(pa.Table.from_batches(group, schema=schema))
                group = []
        if group or not rows:
            writer.write_table(pa.Table.from_batches(group, schema=schema))
    return rows


def _columns(batch: list[dict[str, Any]], names: list[str]) -> list[tuple[Any, ...]]:
    """The batch's values by column: one C-level lookup per record and one transpose, where a
    lookup per value in Python would cost the Parquet write more than its encoding."""
    if not batch:
        return [() for _ in names]
    getter = operator.itemgetter(*names)
    try:
        rows = list(map(getter, batch))
    except KeyError:  # a record without one of the columns: it is null there
        rows = [tuple(record.get(name) for name in names) for record in batch]
    return list(zip(*rows, strict=True))


def _column_array(pa: Any, field: Any, values: tuple[Any, ...]) -> Any:
    """One typed column: straight to Arrow when the values already have the column's type
    (typed records do), else through :func:`_arrow_array`'s conversions."""
    try:
        return pa.array(values, type=field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _arrow_array(pa, field.name, list(values), field.type)


def _write_parquet_inferred(
    pa: Any,
    pq: Any,
    handle: BinaryIO,
    records: Iterable[dict[str, Any]],
    layout: _Layout,
    normalized: bool,
    observe: Observer,
) -> int:
    """All columns in memory until the end: fields outside the record type's columns get the
    type their values have in every row (and, untyped, so do its own columns)."""
    order = layout.order
    kinds = layout.kinds
    fixed = order if normalized else list(layout.extra_first)
    fixed_set = set(fixed)
    chunks: dict[str, list[Any]] = {column: [] for column in fixed}
    inferred: dict[str, list[Any]] = {}
    rows = 0
    observe.start()
    for batch in _batches(records):
        observe.batch(batch, None)
        for column in fixed:
            chunks[column].append(_arrow_array(pa, column, [record.get(column) for record in batch], kinds=kinds))
        for record in batch:
            if not fixed_set.issuperset(record):
                for column in set(record).difference(fixed_set):
                    inferred.setdefault(column, [])
        for column, values in inferred.items():
            values.extend([None] * (rows - len(values)))
            values.extend(record.get(column) for record in batch)
        rows += len(batch)
    columns = {
        column: pa.chunked_array(parts, type=_arrow_type(pa, column, [], kinds)) for column, parts in chunks.items()
    }
    rank = {column: position for position, column in enumerate(order)}
    for column in sorted(inferred, key=lambda name: (rank.get(name, len(rank)), name)):
        values = inferred[column] + [None] * (rows - len(inferred[column]))
        columns[column] = pa.chunked_array([_arrow_array(pa, column, values, _inferred_type(pa, values))])
    table = pa.Table.from_arrays(list(columns.values()), names=list(columns))
    pq.write_table(table, handle, compression="snappy", row_group_size=ROW_GROUP_ROWS)
    return rows


@dataclasses.dataclass(frozen=True)
class _Layout:
    """Where the columns of a tabular output come from: ``extra_first``, then the record
    type's own ``columns``; ``kinds`` fixes the Parquet type of some of them."""

    extra_first: tuple[str, ...]
    columns: tuple[str, ...]
    kinds: Mapping[str, str]

    @property
    def order(self) -> list[str]:
        return [*self.extra_first, *self.columns]


def _write(
    handle: BinaryIO,
    records: Callable[[], Iterable[dict[str, Any]]],
    fmt: str,
    layout: _Layout,
    normalized: bool,
    csv_escape_formulas: bool = False,
    observe: Observer = _UNOBSERVED,
) -> int:
    """Write every record in ``fmt``; returns how many there were."""
    if fmt == "jsonl":
        return _write_jsonl(handle, records(), observe)
    if fmt == "json":
        return _write_json(handle, records(), observe)
    if fmt == "csv":
        columns = layout.order
        rows, missing = _write_csv(handle, records(), columns, csv_escape_formulas, observe)
        if missing:  # a field outside the contract: start again with a column for it
            handle.seek(0)
            handle.truncate()
            rows, _ = _write_csv(handle, records(), [*columns, *sorted(missing)], csv_escape_formulas, observe)
        return rows
    if fmt == "parquet":
        pa, _ = _pyarrow()
        try:
            return _write_parquet(handle, records, layout, normalized, observe)
        except (OverflowError, pa.ArrowInvalid, pa.ArrowTypeError) as error:
            # The same records fail the same way on every retry: a permanent error.
            raise ConvosoResponseError(f"a value does not fit its Parquet column: {error}") from None
    raise ConvosoInputError(f"output_format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def storage_uri(output_path: str) -> str:
    """The URI of an output path as given: scheme-less local paths become ``file://`` URIs.

    (``str(ObjectStoragePath)`` embeds the connection id, which is not part of the address.)
    """
    text = str(output_path).strip()
    if "://" in text:
        return text
    return "file://" + os.path.abspath(text)


@contextlib.contextmanager
def _atomic(path: ObjectStoragePath) -> Iterator[BinaryIO]:
    """A binary handle whose content becomes the object at ``path`` only if the block completes.

    A local target is written to a hidden name beside it (``.NAME.convoso-HOST-PID-….tmp``),
    fsynced and renamed over it; an object store gets a local temporary file
    (``convoso-HOST-PID-….tmp`` in the temporary folder) in one upload (S3, GCS and Azure
    make an object visible only when its upload completes). On any error the target is left
    as it was. Leftovers of a killed run of the same target are removed first.
    """
    local = path.protocol in _LOCAL_PROTOCOLS
    if local:
        target = Path(path.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(target.parent, f".{glob.escape(target.name)}.{TEMP_PREFIX}*.tmp")
        temporary = target.with_name(f".{target.name}.{temp_tag()}.tmp")
    else:
        remove_stale(Path(tempfile.gettempdir()), f"{TEMP_PREFIX}*.tmp")
        descriptor, name = tempfile.mkstemp(prefix=temp_tag() + "-", suffix=".tmp")
        os.close(descriptor)
        temporary = Path(name)
    try:
        with open(temporary, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if local:
            os.replace(temporary, target)
        else:
            path.fs.put_file(str(temporary), path.path)
    finally:
        temporary.unlink(missing_ok=True)


def check_output_path(output_path: str) -> None:
    """Refuse an output path that cannot name one file, before any request.

    :param output_path: the rendered ``output_path``.
    :raises ConvosoInputError: a folder (trailing ``/``), a ``~`` path, or a relative
        ``file://`` URL.
    """
    from urllib.parse import urlsplit

    text = str(output_path).strip()
    if not text:
        raise ConvosoInputError("output_path is empty")
    if text.endswith(("/", "\\")):
        raise ConvosoInputError(f"output_path {text!r} names a folder: end it with a file name such as agents.jsonl")
    if text.startswith("~"):
        raise ConvosoInputError(f"output_path {text!r} starts with '~', which is not expanded: give an absolute path")
    parts = urlsplit(text)
    if parts.scheme == "file" and parts.netloc not in ("", "localhost"):
        raise ConvosoInputError(
            f"output_path {text!r} is a relative file:// URL (its first folder reads as a host name "
            f"{parts.netloc!r}): use file:///absolute/path"
        )


def write_atomically(path: ObjectStoragePath, data: bytes) -> None:
    """Write ``data`` so that ``path`` holds the previous object, or none, until it is complete."""
    with _atomic(path) as handle:
        handle.write(data)


def copy_atomically(source: Path, path: ObjectStoragePath) -> None:
    """Copy a local file to ``path`` so that ``path`` holds the previous object, or none, until it is complete."""
    with _atomic(path) as handle, open(source, "rb") as readable:
        shutil.copyfileobj(readable, handle, 1024 * 1024)


def write_records(
    path: ObjectStoragePath,
    records: Callable[[], Iterable[dict[str, Any]]],
    fmt: str,
    *,
    columns: Sequence[str],
    kinds: Mapping[str, str] | None = None,
    extra_first: tuple[str, ...] = (),
    normalized: bool = True,
    csv_escape_formulas: bool = False,
    observe: Observer | None = None,
) -> tuple[int, int]:
    """Stream ``records()`` into ``path`` as ``fmt``, atomically; returns (rows, bytes).

    The records are encoded as they arrive, so a large answer never sits in memory twice.
    If they fail part-way, ``path`` is left as it was. ``records`` may be called a second
    time (a CSV or normalized Parquet meeting a field outside ``columns`` starts again).
    ``columns`` are the record type's own fields, in order, after ``extra_first``; any other
    field follows, sorted. ``kinds`` maps some of them to ``date``, ``int`` or ``float``:
    with ``normalized`` records (typed by their endpoint), Parquet gives those columns their
    fixed types and streams; otherwise it infers each column's type from every row. ``csv_escape_formulas`` prefixes
    ``'`` to CSV text cells that a spreadsheet would run as a formula. ``observe`` (an
    :class:`Observer`) sees each batch before it is written, with its JSON lines for JSONL
    and JSON so a digest need not encode them again, and may stop the commit.
    """
    observer = observe or _UNOBSERVED
    layout = _Layout(tuple(extra_first), tuple(columns), kinds or _NO_KINDS)
    with _atomic(path) as handle:
        rows = _write(handle, records, fmt, layout, normalized, csv_escape_formulas, observer)
        observer.done()
        size = handle.tell()
    return rows, size
