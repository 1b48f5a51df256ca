"""ConvosoHook: auth from an Airflow connection, validation, transport and retries."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import ssl
import weakref
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn

from airflow_provider_convoso import __version__
from airflow_provider_convoso.compat import (
    AIRFLOW_V_3_0_PLUS,
    AIRFLOW_VERSION,
    BaseHook,
    aget_connection,
    amask_secret,
    failing_fast,
    mask_secret,
)
from airflow_provider_convoso.exceptions import (
    ConvosoError,
    ConvosoInputError,
    ConvosoTransientError,
)

# httpx, tenacity and the parsing modules are imported where they are used: the DAG
# processor imports this module with every DAG file that uses the operator or the sensor.
if TYPE_CHECKING:
    import httpx
    from tenacity import RetryCallState

    from airflow_provider_convoso.settings import ClientSettings


def _transport_error(error: Exception) -> ConvosoError:
    """A network-level failure as a typed error.

    Timeouts, refused or reset connections and truncated bodies are transient; a TLS
    certificate that fails verification is not, and neither is a URL httpx cannot use.
    """
    import httpx

    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return ConvosoInputError(f"TLS certificate verification failed for the Convoso API: {cause.verify_message}")
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ConvosoInputError(f"the Convoso API base URL is not usable: {error}")
    return ConvosoTransientError(f"{type(error).__name__}: {str(error) or 'no detail'}")


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


def _checked(response: httpx.Response) -> bytes:
    """The body of a normal answer; a status that is not one raises its typed error."""
    from airflow_provider_convoso.responses import check_status

    check_status(response.status_code, response.headers, response.content)
    return response.content


def _records(content: bytes, params: Mapping[str, str], normalize: bool) -> list[dict[str, Any]]:
    from airflow_provider_convoso.responses import parse_body

    with failing_fast():
        return parse_body(content, params, normalize=normalize)


def _count(content: bytes, params: Mapping[str, str]) -> int:
    from airflow_provider_convoso.responses import iter_records

    with failing_fast():
        return sum(1 for _ in iter_records(content, params, normalize=False))


#: Larger answers are counted in a worker thread, so a trigger does not hold the loop.
_INLINE_COUNT_BYTES = 256 * 1024


# conn_id -> the lookup in progress, per event loop. Only lookups that overlap in time are
# shared: nothing is cached once one completes, so a rotated token is seen by the next one.
_LOOKUPS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Task[Any]]] = (
    weakref.WeakKeyDictionary()
)


async def _shared_lookup(conn_id: str) -> Any:
    """The connection, fetched once for every trigger that asks for it at the same time.

    Hundreds of deferred sensors reach a triggerer together (every daily DAG's sensor
    defers around the same minute), and on Airflow 3 each lookup is a round trip through
    the supervisor; they all wait on one.
    """
    in_flight = _LOOKUPS.setdefault(asyncio.get_running_loop(), {})
    lookup = in_flight.get(conn_id)
    if lookup is None:
        lookup = asyncio.ensure_future(aget_connection(conn_id))
        in_flight[conn_id] = lookup
        lookup.add_done_callback(lambda done: in_flight.pop(conn_id, None))
    return await asyncio.shield(lookup)  # one waiter cancelled does not cancel the others' lookup


def _raise_exhausted(state: RetryCallState) -> NoReturn:
    cause = state.outcome.exception() if state.outcome else None
    raise ConvosoTransientError(
        f"Convoso request still failing after {state.attempt_number} attempts: {cause}",
        retry_after=getattr(cause, "retry_after", None),
    ) from cause


class ConvosoHook(BaseHook):
    """Calls Convoso's Agent Performance API with the token from an Airflow connection.

    The connection's password is the auth token, its host the API base URL (default
    ``https://api.convoso.com``). Extras ``timeout``, ``max_retries``, ``retry_backoff``,
    ``retry_max_wait``, ``request_format`` and ``verify`` tune the client; a keyword
    argument of the same name overrides each. Nothing is read or opened until first use.
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
        }
        self._async_client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(convoso_conn_id={self.convoso_conn_id!r})"

    # -- connection form ---------------------------------------------------------------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Hide unused fields and relabel the two that matter."""
        from airflow_provider_convoso.settings import UI_FIELD_BEHAVIOUR

        return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Form fields for the extras (Flask UI); the imports happen only when the UI asks."""
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import StringField

        from airflow_provider_convoso.settings import EXTRA_FIELDS

        return {
            name: StringField(
                lazy_gettext(field["label"]), widget=BS3TextFieldWidget(), description=field["description"]
            )
            for name, field in EXTRA_FIELDS.items()
        }

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

    @cached_property
    def settings(self) -> ClientSettings:
        """Settings from the connection, read once on first use."""
        with failing_fast():
            conn = self.get_connection(self.convoso_conn_id)
            if conn.password and not AIRFLOW_V_3_0_PLUS:
                mask_secret(conn.password)  # Airflow 3 masks a connection's secrets when it fetches one
            return self._resolve(conn)

    async def _asettings(self) -> ClientSettings:
        if "settings" not in self.__dict__:
            with failing_fast():
                conn = await _shared_lookup(self.convoso_conn_id)
                if conn.password and not AIRFLOW_V_3_0_PLUS:
                    await amask_secret(conn.password)
                self.__dict__["settings"] = self._resolve(conn)
        return self.settings

    @property
    def user_agent(self) -> str:
        import httpx

        return f"airflow-provider-convoso/{__version__} apache-airflow/{AIRFLOW_VERSION} httpx/{httpx.__version__}"

    def _client_options(self, settings: ClientSettings) -> dict[str, Any]:
        return {
            "timeout": settings.timeout,
            "verify": _ssl_context(settings.verify),
            "headers": {"User-Agent": self.user_agent, "Accept": "application/json"},
            "follow_redirects": False,
        }

    @cached_property
    def client(self) -> httpx.Client:
        """One pooled, thread-safe client per hook."""
        import httpx

        return httpx.Client(**self._client_options(self.settings))

    async def _aclient(self) -> httpx.AsyncClient:
        import httpx

        if self._async_client is None:
            self._async_client = httpx.AsyncClient(**self._client_options(await self._asettings()))
        return self._async_client

    def close(self) -> None:
        """Close the pooled sync client, if one was opened."""
        client = self.__dict__.pop("client", None)
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the async client, if one was opened."""
        if self._async_client is not None:
            await self._async_client.aclose()
            self._async_client = None

    # -- requests ----------------------------------------------------------------------

    @staticmethod
    def _request_body(settings: ClientSettings, params: Mapping[str, str]) -> dict[str, Any]:
        payload = {"auth_token": settings.token, **params}
        return {"json": payload} if settings.request_format == "json" else {"data": payload}

    def _retry_policy(self, settings: ClientSettings) -> dict[str, Any]:
        """tenacity arguments shared by the sync and async paths."""
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
            self.log.warning(
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

    def _send(self, settings: ClientSettings, params: Mapping[str, str]) -> bytes:
        import httpx

        try:
            response = self.client.post(settings.endpoint, **self._request_body(settings, params))
        except (httpx.TransportError, httpx.InvalidURL) as error:
            raise _transport_error(error) from None
        return _checked(response)

    async def _asend(self, settings: ClientSettings, params: Mapping[str, str]) -> bytes:
        import httpx

        client = await self._aclient()
        try:
            response = await client.post(settings.endpoint, **self._request_body(settings, params))
        except (httpx.TransportError, httpx.InvalidURL) as error:
            raise _transport_error(error) from None
        return _checked(response)

    def fetch_content(self, params: Mapping[str, str]) -> bytes:
        """The body of one answered call with already-validated ``params``, retried.

        For large answers: :func:`airflow_provider_convoso.responses.iter_records` reads it
        one agent at a time. An answer that is an error raises its typed error here.
        """
        from tenacity import Retrying

        settings = self.settings
        with failing_fast():
            for attempt in Retrying(**self._retry_policy(settings)):
                with attempt:
                    return self._send(settings, params)
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    async def afetch_content(self, params: Mapping[str, str]) -> bytes:
        """The async twin of :meth:`fetch_content`, for triggers."""
        from tenacity import AsyncRetrying

        settings = await self._asettings()
        with failing_fast():
            async for attempt in AsyncRetrying(**self._retry_policy(settings)):
                with attempt:
                    return await self._asend(settings, params)
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    def fetch(self, params: Mapping[str, str], *, normalize: bool = True) -> list[dict[str, Any]]:
        """The records of one call with already-validated ``params`` (see :func:`params.build_params`)."""
        return _records(self.fetch_content(params), params, normalize)

    async def afetch(self, params: Mapping[str, str], *, normalize: bool = True) -> list[dict[str, Any]]:
        """The async twin of :meth:`fetch`."""
        return _records(await self.afetch_content(params), params, normalize)

    def count(self, params: Mapping[str, str]) -> int:
        """How many agent rows one call returns: decoded one at a time and not typed, so a
        sensor's poke costs the body's size in memory, not every row as Python objects."""
        return _count(self.fetch_content(params), params)

    async def acount(self, params: Mapping[str, str]) -> int:
        """The async twin of :meth:`count`; a large answer is counted in a worker thread."""
        content = await self.afetch_content(params)
        if len(content) <= _INLINE_COUNT_BYTES:
            return _count(content, params)
        return await asyncio.to_thread(_count, content, params)

    def get_agent_performance(
        self,
        *,
        date_start: str | dt.date | None = None,
        date_end: str | dt.date | None = None,
        campaign_ids: Any = None,
        list_ids: Any = None,
        queue_ids: Any = None,
        user_ids: Any = None,
        status_ids: Any = None,
        normalize: bool = True,
    ) -> list[dict[str, Any]]:
        """Agent performance records; every input is checked before any network call."""
        params = _validated(locals())
        return self.fetch(params, normalize=normalize)

    async def aget_agent_performance(
        self,
        *,
        date_start: str | dt.date | None = None,
        date_end: str | dt.date | None = None,
        campaign_ids: Any = None,
        list_ids: Any = None,
        queue_ids: Any = None,
        user_ids: Any = None,
        status_ids: Any = None,
        normalize: bool = True,
    ) -> list[dict[str, Any]]:
        """The async twin of :meth:`get_agent_performance`, on ``httpx.AsyncClient``."""
        params = _validated(locals())
        return await self.afetch(params, normalize=normalize)

    def test_connection(self) -> tuple[bool, str]:
        """One minimal agent-performance call: tokens are scoped per API section."""
        try:
            rows = self.get_agent_performance()
        except Exception as error:
            message = str(error)
            settings = self.__dict__.get("settings")
            token = settings.token if settings is not None else ""
            if token:
                message = message.replace(token, "***")
            return False, f"{type(error).__name__}: {message}"
        return True, f"Connected: the token can read agent performance ({len(rows)} agent rows today)."


REQUEST_ARGS = ("date_start", "date_end", "campaign_ids", "list_ids", "queue_ids", "user_ids", "status_ids")


def _validated(arguments: Mapping[str, Any]) -> dict[str, str]:
    """Validated request parameters (see :func:`params.build_params`); bad input fails the task at once."""
    from airflow_provider_convoso.params import build_params

    with failing_fast():
        return build_params(**{name: arguments[name] for name in REQUEST_ARGS})


class AgentPerformanceRequest:
    """The templated request arguments that the operator and the sensor share."""

    convoso_conn_id: str

    def _store_request(self, arguments: Mapping[str, Any]) -> None:
        """Keep ``convoso_conn_id`` and the request arguments (from ``locals()`` of ``__init__``)."""
        for name in ("convoso_conn_id", *REQUEST_ARGS):
            setattr(self, name, arguments[name])

    def _params(self) -> dict[str, str]:
        """The rendered arguments, validated; bad input fails the task before any request."""
        return _validated({name: getattr(self, name) for name in REQUEST_ARGS})
