"""ConvosoHook: auth from an Airflow connection, both HTTP clients, limits and one retry policy."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_convoso.compat import (
    AIRFLOW_V_3_0_PLUS,
    BaseHook,
    amask_secret,
    mask_secret,
)
from airflow_provider_convoso.endpoints.agent_performance.query import AgentPerformanceQuery
from airflow_provider_convoso.exceptions import (
    ConvosoAuthError,
    ConvosoError,
    ConvosoPermanentError,
    ConvosoTransientError,
    redact,
)
from airflow_provider_convoso.hooks._transport import (
    _asend_once,
    _check_async_proxies,
    _new_client,
    _new_session,
    _send_once,
    _user_agent,
    retry_policy,
)
from airflow_provider_convoso.settings import LOOP_INLINE_BYTES, clamp_concurrency
from airflow_provider_convoso.wire.query import Query

# httpx, aiohttp, tenacity and the parsing modules are imported where they are used: the
# DAG processor imports this module with every DAG file that uses the operator or the sensor.
if TYPE_CHECKING:
    import aiohttp
    import httpx

    from airflow_provider_convoso.endpoints.call_logs.query import CallLogsQuery
    from airflow_provider_convoso.endpoints.call_logs.reader import CallLogStats
    from airflow_provider_convoso.endpoints.leads.query import LeadsQuery
    from airflow_provider_convoso.endpoints.leads.reader import LeadStats
    from airflow_provider_convoso.endpoints.recordings import Recording
    from airflow_provider_convoso.settings import ClientSettings
    from airflow_provider_convoso.spool import BodySpool


def _hinted(error: BaseException) -> bool:
    return bool(error.args) and str(error.args[0]).endswith(_JSON_HINT)


_JSON_HINT = (
    " The connection sends JSON bodies (request_format=json); the service is PHP and reads form bodies "
    "and query strings, so it may never see the token: set the connection's extra request_format to form."
)


class ConvosoHook(BaseHook):
    """Call Convoso's API (agent performance, call logs, agent productivity, lookups) with
    the token from an Airflow connection.

    The connection's password is the auth token, its host the API base URL (default
    ``https://api.convoso.com``). Extras ``timeout``, ``max_retries``, ``retry_backoff``,
    ``retry_max_wait``, ``request_format``, ``verify`` and ``max_response_bytes`` tune the
    client; a keyword argument of the same name overrides each. Nothing is read or opened
    until first use.

    :param convoso_conn_id: the Airflow connection to read.
    :param transport: an ``httpx.BaseTransport`` for the sync client (tests, proxies, mocks).
    :param async_connector: an ``aiohttp.BaseConnector`` for the async client (a Unix socket,
        a custom resolver); the session closes it.
    """

    conn_name_attr = "convoso_conn_id"
    default_conn_name = "convoso_default"
    conn_type = "convoso"
    hook_name = "Convoso"

    def __init__(
        self,
        convoso_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        retry_backoff: float | None = None,
        retry_max_wait: float | None = None,
        request_format: str | None = None,
        verify: bool | None = None,
        max_response_bytes: int | None = None,
        transport: Any = None,
        async_connector: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.convoso_conn_id = convoso_conn_id
        self._overrides: dict[str, Any] = {
            "timeout": timeout,
            "max_retries": max_retries,
            "retry_backoff": retry_backoff,
            "retry_max_wait": retry_max_wait,
            "request_format": request_format,
            "verify": verify,
            "max_response_bytes": max_response_bytes,
        }
        self._transport = transport
        self._async_connector = async_connector
        self._settings: ClientSettings | None = None
        self._client: httpx.Client | None = None
        self._async_client: aiohttp.ClientSession | None = None
        self._session_key: tuple[str, bool, bool] | None = None
        # Held by ``async with hook`` or an explicit aget_conn(): the client then outlives
        # each call until aclose(). Otherwise the last call in flight closes what it opened.
        self._pinned = False
        self._calls_in_flight = 0
        # The sync twin: held by ``with hook`` or get_conn(), else closed by the last call.
        self._sync_pinned = False
        self._sync_calls = 0
        self._sync_calls_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(convoso_conn_id={self.convoso_conn_id!r})"

    # -- connection form ---------------------------------------------------------------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Hide unused fields and relabel the two that matter.

        :return: Airflow 2.11's field-behaviour mapping.
        """
        from airflow_provider_convoso.connection_form import UI_FIELD_BEHAVIOUR

        return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Build the extras' form fields for Airflow 2.11's Flask UI (imported only when it asks).

        :return: field name to WTForms field.
        """
        from airflow_provider_convoso.connection_form import EXTRA_FIELDS, flask_widgets

        return flask_widgets(EXTRA_FIELDS)

    # -- settings and clients ----------------------------------------------------------

    def _resolve(self, conn: Any) -> ClientSettings:
        from airflow_provider_convoso.settings import resolve_settings

        settings = resolve_settings(
            host=conn.host,
            port=conn.port,
            password=conn.password,
            extra=conn.extra_dejson,
            overrides=self._overrides,
        )
        if not settings.verify:
            self.log.warning(
                "TLS verification is OFF for connection %r (extra verify=false): use this only for tests",
                self.convoso_conn_id,
            )
        return settings

    @property
    def settings(self) -> ClientSettings:
        """Return the settings from the connection, read once on first use."""
        if self._settings is None:
            conn = self.get_connection(self.convoso_conn_id)
            if conn.password and not AIRFLOW_V_3_0_PLUS:
                mask_secret(conn.password)  # Airflow 3 masks a connection's secrets when it fetches one
            self._settings = self._resolve(conn)
        return self._settings

    async def _asettings(self) -> ClientSettings:
        if self._settings is None:
            from airflow_provider_convoso.hooks._sessions import shared_lookup

            conn = await shared_lookup(self.convoso_conn_id)
            if conn.password and not AIRFLOW_V_3_0_PLUS:
                await amask_secret(conn.password)
            self._settings = self._resolve(conn)
        return self._settings

    @property
    def user_agent(self) -> str:
        """Return the User-Agent sent with every request of the sync client (httpx)."""
        import httpx

        return _user_agent(f"httpx/{httpx.__version__}")

    def get_conn(self) -> httpx.Client:
        """Return the pooled, thread-safe sync client, opened on first use, and keep it.

        A client asked for here stays open until :meth:`close` (or the end of a ``with
        hook:`` block); one that a call such as :meth:`get_agent_performance` opened on its
        own is closed when the last call in flight ends.

        :return: the ``httpx.Client`` this hook sends with.
        """
        self._sync_pinned = True
        return self._sync_client()

    def __enter__(self) -> ConvosoHook:
        """Keep one sync client for every call in the block.

        :return: this hook.
        """
        self._sync_pinned = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _sync_client(self) -> httpx.Client:
        """The sync client, opened on first use; not kept past the calls using it unless pinned."""
        import httpx

        if self._client is None:
            self._client = _new_client(httpx.Client, self.settings, self._transport, self.user_agent)
        return self._client

    @contextlib.contextmanager
    def _call(self) -> Iterator[None]:
        """Scope one public sync call: the last call in flight on an unpinned hook closes the client."""
        with self._sync_calls_lock:
            self._sync_calls += 1
        try:
            yield
        finally:
            with self._sync_calls_lock:
                self._sync_calls -= 1
                last = self._sync_calls == 0 and not self._sync_pinned
            if last:
                self.close()

    @property
    def client(self) -> httpx.Client:
        """Return the pooled sync client (same as :meth:`get_conn`)."""
        return self.get_conn()

    async def aget_conn(self) -> aiohttp.ClientSession:
        """Return the async client, opened on first use in the running event loop, and keep it.

        Triggers poll with aiohttp: a poll costs a fraction of httpx's event-loop CPU (the
        performance page has the figures), which is what a triggerer running hundreds of
        them spends. Hooks in one loop that call the same API share one session (no
        cookies, the token in each request's body); a hook given ``async_connector`` has
        its own. Limits, deadline, size cap, retries and error mapping are the sync path's.

        A client asked for here stays open until :meth:`aclose` (or the end of an
        ``async with hook:`` block); one that a call such as :meth:`aget_agent_performance`
        opened on its own is closed when the last call in flight ends, so
        ``asyncio.run(hook.aget_agent_performance(...))`` leaves nothing open.

        :return: the ``aiohttp.ClientSession`` this hook sends with.
        """
        self._pinned = True
        return await self._aclient()

    async def __aenter__(self) -> ConvosoHook:
        """Keep one async client for every call in the block (a trigger's polls, a backfill).

        :return: this hook.
        """
        self._pinned = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _aclient(self) -> aiohttp.ClientSession:
        """The async client, opened on first use; not kept past the calls using it unless pinned."""
        if self._async_client is None:
            settings = await self._asettings()
            # Concurrent first calls (a backfill's workers) all wait on the lookup above:
            # the first to resume opens or acquires the client, the others use it.
            if self._async_client is None:
                self._async_client, self._session_key = self._open_async_client(settings)
        return self._async_client

    @contextlib.asynccontextmanager
    async def _acall(self) -> AsyncIterator[None]:
        """Scope one public async call: the last call in flight on an unpinned hook closes
        the client, cancelled or failed calls included."""
        self._calls_in_flight += 1
        try:
            yield
        finally:
            self._calls_in_flight -= 1
            if self._calls_in_flight == 0 and not self._pinned:
                await self.aclose()

    def _open_async_client(
        self, settings: ClientSettings
    ) -> tuple[aiohttp.ClientSession, tuple[str, bool, bool] | None]:
        """This hook's own session with ``async_connector`` (no key), else the loop's shared
        one for this API and the key to release it with."""
        trust_env = not settings.base_url.startswith("http://")
        if trust_env:
            _check_async_proxies()
        if self._async_connector is not None:
            return _new_session(settings, trust_env, self._async_connector), None
        from airflow_provider_convoso.hooks import _sessions

        key = (settings.base_url, settings.verify, trust_env)
        return _sessions.acquire(key, lambda: _new_session(settings, trust_env, None)), key

    def close(self) -> None:
        """Close the pooled sync client, if one was opened."""
        self._sync_pinned = False
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        """Close the async client, if one was opened (a shared one closes with its last user)."""
        client, key = self._async_client, self._session_key
        self._async_client = self._session_key = None
        self._pinned = False
        if client is None:
            return
        if key is None:
            await client.close()
        else:
            from airflow_provider_convoso.hooks import _sessions

            await _sessions.release(key, client)

    # -- requests ----------------------------------------------------------------------

    @contextlib.contextmanager
    def explained(self) -> Iterator[None]:
        """Make every Convoso error raised inside safe to show and actionable.

        The token (and its URL- and JSON-escaped forms) is replaced with ``***`` in any
        message built from a server's answer, and an auth error on a JSON-format connection
        says that the service may not read JSON bodies.

        :return: a context manager.
        """
        try:
            yield
        except ConvosoError as error:
            settings = self._settings
            if settings is not None:
                redact(error, settings.token)
                # Idempotent: an error explained by an inner call passes through an outer one.
                if isinstance(error, ConvosoAuthError) and settings.request_format == "json" and not _hinted(error):
                    error.args = (f"{error.args[0] if error.args else error}{_JSON_HINT}", *error.args[1:])
            raise

    def _send(self, settings: ClientSettings, query: Query, timeout: float) -> bytes:
        """One attempt of the sync client, bounded by ``timeout``; its errors explained."""
        client = self._sync_client()
        with self.explained():
            return _send_once(client, settings, query, timeout)

    async def _asend(self, settings: ClientSettings, query: Query, timeout: float) -> bytes:
        """One attempt of the async client, bounded as a whole by ``timeout``; its errors explained."""
        session = await self._aclient()
        with self.explained():
            return await _asend_once(session, settings, query, timeout)

    def fetch_content(self, query: Query) -> bytes:
        """Return the body of one answered call, retried.

        For large answers: :func:`airflow_provider_convoso.endpoints.agent_performance.reading.iter_records` reads it
        one record at a time. An answer that is an error raises its typed error here.

        :param query: what to ask for (any endpoint's query).
        :return: the body's bytes, decoded from gzip if it was sent so.
        """
        with self._call():
            settings = self.settings
            try:
                return self._send(settings, query, settings.timeout)
            except ConvosoTransientError as error:
                failed = [error]
            body = b""
            for attempt in self._retries(settings, failed):
                with attempt:
                    body = self._send(settings, query, settings.timeout)
            return body

    async def afetch_content(self, query: Query) -> bytes:
        """Return the body of one answered call, retried: the async twin of :meth:`fetch_content`.

        :param query: what to ask for.
        :return: the body's bytes.
        """
        async with self._acall():
            settings = await self._asettings()
            try:
                return await self._asend(settings, query, settings.timeout)
            except ConvosoTransientError as error:
                failed = [error]
            # The same policy as the sync path, driven from the loop: tenacity decides, the
            # loop waits (tenacity's AsyncRetrying re-wraps every callback on every attempt).
            waits: list[float] = []
            body = b""
            for attempt in self._retries(settings, failed, sleep=waits.append):
                if waits:
                    await asyncio.sleep(waits.pop())
                with attempt:
                    body = await self._asend(settings, query, settings.timeout)
            return body

    def _retries(self, settings: ClientSettings, failed: list[ConvosoTransientError], **options: Any) -> Iterator[Any]:
        """tenacity's attempts after a first one that failed with ``failed[0]``.

        The first attempt runs without tenacity (most calls succeed at once, and tenacity's
        bookkeeping costs a poll more than its own work); tenacity is handed its failure as
        attempt 1, so waits, stops, logs and the final error are the policy's throughout.
        """
        from tenacity import Retrying

        for attempt in Retrying(**retry_policy(settings, self.log), **options):
            if failed:
                with attempt:
                    raise failed.pop()
                continue
            yield attempt

    def fetch(self, query: Query, *, normalize: bool = True) -> list[dict[str, Any]]:
        """Return the records of one call.

        :param query: what to ask for.
        :param normalize: type the records (``False``: exactly as sent).
        :return: the records.
        """
        from airflow_provider_convoso.endpoints.agent_performance.reading import read_records

        content = self.fetch_content(query)
        with self.explained():
            return read_records(content, query.to_params(), normalize)

    async def afetch(self, query: Query, *, normalize: bool = True) -> list[dict[str, Any]]:
        """Return the records of one call: the async twin of :meth:`fetch`."""
        from airflow_provider_convoso.endpoints.agent_performance.reading import read_records

        content = await self.afetch_content(query)
        with self.explained():
            return read_records(content, query.to_params(), normalize)

    def count(self, query: Query) -> int:
        """Count the rows of one call, decoded one at a time and not typed.

        :param query: what to ask for.
        :return: the number of rows.
        """
        from airflow_provider_convoso.endpoints.agent_performance.reading import count_rows

        content = self.fetch_content(query)
        with self.explained():
            return count_rows(content, query.to_params())

    async def acount(self, query: Query) -> int:
        """Count the rows of one call: the async twin of :meth:`count`; a large answer is
        counted in a worker thread.

        :param query: what to ask for.
        :return: the number of rows.
        """
        from airflow_provider_convoso.endpoints.agent_performance.reading import count_rows

        content = await self.afetch_content(query)
        with self.explained():
            if len(content) <= LOOP_INLINE_BYTES:
                return count_rows(content, query.to_params())
            return await asyncio.to_thread(count_rows, content, query.to_params())

    def fetch_payload(self, query: Query) -> Any:
        """Return the decoded JSON of one answered call, retried (any endpoint).

        :param query: what to ask for.
        :return: the decoded answer; a body that is not JSON raises ``ConvosoResponseError``.
        """
        from airflow_provider_convoso.wire.envelope import decode_json

        content = self.fetch_content(query)
        with self.explained():
            return decode_json(content)

    def get_lookup(self, table: str, **options: Any) -> list[dict[str, Any]]:
        """Return a whole lookup table: ``users``, ``campaigns``, ``lists`` or ``statuses``.

        :param table: the table.
        :param options: ``user`` (search terms) for users, ``query`` for statuses.
        :return: the records, every id a string (see :mod:`airflow_provider_convoso.endpoints.lookups`).
        """
        from airflow_provider_convoso.endpoints.lookups import load

        with self._call(), self.explained():  # one client for every page
            return load(table, self.fetch_payload, **options)

    def iter_call_logs(
        self,
        start_time: str,
        end_time: str,
        *,
        max_concurrency: int = 4,
        include_recordings: bool = False,
        stats: dict[str, Any] | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        """Yield every call of an account-local window, typed, each ``id`` once.

        The pages are read first (:meth:`afetch_call_log_pages`: oldest first, windows past
        the offset cap halved, a short window read again) into a spool on local disk, then
        yielded in time order; memory does not grow with the window.

        :param start_time: local ``YYYY-MM-DD HH:MM:SS``.
        :param end_time: local ``YYYY-MM-DD HH:MM:SS``.
        :param max_concurrency: pages in flight at once.
        :param include_recordings: ask for each call's recordings.
        :param stats: receives ``windows``, ``pages`` and ``duplicates_dropped``.
        :param filters: ``user_id``, ``campaign_id``, ``list_id``, ... one value each.
        :return: the calls.
        """
        from airflow_provider_convoso.endpoints.call_logs.query import CallLogsQuery
        from airflow_provider_convoso.endpoints.call_logs.reader import iter_calls

        query = CallLogsQuery.from_inputs(
            start_time=start_time, end_time=end_time, include_recordings=include_recordings, **filters
        )
        with self.explained():
            yield from iter_calls(
                lambda spool: self.read_call_logs(query, spool, max_concurrency=max_concurrency), stats
            )

    def iter_agent_productivity(
        self,
        day: dt.date,
        *,
        campaign_id: str | None = None,
        agent_emails: str | None = None,
        stats: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield one account-local day's agent-productivity events, typed, each ``id`` once.

        Pages of 1,000 to ``data.total``; past the 50,000 offset cap the day is asked for
        per campaign (from ``campaigns/search``). See :mod:`airflow_provider_convoso.endpoints.agent_productivity`.

        :param day: the account-local date.
        :param campaign_id: one campaign.
        :param agent_emails: comma-separated login emails.
        :param stats: receives ``totals``, ``pages``, ``split`` and ``duplicates_dropped``.
        :return: the events.
        """
        from airflow_provider_convoso.endpoints.agent_productivity import iter_day

        def campaign_ids() -> list[str]:
            return [str(campaign["id"]) for campaign in self.get_lookup("campaigns")]

        with self._call(), self.explained():  # one client for every page
            yield from iter_day(
                self.fetch_payload,
                day,
                campaign_ids=campaign_ids,
                campaign_id=campaign_id,
                agent_emails=agent_emails,
                stats=stats,
            )

    def read_call_logs(self, query: CallLogsQuery, spool: BodySpool, *, max_concurrency: int = 4) -> CallLogStats:
        """Read every page of a call-log window into ``spool`` from a task: :meth:`afetch_call_log_pages`
        on an event loop of its own, with one client for every page.

        :param query: the window, filters and page size.
        :param spool: where each page's body goes.
        :param max_concurrency: requests in flight at once (at most :data:`MAX_CONCURRENCY`).
        :return: what was read, per window.
        """

        async def read() -> CallLogStats:
            async with self:
                return await self.afetch_call_log_pages(query, spool, max_concurrency=max_concurrency)

        return asyncio.run(read())

    async def afetch_call_log_pages(
        self, query: CallLogsQuery, spool: BodySpool, *, max_concurrency: int = 4
    ) -> CallLogStats:
        """Fetch every page of a call-log window into ``spool``, splitting windows that are too large.

        See :func:`airflow_provider_convoso.endpoints.call_logs.reader.read_windows`; the pages share one client.

        :param query: the window, filters and page size.
        :param spool: where each page's body goes.
        :param max_concurrency: requests in flight at once (at most :data:`MAX_CONCURRENCY`).
        :return: what was read, per window.
        """
        from airflow_provider_convoso.endpoints.call_logs.reader import read_windows

        async with self._acall():  # one client for every page
            with self.explained():
                return await read_windows(
                    self.afetch_content,
                    query,
                    spool,
                    max_concurrency=clamp_concurrency(max_concurrency, self.log),
                    log=self.log,
                )

    def read_leads(self, query: LeadsQuery, spool: BodySpool) -> LeadStats:
        """Read every lead updated inside a window into ``spool`` from a task: :meth:`afetch_lead_pages`
        on an event loop of its own, with one client for every page.

        :param query: the window of update times, filters and page size.
        :param spool: where each page's body goes, in read order.
        :return: what was read, with the last page each lead was in.
        """

        async def read() -> LeadStats:
            async with self:
                return await self.afetch_lead_pages(query, spool)

        return asyncio.run(read())

    async def afetch_lead_pages(self, query: LeadsQuery, spool: BodySpool) -> LeadStats:
        """Fetch every lead updated inside a window into ``spool``, complete while leads change.

        See :func:`airflow_provider_convoso.endpoints.leads.reader.read_changes`; the pages share one client.

        :param query: the window of update times, filters and page size.
        :param spool: where each page's body goes, in read order.
        :return: what was read, with the last page each lead was in.
        """
        from airflow_provider_convoso.endpoints.leads.reader import read_changes

        async with self._acall():  # one client for every page
            with self.explained():
                return await read_changes(self.afetch_content, query, spool, log=self.log)

    def iter_leads(
        self,
        updated_start: str,
        updated_end: str,
        *,
        custom_fields: dict[str, str] | None = None,
        stats: dict[str, Any] | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        """Yield every lead updated inside an account-local window, typed, each ``id`` once (its newest copy).

        :param updated_start: local ``YYYY-MM-DD HH:MM:SS``.
        :param updated_end: local ``YYYY-MM-DD HH:MM:SS`` (included).
        :param custom_fields: ``field_N`` -> column name.
        :param stats: receives ``pages``, ``re_reads`` and ``duplicates_dropped``.
        :param filters: ``list_id``, ``status``, ``user_id``, ... one value each.
        :return: the leads, in update order.
        """
        from airflow_provider_convoso.endpoints.leads.query import LeadsQuery
        from airflow_provider_convoso.endpoints.leads.reader import iter_leads

        query = LeadsQuery.from_inputs(updated_at_start_date=updated_start, updated_at_end_date=updated_end, **filters)
        with self.explained():
            yield from iter_leads(
                lambda spool: self.read_leads(query, spool), self.settings.timezone, custom_fields, stats
            )

    def download_recordings(
        self, recordings: list[Recording], store: Any, *, max_concurrency: int = 8, max_file_bytes: int
    ) -> list[dict[str, Any]]:
        """Download each recording through its bearer link and hand the file to ``store``.

        See :func:`airflow_provider_convoso.endpoints.recordings.download_all`: the links are
        fetched with no token (they need none, and the token is not theirs to see), retried
        under the connection's policy, never logged; bodies stream to temporary files capped
        at ``max_file_bytes``.

        :param recordings: what to download (skipped ones included: they get their line).
        :param store: ``store(recording, local_file) -> uri`` puts one accepted file in place.
        :param max_concurrency: downloads in flight at once (at most :data:`MAX_CONCURRENCY`).
        :param max_file_bytes: the largest recording accepted.
        :return: one manifest line per recording.
        """
        from airflow_provider_convoso.endpoints.recordings import download_all
        from airflow_provider_convoso.hooks._downloads import Downloader

        settings = self.settings
        workers = clamp_concurrency(max_concurrency, self.log)

        async def run() -> list[dict[str, Any]]:
            async with Downloader(settings, self.log, workers, max_file_bytes) as downloader:
                return await download_all(recordings, downloader.fetch, store, max_concurrency=workers, log=self.log)

        return asyncio.run(run())

    def fingerprint(self, query: Query) -> tuple[int, str]:
        """Count the rows of one call and digest them, typed a batch at a time, none kept.

        The digest (:class:`~airflow_provider_convoso.digest.RecordDigest`) is the one the
        operator reports for what it writes from the same answer.

        :param query: what to ask for.
        :return: ``(rows, digest)``.
        """
        from airflow_provider_convoso.endpoints.agent_performance.reading import fingerprint_rows

        content = self.fetch_content(query)
        with self.explained():
            return fingerprint_rows(content, query.to_params())

    async def afingerprint(self, query: Query) -> tuple[int, str]:
        """Count and digest the rows of one call: the async twin of :meth:`fingerprint`; a
        large answer is read in a worker thread.

        :param query: what to ask for.
        :return: ``(rows, digest)``.
        """
        from airflow_provider_convoso.endpoints.agent_performance.reading import fingerprint_rows

        content = await self.afetch_content(query)
        with self.explained():
            if len(content) <= LOOP_INLINE_BYTES:
                return fingerprint_rows(content, query.to_params())
            return await asyncio.to_thread(fingerprint_rows, content, query.to_params())

    def get_agent_performance(self, *, normalize: bool = True, **inputs: Any) -> list[dict[str, Any]]:
        """Fetch agent performance records; every input is checked before any network call.

        :param normalize: type the records.
        :param inputs: :class:`~airflow_provider_convoso.endpoints.agent_performance.AgentPerformanceQuery`'s
            arguments: ``date_start``, ``date_end`` (``YYYY-MM-DD``, date or datetime) and the
            ID filters ``campaign_ids``, ``list_ids``, ``queue_ids``, ``user_ids``, ``status_ids``.
        :return: the records.
        """
        return self.fetch(AgentPerformanceQuery.from_inputs(**inputs), normalize=normalize)

    async def aget_agent_performance(self, *, normalize: bool = True, **inputs: Any) -> list[dict[str, Any]]:
        """Fetch agent performance records: the async twin of :meth:`get_agent_performance`."""
        return await self.afetch(AgentPerformanceQuery.from_inputs(**inputs), normalize=normalize)

    def test_connection(self) -> tuple[bool, str]:
        """Ask each API section this provider reads for one minimal answer and say which the token can read.

        Tokens are scoped per API section, so only a call to a section proves access to it:
        agent performance, call logs, agent productivity, users and leads each get one attempt of at
        most :data:`TEST_TIMEOUT_S` seconds (the task path keeps its retries), so the UI
        answers in seconds. A section that answers with an error is named with the error; a
        network failure ends the test at once.

        :return: ``(ok, message)``: ``ok`` when at least one section can be read.
        """
        from airflow_provider_convoso.hooks._probes import describe, probes

        readable: list[str] = []
        refused: list[tuple[str, ConvosoError]] = []
        try:
            settings = self.settings
            with self._call():
                for section, query, read in probes(dt.date.today()):
                    try:
                        content = self._send(settings, query, min(settings.timeout, TEST_TIMEOUT_S))
                        with self.explained():
                            readable.append(read(content, query))
                    except ConvosoPermanentError as error:
                        refused.append((section, error))
            if not readable:
                raise refused[0][1]
            ok, message = True, describe(readable, refused)
        except Exception as error:
            ok, message = False, f"{type(error).__name__}: {error}"
            if isinstance(error, ConvosoTransientError):
                message += f" (one attempt, {TEST_TIMEOUT_S:g} s at most; tasks retry)"
        token = self._settings.token if self._settings is not None else ""
        return ok, message.replace(token, "***") if token else message


#: The connection test's single attempt never waits longer than this.
TEST_TIMEOUT_S = 10.0
