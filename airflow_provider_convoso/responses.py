"""Reading agent-performance responses: status, envelope, shape and error mapping.

Pure: no Airflow, no httpx. The hook hands over the status code, headers and body bytes;
this module returns the records or raises the typed error the answer stands for.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email.utils
import functools
import json
import logging
import math
import re
from collections.abc import Callable, Iterator, Mapping
from http import HTTPStatus
from typing import Any

import msgspec

from airflow_provider_convoso.exceptions import (
    AUTH_ERROR_CODES,
    FILTER_ERROR_CODES,
    OFFSET_ERROR_CODE,
    ConvosoAPIError,
    ConvosoAuthError,
    ConvosoInvalidFilterError,
    ConvosoOffsetError,
    ConvosoResponseError,
    ConvosoTransientError,
    ConvosoValidationError,
)
from airflow_provider_convoso.records import normalize_record

_SNIPPET = 120
#: What decoding a body that is not JSON raises (msgspec's error is a ValueError only from 0.21).
_NOT_JSON = (msgspec.DecodeError, ValueError, RecursionError)
_DATE_PARAMS = ("date_start", "date_end")


def snippet(content: bytes | str, limit: int = _SNIPPET) -> str:
    """A short single-line excerpt of a body, for error messages."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        seconds = (when - (now or dt.datetime.now(dt.timezone.utc))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _reason(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "HTTP error"


def _error_code(payload: Mapping[str, Any]) -> int | str | None:
    code = payload.get("error_code", payload.get("code"))
    if isinstance(code, str) and code.strip().isdigit():
        return int(code.strip())
    if isinstance(code, bool) or not isinstance(code, int | str):
        return None
    return code


