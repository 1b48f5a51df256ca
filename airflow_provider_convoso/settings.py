"""Client settings resolved from an Airflow connection's fields.

No httpx and no Airflow API: the hook reads the connection; this module turns its host,
port, password and extras (plus hook keyword overrides) into checked settings.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_convoso.connection_form import DEFAULT_MAX_RESPONSE_BYTES, REQUEST_FORMATS
from airflow_provider_convoso.exceptions import ConvosoInputError

DEFAULT_BASE_URL = "https://api.convoso.com/v1"

#: The most requests one hook runs at once; the connection pool holds as many, so no
#: request ever waits on the pool (a pool timeout would spend a retry meant for the server).
MAX_CONCURRENCY = 32

#: Larger answers are counted (or spooled) in a worker thread, so an event loop is not held.
LOOP_INLINE_BYTES = 256 * 1024


def clamp_concurrency(requested: int, log: logging.Logger | logging.LoggerAdapter[Any]) -> int:
    """Return ``requested`` capped at :data:`MAX_CONCURRENCY`, logging a WARNING when it was over.

    :param requested: the requests in flight a task asked for.
    :param log: where the warning goes.
    :return: the requests in flight it gets.
    """
    if requested > MAX_CONCURRENCY:
        log.warning("max_concurrency=%d is over %d: using %d", requested, MAX_CONCURRENCY, MAX_CONCURRENCY)
        return MAX_CONCURRENCY
    return requested


RequestFormat = Literal["form", "json"]


@dataclass(frozen=True)
class ClientSettings:
    """What the hook needs to call the API. The token is kept out of ``repr``."""

    base_url: str = DEFAULT_BASE_URL
    token: str = field(default="", repr=False)
    timeout: float = 30.0
    max_retries: int = 5
    retry_backoff: float = 1.0
    retry_max_wait: float = 60.0
    request_format: RequestFormat = "form"
    verify: bool = True
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    timezone: str = "UTC"


def check_timezone(name: Any) -> str:
    """Validate an IANA time-zone name.

    :param name: e.g. ``"America/Los_Angeles"``.
    :return: the name, stripped.
    :raises ConvosoInputError: a name the time-zone database does not know.
    """
    import zoneinfo

    text = str(name).strip()
    try:
        if not text or text.startswith(("/", ".")):
            raise ValueError(text)
        zoneinfo.ZoneInfo(text)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise ConvosoInputError(
            f"timezone must be an IANA time-zone name such as America/Los_Angeles, got {name!r}"
        ) from None
    return text


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and every loopback address (127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_base_url(host: str | None, port: int | None = None) -> str:
    """``https://api.convoso.com/v1`` from any of the forms users type.

    The scheme may be left out (https is assumed); the port may sit in the URL or come
    from the port field; ``/v1`` is added when missing. Plain ``http://`` is refused
    unless the host is loopback (the emulator).
    """
    text = (host or "").strip()
    if not text:
        text = DEFAULT_BASE_URL
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ConvosoInputError(f"host must be an http(s) URL, got scheme {scheme!r} in {host!r}")
    if parts.username or parts.password:
        raise ConvosoInputError("host must not carry credentials; put the auth token in the password field")
    if parts.query or parts.fragment:
        raise ConvosoInputError(f"host must not have a query or fragment, got {host!r}")
    hostname = parts.hostname
    if not hostname:
        raise ConvosoInputError(f"host has no host name: {host!r}")
    try:
        url_port = parts.port
    except ValueError:
        raise ConvosoInputError(f"host has an invalid port: {host!r}") from None
    if port is not None and url_port is not None and int(port) != url_port:
        raise ConvosoInputError(f"port field {port} disagrees with the port in host {host!r}")
    final_port = url_port if url_port is not None else port
    if scheme == "http" and not is_loopback(hostname):
        raise ConvosoInputError(
            f"refusing plain http:// to {hostname!r}: the auth token would travel unencrypted; "
            "use https:// (http is allowed only for loopback hosts such as the emulator)"
        )
    netloc = f"[{hostname}]" if ":" in hostname else hostname
    if final_port is not None:
        netloc = f"{netloc}:{int(final_port)}"
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit((scheme, netloc, path, "", ""))


def _number(name: str, value: Any, *, minimum: float, integer: bool = False) -> Any:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value) if integer and not isinstance(value, float) else float(value)
        if integer and isinstance(value, float):
            raise ValueError
    except (TypeError, ValueError):
        kind = "an integer" if integer else "a number"
        raise ConvosoInputError(f"{name} must be {kind}, got {value!r}") from None
    if not math.isfinite(number) or number < minimum:
        raise ConvosoInputError(f"{name} must be at least {minimum}, got {value!r}")
    return number


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
        return value.strip().lower() in ("true", "1", "yes", "on")
    raise ConvosoInputError(f"{name} must be true or false, got {value!r}")


def resolve_settings(
    *,
    host: str | None,
    port: int | None,
    password: str | None,
    extra: Mapping[str, Any],
    overrides: Mapping[str, Any],
) -> ClientSettings:
    """Settings from connection fields; a non-``None`` override beats the extra of the same name."""
    merged = {key: value for key, value in extra.items() if value not in (None, "")}
    merged.update({key: value for key, value in overrides.items() if value is not None})
    if not password:
        raise ConvosoInputError("the Convoso connection has no auth token: set it as the connection's password")
    request_format = str(merged.get("request_format", "form")).strip().lower()
    if request_format not in REQUEST_FORMATS:
        raise ConvosoInputError(f"request_format must be 'form' or 'json', got {merged.get('request_format')!r}")
    return ClientSettings(
        base_url=normalize_base_url(host, port),
        token=password,
        timeout=_number("timeout", merged.get("timeout", 30), minimum=0.001),
        max_retries=_number("max_retries", merged.get("max_retries", 5), minimum=0, integer=True),
        retry_backoff=_number("retry_backoff", merged.get("retry_backoff", 1), minimum=0),
        retry_max_wait=_number("retry_max_wait", merged.get("retry_max_wait", 60), minimum=0),
        request_format="json" if request_format == "json" else "form",
        verify=_boolean("verify", merged.get("verify", True)),
        max_response_bytes=_number(
            "max_response_bytes", merged.get("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES), minimum=1, integer=True
        ),
        timezone=check_timezone(merged.get("timezone", "UTC")),
    )
