"""What both clients share below the hook: body caps and inflating, deadlines, TLS,
the aiohttp session, proxy checks, and network failures as typed errors.

Pure transport: no endpoint, no Airflow connection. httpx, aiohttp and certifi are
imported where they are used (the DAG processor imports the hook with every DAG file).
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
import math
import os
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlencode

from airflow_provider_convoso import __version__
from airflow_provider_convoso.compat import AIRFLOW_VERSION
from airflow_provider_convoso.exceptions import (
    ConvosoAuthError,
    ConvosoError,
    ConvosoInputError,
    ConvosoResponseError,
    ConvosoTransientError,
)

if TYPE_CHECKING:
    import aiohttp
    import httpx
    from tenacity import RetryCallState

    from airflow_provider_convoso.settings import ClientSettings
    from airflow_provider_convoso.wire.query import Query


def _transport_error(error: Exception) -> ConvosoError:
    """A network-level failure of either client (httpx for tasks, aiohttp for triggers) as
    a typed error, without keeping the client's error (or the request it holds, token
    included) reachable from it.

    Timeouts, refused or reset connections and truncated bodies are transient; a TLS
    certificate that fails verification is not, and neither is a URL the client cannot use.
    """
    cause: BaseException | None = error
    while cause is not None:
        certificate_error = getattr(cause, "certificate_error", cause)  # aiohttp keeps it as an attribute
        if isinstance(certificate_error, ssl.SSLCertVerificationError):
            message = certificate_error.verify_message
            return ConvosoInputError(f"TLS certificate verification failed for the Convoso API: {message}")
        cause = cause.__cause__ or cause.__context__
    if _unusable_url(error):
        return ConvosoInputError(f"the Convoso API base URL is not usable: {error}")
    return ConvosoTransientError(f"{type(error).__name__}: {str(error) or 'no detail'}")


def _unusable_url(error: Exception) -> bool:
    import httpx

    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return True
    if type(error).__module__.startswith("aiohttp"):
        import aiohttp

        return isinstance(error, aiohttp.InvalidURL)
    return False


def _too_slow(settings: ClientSettings) -> ConvosoTransientError:
    return ConvosoTransientError(f"the attempt took longer than timeout={settings.timeout:g}s (connect, send and read)")


def _read_capped(chunks: Iterator[bytes], settings: ClientSettings, deadline: float) -> bytes:
    """The decoded body, failing once it passes ``max_response_bytes`` or the attempt's deadline.

    The chunks go into one growing buffer, not a list joined at the end: a large answer is
    held once, not twice, while it is read.
    """
    body = io.BytesIO()
    for chunk in chunks:
        if body.tell() + len(chunk) > settings.max_response_bytes:
            raise _too_large(settings)
        body.write(chunk)
        if time.monotonic() > deadline:
            raise _too_slow(settings)
    return body.getvalue()


async def _aread_capped(chunks: AsyncIterator[bytes], settings: ClientSettings, encoding: str) -> bytes:
    """The body decoded from its ``Content-Encoding``, failing once it passes ``max_response_bytes``.

    aiohttp is asked not to decompress: its own limits differ between releases (some stop at
    32 MiB), so gzip and deflate are inflated here, never more than the cap allows at once.
    """
    inflater = _inflater(encoding)
    cap = settings.max_response_bytes
    body = io.BytesIO()  # held once while read, as in _read_capped
    async for chunk in chunks:
        data = chunk
        while data:
            if inflater is None:
                part, data = data, b""
            else:
                part = inflater.decompress(data, cap - body.tell() + 1)
                data = inflater.unconsumed_tail
            if body.tell() + len(part) > cap:
                raise _too_large(settings)
            body.write(part)
    if inflater is not None:
        tail = inflater.flush()
        if body.tell() + len(tail) > cap:
            raise _too_large(settings)
        body.write(tail)
    return body.getvalue()


def _inflater(encoding: str) -> Any:
    """A zlib decompressor for a ``gzip`` or ``deflate`` body, ``None`` for an unencoded one."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # +32: a gzip or a zlib header, whichever comes
    raise ConvosoResponseError(f"the answer is encoded as {encoding[:40]!r}, which was not asked for")


def _too_large(settings: ClientSettings) -> ConvosoResponseError:
    return ConvosoResponseError(
        f"the answer is larger than max_response_bytes={settings.max_response_bytes} (decoded); "
        "narrow the request (split_by_day, filters) or raise the connection's max_response_bytes extra"
    )


