"""The answer every endpoint shares: HTTP status, JSON decoding, the ``success``/``data`` envelope and its typed errors.

Pure: no Airflow, no httpx. The hook hands over the status code, headers and body bytes;
this module raises the typed error an answer stands for, or returns what it holds. An
endpoint passes its own filter error codes (``filter_codes``) so an error names the
parameter the service rejected.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
from collections.abc import Mapping
from http import HTTPStatus
from types import MappingProxyType
from typing import Any

import msgspec

from airflow_provider_convoso.exceptions import (
    ConvosoAPIError,
    ConvosoAuthError,
    ConvosoInvalidFilterError,
    ConvosoOffsetError,
    ConvosoResponseError,
    ConvosoTransientError,
    ConvosoValidationError,
)

AUTH_ERROR_CODES = frozenset({5001})


#: "Invalid offset value": an offset past the endpoint's cap.
OFFSET_ERROR_CODE = 7231

_SNIPPET = 120
#: An endpoint that names no filter error codes.
_NO_FILTERS: Mapping[int, str] = MappingProxyType({})


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
    filter_codes: Mapping[int, str] = _NO_FILTERS,
) -> ConvosoAPIError:
    """The typed error for a ``success: false`` answer, in either shape the API uses.

    ``params`` are the request parameters (never the token), so the message can name the
    value the API rejected; ``filter_codes`` maps the endpoint's filter error codes to the
    parameter each rejects (none by default). Code 7231 is
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
    payload: Any, params: Mapping[str, str] | None = None, filter_codes: Mapping[int, str] = _NO_FILTERS
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
