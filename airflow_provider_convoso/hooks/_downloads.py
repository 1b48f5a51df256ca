"""Downloading files through bearer links: streamed, capped, retried, never shown.

A recording link carries its own credential (anyone holding it can play the call), so it
is sent exactly as given and appears in no message, log line or error this module builds:
failures are named by status code or error type only, and the client's own errors (whose
text can hold the URL) are not kept as causes. No ``auth_token`` is sent: a link needs
none, and the token is not the link host's to see.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from airflow_provider_convoso.exceptions import ConvosoTransientError
from airflow_provider_convoso.hooks._transport import (
    _CHUNK_BYTES,
    _check_async_proxies,
    _ssl_context,
    _user_agent,
    retry_policy,
)

if TYPE_CHECKING:
    import aiohttp

    from airflow_provider_convoso.settings import ClientSettings

#: How many redirects a link may take (a CDN hop or two is normal).
MAX_REDIRECTS = 5


@dataclasses.dataclass(frozen=True)
class Fetched:
    """What one download gave: its status and type, and the body's size and SHA-256 if kept.

    ``refused`` says why the body was not kept (the caller's ``accept`` refused the answer,
    or it passed the size cap); the sink then holds nothing usable.
    """

    status: int
    content_type: str
    size: int = 0
    sha256: str = ""
    refused: str | None = None


class Downloader:
    """An aiohttp session of its own for downloads, and one retried, capped fetch.

    :param settings: the connection's client settings (timeout, retries, TLS).
    :param log: where retries are logged (by status or error type, never the link).
    :param workers: connections at most.
    :param max_bytes: the largest body kept.
    """

    def __init__(
        self,
        settings: ClientSettings,
        log: logging.Logger | logging.LoggerAdapter[Any],
        workers: int,
        max_bytes: int,
    ) -> None:
        self._settings = settings
        self._log = log
        self._workers = workers
        self._max_bytes = max_bytes
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Downloader:
        import aiohttp

        _check_async_proxies()
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._workers, ssl=_ssl_context(self._settings.verify)),
            headers={"User-Agent": _user_agent(f"aiohttp/{aiohttp.__version__}"), "Accept": "audio/*, */*"},
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=True,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, link: str, sink: BinaryIO, accept: Callable[[int, str], str | None]) -> Fetched:
        """Download ``link`` into ``sink``, retried under the connection's policy.

        :param link: the bearer link.
        :param sink: a binary file, emptied before each attempt.
        :param accept: ``accept(status, content_type)`` returns why an answer is refused, or ``None``.
        :return: what the download gave.
        :raises ConvosoTransientError: still failing (timeouts, resets, 429, 5xx) after the retries.
        """
        from tenacity import Retrying

        waits: list[float] = []
        fetched = Fetched(0, "")
        for attempt in Retrying(**retry_policy(self._settings, self._log), sleep=waits.append):
            if waits:
                await asyncio.sleep(waits.pop())
            with attempt:
                sink.seek(0)
                sink.truncate()
                fetched = await self._once(link, sink, accept)
        return fetched

    async def _once(self, link: str, sink: BinaryIO, accept: Callable[[int, str], str | None]) -> Fetched:
        import aiohttp

        assert self._session is not None, "use the downloader as an async context manager"
        timeout = self._settings.timeout
        failure: ConvosoTransientError | None = None
        try:
            async with self._session.get(
                link,
                allow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                status, content_type = response.status, response.headers.get("Content-Type", "")
                if status in (408, 429) or status >= 500:
                    raise ConvosoTransientError(f"HTTP {status}", retry_after=_retry_after(response.headers))
                refused = accept(status, content_type)
                if refused is not None:
                    return Fetched(status, content_type, refused=refused)
                digest, size = hashlib.sha256(), 0
                async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
                    size += len(chunk)
                    if size > self._max_bytes:
                        return Fetched(status, content_type, refused=f"larger than max_file_bytes={self._max_bytes}")
                    digest.update(chunk)
                    sink.write(chunk)
                return Fetched(status, content_type, size, digest.hexdigest())
        except asyncio.TimeoutError:
            failure = ConvosoTransientError(f"the download took longer than timeout={timeout:g}s")
        except aiohttp.TooManyRedirects:
            return Fetched(0, "", refused=f"more than {MAX_REDIRECTS} redirects")
        except (aiohttp.InvalidURL, ValueError):
            return Fetched(0, "", refused="the link is not a usable URL")
        except aiohttp.ClientError as error:  # its text can hold the URL: the type alone
            failure = ConvosoTransientError(type(error).__name__)
        raise failure


def _retry_after(headers: Any) -> float | None:
    from airflow_provider_convoso.wire.envelope import parse_retry_after

    return parse_retry_after(headers.get("Retry-After"))