@functools.cache
def _ssl_context(verify: bool) -> ssl.SSLContext:
    """One TLS context per process: building one loads the CA bundle (~20 ms of CPU), which
    would block a triggerer's event loop once per trigger if every client built its own."""
    import certifi

    context = ssl.create_default_context(cafile=certifi.where())
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _checked(status_code: int, headers: Mapping[str, str], content: bytes, endpoint: str) -> bytes:
    """The body of a normal answer; a status that is not one raises its typed error.

    A 403 names the endpoint: tokens carry a list of API sections, and a token without this
    one is refused here while it reads others.
    """
    from airflow_provider_convoso.wire.envelope import check_status

    if status_code == 403:
        raise ConvosoAuthError(
            f"the auth token may not read {endpoint.lstrip('/')} (HTTP 403 Forbidden): tick that API section "
            "in the token's Access column (Convoso: Admin > Authorization Tokens)",
            error_code=403,
        )
    check_status(status_code, headers, content)
    return content


def _client_options(settings: ClientSettings, user_agent: str) -> dict[str, Any]:
    """httpx client options: TLS, pool size, no redirects, proxies only inside TLS."""
    import httpx

    from airflow_provider_convoso.settings import MAX_CONCURRENCY

    return {
        "timeout": settings.timeout,
        "verify": _ssl_context(settings.verify),
        "headers": {"User-Agent": user_agent, "Accept": "application/json"},
        "follow_redirects": False,
        "limits": httpx.Limits(max_connections=MAX_CONCURRENCY, max_keepalive_connections=MAX_CONCURRENCY),
        # A proxy may see the token only inside a TLS tunnel; a loopback http:// base
        # (the emulator) ignores proxy variables altogether.
        "trust_env": not settings.base_url.startswith("http://"),
    }


def _new_client(client_type: Any, settings: ClientSettings, transport: Any, user_agent: str) -> Any:
    """An httpx client of ``client_type`` for the API, on ``transport`` when one is given."""
    options = _client_options(settings, user_agent)
    if transport is not None:
        options["transport"] = transport
    try:
        return client_type(**options)
    except ImportError as error:  # an optional package a proxy setting needs (SOCKS: socksio)
        raise _proxy_error(error) from None


def _request_body(settings: ClientSettings, query: Query) -> tuple[bytes, dict[str, str]]:
    """The encoded POST body and its content type, the same bytes for either client."""
    payload = {"auth_token": settings.token, **query.to_params()}
    if settings.request_format == "json":
        return json.dumps(payload).encode(), {"Content-Type": "application/json"}
    return urlencode(payload).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


#: Connections a shared session keeps open to the API at most (aiohttp's own default).
SESSION_CONNECTIONS = 100

#: Bytes asked of aiohttp per read (before inflating).
_CHUNK_BYTES = 64 * 1024


def _new_session(settings: ClientSettings, trust_env: bool, connector: Any) -> aiohttp.ClientSession:
    """An aiohttp session for the API: no cookies, bodies inflated by :func:`_aread_capped`."""
    import aiohttp

    if connector is None:
        # A pool of SESSION_CONNECTIONS: each caller bounds its own requests in flight (a
        # backfill's workers, at most MAX_CONCURRENCY; a trigger's single poll), and a loop's
        # triggers share the session. Thousands of triggers polling one account at once
        # queue for these kept-alive connections instead of opening one each, which costs
        # the loop more per poll the more there are.
        connector = aiohttp.TCPConnector(limit=SESSION_CONNECTIONS, ssl=_ssl_context(settings.verify))
    return aiohttp.ClientSession(
        connector=connector,
        headers={
            "User-Agent": _user_agent(f"aiohttp/{aiohttp.__version__}"),
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
        },
        auto_decompress=False,  # inflated by _aread_capped, under max_response_bytes
        timeout=aiohttp.ClientTimeout(total=None),  # each attempt sets its own
        cookie_jar=aiohttp.DummyCookieJar(),  # shared between connections: keep no server state
        trust_env=trust_env,
    )


def _user_agent(client: str) -> str:
    return f"airflow-provider-convoso/{__version__} apache-airflow/{AIRFLOW_VERSION} {client}"


def _check_async_proxies() -> None:
    """Refuse proxy settings aiohttp would ignore or misuse, instead of going around them.

    aiohttp reads ``HTTP(S)_PROXY`` and ``NO_PROXY`` for ``http://`` proxies only; it
    ignores ``ALL_PROXY`` and cannot speak SOCKS, which the sync path (httpx) can.
    """
    import urllib.request

    proxies = urllib.request.getproxies()
    https_proxy = proxies.get("https", "")
    if https_proxy and not https_proxy.startswith("http://"):
        raise ConvosoInputError(
            "HTTPS_PROXY names a proxy the trigger's client (aiohttp) cannot use: only http:// proxies are supported"
        )
    if proxies.get("all") and not https_proxy:
        raise ConvosoInputError(
            "ALL_PROXY is set, which the trigger's client (aiohttp) ignores: set HTTPS_PROXY to an http:// proxy"
        )


