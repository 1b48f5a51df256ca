"""Reading agent-performance answers: their shapes, streamed records, row counts and digests.

Pure: no Airflow, no httpx. An answer's ``data`` is a list or an object keyed by user id;
large answers are read a record at a time (:func:`iter_records`) so a body is never held
twice.
"""

from __future__ import annotations

import codecs
import functools
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import msgspec

from airflow_provider_convoso.endpoints.agent_performance.query import FILTER_ERROR_CODES
from airflow_provider_convoso.endpoints.agent_performance.records import normalize_record
from airflow_provider_convoso.exceptions import ConvosoResponseError
from airflow_provider_convoso.wire.envelope import (
    _NOT_JSON,
    api_error,
    decode_json,
    is_failure,
    reported_total,
    snippet,
    success_flag,
)


def _own(item: Mapping[str, Any], owned: bool) -> dict[str, Any]:
    return item if owned and type(item) is dict else dict(item)


def _not_a_record(item: Any, key: Any = None) -> ConvosoResponseError:
    """The error for a ``data`` entry that is not a JSON object (``key`` in the keyed shape)."""
    if key is not None:
        return ConvosoResponseError(f"keyed data entry {snippet(str(key), 40)!r} is not an object")
    return ConvosoResponseError(f"a record is a JSON {type(item).__name__}, not an object")


def _records_from_keyed(data: Mapping[str, Any], owned: bool) -> list[dict[str, Any]]:
    records = []
    for key, inner in data.items():
        if type(inner) is not dict and not isinstance(inner, Mapping):
            raise _not_a_record(inner, key)
        record = _own(inner, owned)
        record.setdefault("user_id", key)
        records.append(record)
    return records


