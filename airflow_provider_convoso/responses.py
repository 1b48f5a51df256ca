"""Reading agent-performance responses: status, envelope, shape and error mapping.

Pure: no Airflow, no httpx. The hook hands over the status code, headers and body bytes;
this module returns the records or raises the typed error the answer stands for.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import json
import math
import re
from collections.abc import Callable, Generator, Iterator, Mapping
from http import HTTPStatus
from typing import Any

from airflow_provider_convoso.exceptions import (
    AUTH_ERROR_CODES,
    FILTER_ERROR_CODES,
    ConvosoAPIError,
    ConvosoAuthError,
    ConvosoInvalidFilterError,
    ConvosoResponseError,
    ConvosoTransientError,
    ConvosoValidationError,
)
from airflow_provider_convoso.records import normalize_record

_SNIPPET = 120
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


def api_error(payload: Mapping[str, Any], params: Mapping[str, str] | None = None) -> ConvosoAPIError:
    """The typed error for a ``success: false`` answer, in either shape the API uses.

    ``params`` are the request parameters (never the token), so the message can name the
    value the API rejected.
    """
    params = params or {}
    code = _error_code(payload)
    text = snippet(_error_text(payload))
    lowered = text.lower()
    suffix = f" (error code {code})" if code is not None else ""
    if code in AUTH_ERROR_CODES or (code is None and ("auth" in lowered or "token" in lowered)):
        return ConvosoAuthError(f"Convoso rejected the auth token: {text}{suffix}", error_code=code, text=text)
    if isinstance(code, int) and code in FILTER_ERROR_CODES:
        parameter = FILTER_ERROR_CODES[code]
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


_TRUE = (True, 1, "true", "1")
_FALSE = (False, 0, "false", "0")


def _success(payload: Mapping[str, Any]) -> bool | None:
    """``success`` as a boolean: ``None`` when it is missing or neither true nor false."""
    value = payload.get("success")
    if isinstance(value, str):
        value = value.strip().lower()
    if isinstance(value, bool | int | str):
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    return None


def _is_failure(payload: Mapping[str, Any]) -> bool:
    """An envelope that reports an error: ``success`` false, or no ``success`` and a code other than 200."""
    if "success" in payload:
        return _success(payload) is False
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
        if _is_failure(payload):
            raise api_error(payload, params)
        if "success" in payload and _success(payload) is None:
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


def decode_json(content: bytes | str) -> Any:
    """Decode a 2xx body; anything that is not JSON is a :class:`ConvosoResponseError`."""
    try:
        return json.loads(content)
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

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SPACE = " \t\n\r"
_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # C scanner: (text, index) -> (value, end)


class _NotStreamable(Exception):
    """The body is not laid out as the API lays it out; decode it whole instead."""


def _skip(text: str, index: int) -> int:
    """The index of the next non-whitespace character (or the end)."""
    if text[index : index + 1] in _SPACE:  # also true at the end ("" in anything)
        return _WHITESPACE.match(text, index).end()  # type: ignore[union-attr]
    return index


def _value(text: str, index: int) -> tuple[Any, int]:
    """The JSON value at ``index`` and the index of what follows it (whitespace skipped)."""
    try:
        value, end = _scan(text, index)
    except StopIteration:
        raise ValueError(f"no JSON value at {index}") from None
    return value, _skip(text, end)


def _after(text: str, index: int, char: str) -> int:
    """The index past ``char`` (which must be at ``index``) and any whitespace."""
    if not text.startswith(char, index):
        raise ValueError(f"expected {char!r} at {index}")
    return _skip(text, index + 1)


def _key(text: str, index: int) -> tuple[str, int]:
    """An object member's key and the index of its value."""
    if not text.startswith('"', index):
        raise ValueError(f"expected a key at {index}")
    key, index = _value(text, index)
    return key, _after(text, index, ":")


Typer = Callable[[dict[str, Any]], dict[str, Any]]