def _proxy_error(error: ImportError) -> ConvosoInputError:
    """A proxy setting that needs a package httpx lists as optional, named without its value."""
    names = [
        name for name in ("ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY") if name in os.environ or name.lower() in os.environ
    ]
    where = ", ".join(names) or "a proxy environment variable"
    return ConvosoInputError(
        f"{where} names a proxy that needs an optional package httpx does not have ({error.name or 'socksio'}): "
        "install httpx[socks] or unset it"
    )


def _raise_exhausted(state: RetryCallState) -> NoReturn:
    cause = state.outcome.exception() if state.outcome else None
    raise ConvosoTransientError(
        f"Convoso request still failing after {state.attempt_number} attempts: {cause}",
        retry_after=getattr(cause, "retry_after", None),
    ) from cause


def retry_policy(settings: ClientSettings, log: logging.Logger | logging.LoggerAdapter[Any]) -> dict[str, Any]:
    """The one retry policy, as tenacity arguments, of the sync and async paths: transient
    errors only, a server's ``Retry-After`` honoured up to ``retry_max_wait``, else jittered
    exponential waits; each retry logged, the last failure a ``ConvosoTransientError``."""
    from tenacity import retry_if_exception_type, stop_after_attempt, wait_random_exponential

    jitter = wait_random_exponential(multiplier=settings.retry_backoff, max=settings.retry_max_wait)

    def wait(state: RetryCallState) -> float:
        cause = state.outcome.exception() if state.outcome else None
        retry_after = getattr(cause, "retry_after", None)
        if retry_after is not None:
            return float(min(retry_after, settings.retry_max_wait))
        return float(jitter(state))

    def log_retry(state: RetryCallState) -> None:
        cause = state.outcome.exception() if state.outcome else None
        wait_s = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "Convoso request failed (%s); retry %d of %d in %.2fs",
            cause,
            state.attempt_number,
            settings.max_retries,
            wait_s,
        )

    return {
        "stop": stop_after_attempt(settings.max_retries + 1),
        "wait": wait,
        "retry": retry_if_exception_type(ConvosoTransientError),
        "before_sleep": log_retry,
        "retry_error_callback": _raise_exhausted,
    }


def _send_once(client: httpx.Client, settings: ClientSettings, query: Query, timeout: float) -> bytes:
    """One attempt, bounded by ``timeout``: connect and send by httpx's timeouts, the
    body by a deadline checked as it arrives (each read waits at most the time left)."""
    import httpx

    deadline = time.monotonic() + timeout
    failure: ConvosoError | None = None
    try:
        body, headers = _request_body(settings, query)
        request = client.build_request(
            "POST", settings.base_url + query.endpoint, content=body, headers=headers, timeout=timeout
        )
        response = client.send(request, stream=True)
        try:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _too_slow(settings)
            request.extensions["timeout"]["read"] = left  # read when the body's first read starts
            content = _read_capped(response.iter_bytes(), settings, deadline)
        finally:
            response.close()
    except (httpx.TransportError, httpx.InvalidURL, httpx.DecodingError) as error:
        failure = _transport_error(error)
    except ConvosoError as error:
        failure = error
    if failure is not None:
        raise failure  # raised outside the except block: no __context__ to the request
    return _checked(response.status_code, response.headers, content, query.endpoint)


async def _asend_once(session: aiohttp.ClientSession, settings: ClientSettings, query: Query, timeout: float) -> bytes:
    """One attempt, bounded as a whole by ``timeout`` (connect, send and the whole body)."""
    import aiohttp

    body, request_headers = _request_body(settings, query)
    failure: ConvosoError | None = None
    try:
        async with session.post(
            settings.base_url + query.endpoint,
            data=body,
            headers=request_headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout, ceil_threshold=math.inf),
        ) as response:
            encoding = response.headers.get("Content-Encoding", "")
            content = await _aread_capped(response.content.iter_chunked(_CHUNK_BYTES), settings, encoding)
            status, headers = response.status, response.headers
    except asyncio.TimeoutError:  # before ClientError: aiohttp's timeouts are both
        failure = _too_slow(settings)
    except (aiohttp.ClientError, ValueError) as error:  # yarl raises ValueError for a URL it cannot read
        failure = _transport_error(error)
    except ConvosoError as error:
        failure = error
    if failure is not None:
        raise failure
    return _checked(status, headers, content, query.endpoint)