def records_from_payload(
    payload: Any,
    params: Mapping[str, str] | None = None,
    *,
    owned: bool = False,
    envelope: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The raw agent objects in any successful shape, or the error a failure stands for.

    Data is a JSON array; an object whose ``success`` is true (a missing, ``null``, ``{}``
    or ``[]`` ``data`` is no rows); or an object with ``data`` and no ``success``. ``data``
    is a list, or an object keyed by user id (``user_id`` filled in from the key). An
    object with ``success`` false, or without ``success`` and with a ``code``/``error_code``
    other than 200, is the API error it names. Anything else (``{}``, ``null``, a string,
    ``{"success": "no"}``) is :class:`ConvosoResponseError`. With ``owned`` (a payload this
    module decoded itself) the objects are reused instead of copied.
    """
    if isinstance(payload, list):
        data: Any = payload
    elif isinstance(payload, Mapping):
        if is_failure(payload):
            raise api_error(payload, params, FILTER_ERROR_CODES)
        if "success" in payload and success_flag(payload) is None:
            raise ConvosoResponseError(f"'success' is neither true nor false: {snippet(json.dumps(payload)[:400])}")
        if "success" not in payload and "data" not in payload:
            raise ConvosoResponseError(f"not an answer (no 'success', no 'data'): {snippet(json.dumps(payload)[:400])}")
        data = payload.get("data")
        if envelope is not None:
            envelope.update((key, value) for key, value in payload.items() if key != "data")
    else:
        raise ConvosoResponseError(
            f"not an answer: the body is a JSON {type(payload).__name__}, not an object or a list"
        )
    if data is None or data in ({}, []):
        return []
    if isinstance(data, Mapping):
        return _records_from_keyed(data, owned)
    if not isinstance(data, list):
        raise ConvosoResponseError(f"'data' is a JSON {type(data).__name__}, not a list or an object")
    for item in data:
        if type(item) is not dict and not isinstance(item, Mapping):  # the ABC check is slow: dicts first
            raise _not_a_record(item)
    return data if owned and type(data) is list else [dict(item) for item in data]


def parse_payload(
    payload: Any,
    params: Mapping[str, str] | None = None,
    *,
    normalize: bool = True,
    owned: bool = False,
    envelope: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Records from a decoded JSON payload, typed unless ``normalize`` is false.

    ``owned`` lets it type the payload's own objects in place (no copy of a large answer);
    ``envelope``, when given, receives the answer's members other than ``data``.
    """
    records = records_from_payload(payload, params, owned=owned, envelope=envelope)
    return [normalize_record(record, in_place=True) for record in records] if normalize else records


def parse_body(
    content: bytes | str,
    params: Mapping[str, str] | None = None,
    *,
    normalize: bool = True,
    envelope: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Typed records from a 2xx body, decoded whole (the quickest way for small answers)."""
    return parse_payload(decode_json(content), params, normalize=normalize, owned=True, envelope=envelope)


# -- streaming ------------------------------------------------------------------------

_RawMembers = dict[str, msgspec.Raw]
_RawItems = list[msgspec.Raw]


class _NotStreamable(Exception):
    """The body is not a successful answer in UTF-8; decode it whole instead."""


_WHITESPACE = re.compile(rb"[ \t\n\r]*")


def _first_byte(content: bytes | memoryview) -> bytes:
    """The first byte that is not JSON whitespace (``b""`` for a blank body)."""
    start = _WHITESPACE.match(content).end()  # type: ignore[union-attr]  # always matches
    return bytes(content[start : start + 1])


_UTF8_PIECE = 1 << 20


def _is_utf8(content: bytes | memoryview) -> bool:
    """Whether ``content`` is valid UTF-8, checked a MiB at a time (no copy of the body as text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(content)
    try:
        for start in range(0, len(view), _UTF8_PIECE):
            decoder.decode(view[start : start + _UTF8_PIECE])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _decode_raw(content: bytes | memoryview, kind: type[Any]) -> Any:
    """``content`` validated whole, with each member or item left as undecoded JSON."""
    try:
        return msgspec.json.decode(content, type=kind)
    except _NOT_JSON:
        raise _NotStreamable from None


def _decode_item(raw: msgspec.Raw, key: str | None = None) -> dict[str, Any]:
    item = msgspec.json.decode(raw)
    if type(item) is not dict:
        raise _not_a_record(item, key)
    if key is not None and "user_id" not in item:
        item["user_id"] = key
    return item


def _raw_records(content: bytes | memoryview, envelope: dict[str, Any]) -> Iterator[tuple[msgspec.Raw, str | None]]:
    """Each record of a successful answer, undecoded, with its key in the keyed shape.

    The whole body is checked first, so a malformed body or a failure is known before any
    record is decoded. Anything but a successful answer raises :class:`_NotStreamable`.
    """
    if not _is_utf8(content):  # msgspec's checked pass skips string contents; a bad byte fails the body
        raise _NotStreamable
    first = _first_byte(content)
    if first == b"[":
        return ((raw, None) for raw in _decode_raw(content, _RawItems))
    if first != b"{":
        raise _NotStreamable
    members = _decode_raw(content, _RawMembers)
    data = members.pop("data", None)
    try:
        small = {key: msgspec.json.decode(raw) for key, raw in members.items()}
    except _NOT_JSON:
        raise _NotStreamable from None
    if data is None or success_flag(small) is not True:
        raise _NotStreamable  # a failure, an odd 'success' or none, no 'data': judged whole
    data = memoryview(data)  # the bytes of the body that hold the records
    kind = _first_byte(data)
    if kind == b"[":
        items: Iterator[tuple[msgspec.Raw, str | None]] = ((raw, None) for raw in _decode_raw(data, _RawItems))
    elif kind == b"{":
        items = ((raw, key) for key, raw in _decode_raw(data, _RawMembers).items())
    else:
        raise _NotStreamable  # null or an odd 'data': judged whole
    envelope.update(small)
    return items


def _untyped(record: dict[str, Any]) -> dict[str, Any]:
    return record


_typed: Callable[[dict[str, Any]], dict[str, Any]] = functools.partial(normalize_record, in_place=True)


def iter_records(
    content: bytes | str,
    params: Mapping[str, str] | None = None,
    *,
    normalize: bool = True,
    envelope: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the records of a 2xx body, decoded and typed one agent at a time.

    For large answers: the body is validated whole by msgspec with each record left as a
    view of the body's bytes, then each record is decoded when it is needed, so peak memory
    is the body plus one record instead of every record as Python objects (about 6x the
    body). The records, their order and the errors are those of :func:`parse_body`. A body
    that is not UTF-8 JSON, or not a success, is decoded whole by :func:`parse_body`.

    :param content: the body as received (a ``str`` is encoded to UTF-8 first).
    :param params: the request's parameters, to name a rejected value in an error.
    :param normalize: type the records (see :func:`records.normalize_record`).
    :param envelope: when given, receives the answer's members other than ``data``.
    :return: an iterator of records; a record that is not an object or does not type
        raises :class:`ConvosoResponseError` when it is reached, so a consumer commits its
        output only once this is exhausted.
    """
    if envelope is None:
        envelope = {}
    body: bytes | memoryview = content.encode("utf-8") if isinstance(content, str) else content
    if body[:3] == codecs.BOM_UTF8:
        body = memoryview(body)[3:]
    try:
        records = _raw_records(body, envelope)
    except _NotStreamable:  # nothing was decoded yet: judge the (small or odd) body whole
        envelope.clear()
        yield from parse_body(content, params, normalize=normalize, envelope=envelope)
        return
    typed = _typed if normalize else _untyped
    for raw, key in records:
        try:
            item = _decode_item(raw, key)
        except _NOT_JSON:  # the body was checked whole: only nesting too deep for this interpreter
            raise ConvosoResponseError("a record is nested too deeply to decode") from None
        yield typed(item)


def read_records(content: bytes, params: Mapping[str, str], normalize: bool) -> list[dict[str, Any]]:
    """Return an answer's records (typed unless ``normalize`` is false), warning on a wrong ``total``.

    :param content: the answer's body.
    :param params: the parameters it was asked with.
    :param normalize: type the records.
    :return: the records.
    """

    envelope: dict[str, Any] = {}
    records = parse_body(content, params, normalize=normalize, envelope=envelope)
    warn_on_total(envelope, len(records))
    return records


def count_rows(content: bytes, params: Mapping[str, str]) -> int:
    """Return how many rows an answer holds, read one at a time and not typed.

    :param content: the answer's body.
    :param params: the parameters it was asked with.
    :return: the row count.
    """

    envelope: dict[str, Any] = {}
    rows = sum(1 for _ in iter_records(content, params, normalize=False, envelope=envelope))
    warn_on_total(envelope, rows)
    return rows


def fingerprint_rows(content: bytes, params: Mapping[str, str]) -> tuple[int, str]:
    """Return an answer's row count and digest, typed a batch at a time, none kept.

    :param content: the answer's body.
    :param params: the parameters it was asked with.
    :return: ``(rows, digest)``.
    """
    from airflow_provider_convoso.digest import RecordDigest

    envelope: dict[str, Any] = {}
    digest = RecordDigest().add_all(iter_records(content, params, envelope=envelope))
    warn_on_total(envelope, digest.rows)
    return digest.rows, digest.hexdigest()


def warn_on_total(envelope: Mapping[str, Any], rows: int) -> int | None:
    """Log a WARNING when an envelope's ``total`` disagrees with the rows read.

    :param envelope: the answer's members other than ``data``.
    :param rows: the rows read from it.
    :return: the reported total, when the envelope carries one.
    """
    total = reported_total(envelope)
    if total is not None and total != rows:
        _log.warning("Convoso reported total=%d but sent %d agent rows", total, rows)
    return total


_log = logging.getLogger(__name__)
