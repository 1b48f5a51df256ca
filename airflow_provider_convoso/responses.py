"""Reading agent-performance responses: status, envelope, shape and error mapping.

Pure: no Airflow, no httpx. The hook hands over the status code, headers and body bytes;
this module returns the records or raises the typed error the answer stands for.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
from collections.abc import Mapping
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


def _is_failure(payload: Mapping[str, Any]) -> bool:
    success = payload.get("success", True)
    return success is False or (isinstance(success, str) and success.strip().lower() == "false") or success == 0


def _own(item: Mapping[str, Any], owned: bool) -> dict[str, Any]:
    return item if owned and type(item) is dict else dict(item)


def _records_from_keyed(data: Mapping[str, Any], owned: bool) -> list[dict[str, Any]]:
    records = []
    for key, inner in data.items():
        if not isinstance(inner, Mapping):
            raise ConvosoResponseError(f"keyed data entry {snippet(str(key), 40)!r} is not an object")
        record = _own(inner, owned)
        record.setdefault("user_id", key)
        records.append(record)
    return records


def records_from_payload(
    payload: Any, params: Mapping[str, str] | None = None, *, owned: bool = False
) -> list[dict[str, Any]]:
    """The raw agent objects in any successful shape, or the error a failure stands for.

    Shapes: a bare list; ``{"data": [...]}``; ``{"data": {user_id: {...}}}`` (``user_id``
    filled in from the key); and empty, ``{}`` or ``null`` data. With ``owned`` (a payload
    this module decoded itself) the objects are reused instead of copied.
    """
    if payload is None:
        return []
    if isinstance(payload, list):
        data: Any = payload
    elif isinstance(payload, Mapping):
        if _is_failure(payload):
            raise api_error(payload, params)
        data = payload.get("data")
        if data is None and "data" not in payload and not payload.keys() <= {"success", "code", "total"}:
            raise ConvosoResponseError(f"response object has no 'data': {snippet(json.dumps(payload)[:400])}")
    else:
        raise ConvosoResponseError(f"response is a JSON {type(payload).__name__}, not an object or a list")
    if data is None or data in ({}, []):
        return []
    if isinstance(data, Mapping):
        return _records_from_keyed(data, owned)
    if not isinstance(data, list):
        raise ConvosoResponseError(f"'data' is a JSON {type(data).__name__}, not a list or an object")
    for item in data:
        if not isinstance(item, Mapping):
            raise ConvosoResponseError(f"a record is a JSON {type(item).__name__}, not an object")
    return [_own(item, owned) for item in data]


def parse_payload(
    payload: Any, params: Mapping[str, str] | None = None, *, normalize: bool = True, owned: bool = False
) -> list[dict[str, Any]]:
    """Records from a decoded JSON payload, typed unless ``normalize`` is false.

    ``owned`` lets it type the payload's own objects in place (no copy of a large answer).
    """
    records = records_from_payload(payload, params, owned=owned)
    return [normalize_record(record, in_place=True) for record in records] if normalize else records


def decode_json(content: bytes) -> Any:
    """Decode a 2xx body; anything that is not JSON is a :class:`ConvosoResponseError`."""
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        raise ConvosoResponseError(f"expected a JSON body, got: {snippet(content) or '(empty body)'}") from None


def check_status(status_code: int, headers: Mapping[str, str], content: bytes) -> None:
    """Raise for an HTTP status that is not a normal answer.

    429, 408 and every 5xx are transient (HTML pages from proxies included); 401/403 are
    auth errors; any other 4xx is a permanent API error.
    """
    if status_code < 400:
        return
    label = f"HTTP {status_code} {_reason(status_code)}"
    if status_code in (408, 429) or status_code >= 500:
        retry_after = parse_retry_after(headers.get("retry-after"))
        raise ConvosoTransientError(f"{label}: {snippet(content, 80)}", retry_after=retry_after)
    detail = snippet(content, 80)
    if status_code in (401, 403):
        raise ConvosoAuthError(f"Convoso refused the auth token ({label}): {detail}", error_code=status_code)
    hint = " (check the connection's API base URL)" if status_code == 404 else ""
    raise ConvosoAPIError(f"{label}{hint}: {detail}", error_code=status_code)


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
    return parse_payload(decode_json(content), params, normalize=normalize, owned=True)