def _error_text(payload: Mapping[str, Any]) -> str:
    for key in ("error", "text", "message"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "no error text"


def api_error(
    payload: Mapping[str, Any],
    params: Mapping[str, str] | None = None,
    filter_codes: Mapping[int, str] = FILTER_ERROR_CODES,
) -> ConvosoAPIError:
    """The typed error for a ``success: false`` answer, in either shape the API uses.

    ``params`` are the request parameters (never the token), so the message can name the
    value the API rejected; ``filter_codes`` maps the endpoint's filter error codes to the
    parameter each rejects (agent performance's by default). Code 7231 is
    :class:`ConvosoOffsetError`; any other code keeps its code and text.
    """
    params = params or {}
    code = _error_code(payload)
    text = snippet(_error_text(payload))
    lowered = text.lower()
    suffix = f" (error code {code})" if code is not None else ""
    if code in AUTH_ERROR_CODES or (code is None and ("auth" in lowered or "token" in lowered)):
        return ConvosoAuthError(f"Convoso rejected the auth token: {text}{suffix}", error_code=code, text=text)
    if code == OFFSET_ERROR_CODE:
        return ConvosoOffsetError(
            f"Convoso refused offset={params.get('offset')!r}: {text}{suffix}; the window holds more rows than "
            "one filter set can page through",
            error_code=code,
            text=text,
        )
    if isinstance(code, int) and code in filter_codes:
        parameter = filter_codes[code]
        value = params.get(parameter)
        return ConvosoInvalidFilterError(
            f"Convoso rejected {parameter}={value!r}: {text}{suffix}",
            error_code=code,
            text=text,
            parameter=parameter,
            value=value,
        )
    if code is None and "date" in lowered:
        sent = ", ".join(f"{name}={params[name]!r}" for name in _DATE_PARAMS if name in params) or "no dates"
        return ConvosoValidationError(f"Convoso rejected the dates ({sent}): {text}", error_code=code, text=text)
    return ConvosoAPIError(f"Convoso API error: {text}{suffix}", error_code=code, text=text)


def data_of(
    payload: Any, params: Mapping[str, str] | None = None, filter_codes: Mapping[int, str] = FILTER_ERROR_CODES
) -> Any:
    """Return the ``data`` of a successful ``{"success": true, "data": ...}`` envelope.

    A failure raises its typed error (:func:`api_error`); anything but a successful
    envelope is :class:`ConvosoResponseError`. Only the envelope's ``success`` is judged.

    :param payload: the decoded answer.
    :param params: the request's parameters, for the error message.
    :param filter_codes: the endpoint's filter error codes.
    :return: ``data`` (``None`` when absent).
    """
    if not isinstance(payload, Mapping):
        raise ConvosoResponseError(f"not an answer: the body is a JSON {type(payload).__name__}, not an object")
    if is_failure(payload):
        raise api_error(payload, params, filter_codes)
    if success_flag(payload) is not True:
        raise ConvosoResponseError(f"not a successful answer: {snippet(json.dumps(payload)[:400])}")
    return payload.get("data")


_TRUE = (True, 1, "true", "1")
_FALSE = (False, 0, "false", "0")


def success_flag(payload: Mapping[str, Any]) -> bool | None:
    """Return ``success`` as a boolean: ``None`` when it is missing or neither true nor false.

    :param payload: a decoded answer.
    :return: the flag.
    """
    value = payload.get("success")
    if isinstance(value, str):
        value = value.strip().lower()
    if isinstance(value, bool | int | str):
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    return None


def is_failure(payload: Mapping[str, Any]) -> bool:
    """Tell whether an envelope reports an error: ``success`` false, or no ``success`` and a code other than 200.

    :param payload: a decoded answer.
    :return: whether it is a failure.
    """
    if "success" in payload:
        return success_flag(payload) is False
    code = _error_code(payload)
    return code is not None and code != 200


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
            raise api_error(payload, params)
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


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def decode_json(content: bytes | str) -> Any:
    """Decode a 2xx body; anything that is not JSON (``NaN`` included) is a :class:`ConvosoResponseError`.

    msgspec reads UTF-8; a body it cannot read goes to the standard library, which also
    reads UTF-16/32 and a byte-order mark, or gives the error.
    """
    try:
        return msgspec.json.decode(content)
    except _NOT_JSON:
        pass
    try:
        return json.loads(content, parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise ConvosoResponseError(f"expected a JSON body, got: {snippet(content) or '(empty body)'}") from None


def check_status(status_code: int, headers: Mapping[str, str], content: bytes) -> None:
    """Raise for an HTTP status that is not an answer: only a 2xx is one.

    1xx and 3xx are :class:`ConvosoResponseError` (redirects are not followed: a 302 with a
    body of ``[]`` is not "no rows"); 429, 408 and every 5xx are transient (HTML pages from
    proxies included); 401/403 are auth errors; any other 4xx is a permanent API error.
    """
    if 200 <= status_code < 300:
        return
    label = f"HTTP {status_code} {_reason(status_code)}"
    if status_code < 400:
        location = headers.get("location")
        target = f" to {snippet(location, 200)}" if location else ""
        raise ConvosoResponseError(f"{label}{target} is not an answer (redirects are not followed)")
    if status_code in (408, 429) or status_code >= 500:
        retry_after = parse_retry_after(headers.get("retry-after"))
        raise ConvosoTransientError(f"{label}: {snippet(content, 80)}", retry_after=retry_after)
    detail = snippet(content, 80)
    if status_code in (401, 403):
        raise ConvosoAuthError(f"Convoso refused the auth token ({label}): {detail}", error_code=status_code)
    hint = " (check the connection's API base URL)" if status_code == 404 else ""
    raise ConvosoAPIError(f"{label}{hint}: {detail}", error_code=status_code)


def parse_body(
    content: bytes | str,
    params: Mapping[str, str] | None = None,
    *,
    normalize: bool = True,
    envelope: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Typed records from a 2xx body, decoded whole (the quickest way for small answers)."""
    return parse_payload(decode_json(content), params, normalize=normalize, owned=True, envelope=envelope)


def count_of(value: Any, what: str) -> int:
    """Return a count the service sends as a number or a numeric string (``"731"``).

    :param value: the value as sent.
    :param what: its name, for the error.
    :return: the count.
    :raises ConvosoResponseError: anything else.
    """
    if isinstance(value, bool):
        raise ConvosoResponseError(f"{what} is not a count: {value!r}")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ConvosoResponseError(f"{what} is not a count: {snippet(repr(value), 40)}")


def records_in(value: Any, what: str) -> list[dict[str, Any]]:
    """Return the records an envelope member holds: a list, or an object's values.

    ``null``, ``[]`` and ``{}`` are no records.

    :param value: the member's value.
    :param what: its name, for the error.
    :return: the records, each a dict.
    :raises ConvosoResponseError: a value that is not a list or an object, or a record that is not an object.
    """
    if value is None or value in ({}, []):
        return []
    if isinstance(value, Mapping):
        value = list(value.values())
    elif not isinstance(value, list):
        raise ConvosoResponseError(f"{what} is a JSON {type(value).__name__}, not a list or an object")
    records = []
    for item in value:
        if type(item) is not dict and not isinstance(item, Mapping):
            raise ConvosoResponseError(f"a record in {what} is a JSON {type(item).__name__}, not an object")
        records.append(item if type(item) is dict else dict(item))
    return records


def reported_total(envelope: Mapping[str, Any]) -> int | None:
    """The row count an envelope's ``total`` reports (it may be a string), if it has one."""
    total = envelope.get("total")
    if isinstance(total, str) and total.strip().isdigit():
        return int(total.strip())
    if isinstance(total, int) and not isinstance(total, bool):
        return total
    return None


def parse_response(
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    params: Mapping[str, str] | None = None,
    *,
    normalize: bool = True,
) -> list[dict[str, Any]]:
    """Everything from the raw answer to typed records, or the typed error."""
    check_status(status_code, headers, content)
    return parse_body(content, params, normalize=normalize)


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