def _items(text: str, index: int, typed: Typer) -> Generator[dict[str, Any], None, int]:
    """Each record of the ``data`` array, or each ``user_id: {...}`` entry of the ``data``
    object, at ``index``; returns the index after it.

    The hot loop of a large answer, so the small helpers above are written out inline.
    """
    keyed = text.startswith("{", index)
    close = "}" if keyed else "]"
    index = _skip(text, index + 1)
    if text.startswith(close, index):
        return _skip(text, index + 1)
    scan, space, skip = _scan, _SPACE, _WHITESPACE.match
    key = None
    try:
        while True:
            if keyed:
                if text[index] != '"':
                    raise ValueError(f"expected a key at {index}")
                key, index = scan(text, index)
                if text[index] in space:
                    index = skip(text, index).end()  # type: ignore[union-attr]
                if text[index] != ":":
                    raise ValueError(f"expected ':' at {index}")
                index += 1
                if text[index] in space:
                    index = skip(text, index).end()  # type: ignore[union-attr]
            item, index = scan(text, index)
            if type(item) is not dict:
                raise _not_a_record(item, key)
            if keyed and "user_id" not in item:
                item["user_id"] = key
            yield typed(item)
            if text[index] in space:
                index = skip(text, index).end()  # type: ignore[union-attr]
            if text[index] == close:
                return _skip(text, index + 1)
            if text[index] != ",":
                raise ValueError(f"expected ',' at {index}")
            index += 1
            if text[index] in space:
                index = skip(text, index).end()  # type: ignore[union-attr]
    except (StopIteration, IndexError):  # no value where one must be, or the text ended
        raise ValueError(f"malformed data near {index}") from None


def _stream(text: str, typed: Typer, envelope: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
    """Records of a body laid out as the API lays it out, decoded one agent at a time.

    That is a bare array, or an envelope whose ``success`` comes before a ``data`` array or
    object (so a failure is known before any record is handed on). Anything else raises
    :class:`_NotStreamable` before the first record.
    """
    index = _skip(text, 0)
    if text.startswith("[", index):
        index = yield from _items(text, index, typed)
    elif text.startswith("{", index):
        index = _skip(text, index + 1)
        members: dict[str, Any] = {}
        while True:
            if text.startswith("}", index):
                raise _NotStreamable  # no 'data' member: a small body, judged whole
            key, index = _key(text, index)
            if key == "data":
                break
            members[key], index = _value(text, index)
            if not text.startswith("}", index):
                index = _after(text, index, ",")
        if _success(members) is not True:
            raise _NotStreamable  # a failure, an odd 'success' or none: judged whole
        envelope.update(members)
        if not text.startswith(("[", "{"), index):
            raise _NotStreamable
        index = yield from _items(text, index, typed)
        while text.startswith(",", index):  # the members after 'data'
            key, index = _key(text, _skip(text, index + 1))
            if key == "data":
                raise ValueError("a second 'data' member")
            envelope[key], index = _value(text, index)
        index = _after(text, index, "}")
    else:
        raise _NotStreamable
    if index != len(text):
        raise ValueError(f"extra data at {index}")


def _untyped(record: dict[str, Any]) -> dict[str, Any]:
    return record


_typed: Typer = functools.partial(normalize_record, in_place=True)


def body_text(content: bytes) -> str | bytes:
    """A UTF-8 body as text (what :func:`iter_records` reads), any other body unchanged.

    A caller that keeps a large answer for later keeps one copy this way, not the bytes
    and, while reading, their text too.
    """
    if json.detect_encoding(content) != "utf-8":
        return content
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content


def iter_records(
    content: bytes | str,
    params: Mapping[str, str] | None = None,
    *,
    normalize: bool = True,
    envelope: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """The records of a 2xx body, decoded and typed one agent at a time.

    For large answers: peak memory is the body's text plus one record, instead of every
    record as Python objects (about 6x the body). The records, their order and the errors
    are those of :func:`parse_body`, except that a keyed object repeating a user id yields
    every entry. A malformed body can fail after some records were yielded, so a consumer
    commits its output only once this is exhausted. ``content`` may be the bytes or what
    :func:`body_text` made of them. ``envelope``, when given, receives the answer's members
    other than ``data`` (complete once the records are exhausted).
    """
    if envelope is None:
        envelope = {}
    text = body_text(content) if isinstance(content, bytes) else content
    del content  # the text is all that is needed; the caller may drop the bytes
    if isinstance(text, bytes):  # not UTF-8: the whole-body path detects UTF-16/32 or fails
        yield from parse_body(text, params, normalize=normalize, envelope=envelope)
        return
    try:
        yield from _stream(text, _typed if normalize else _untyped, envelope)
    except _NotStreamable:  # raised before any record: decode the (small or odd) body whole
        envelope.clear()
        yield from parse_body(text, params, normalize=normalize, envelope=envelope)
    except (ValueError, RecursionError):  # JSONDecodeError included
        raise ConvosoResponseError(f"expected a JSON body, got: {snippet(text) or '(empty body)'}") from None
