"""One aiohttp session per event loop and API base, shared by the hooks polling it.

A triggerer runs hundreds of deferred sensors in one loop. A session each costs the loop
a connector, a cookie jar and their teardown per trigger; one shared session costs that
once, and its keep-alive connections serve whichever trigger polls next. The session sends
nothing that belongs to a connection (the token travels in each request's body) and keeps
no cookies, so hooks of different connections to the same API can share it.

A session lives while a hook holds it: the last :func:`release` closes it, so nothing is
left open when a loop ends (``asyncio.run`` in tests, a triggerer's shutdown).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from airflow_provider_convoso.compat import aget_connection

if TYPE_CHECKING:
    import aiohttp


class _Shared:
    """A session and how many hooks hold it. Held weakly: a hook dropped without
    ``aclose()`` takes its session down with it, as an unshared one would."""

    __slots__ = ("_session", "users")

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = weakref.ref(session)
        self.users = 0

    @property
    def session(self) -> aiohttp.ClientSession | None:
        session = self._session()
        return None if session is None or session.closed else session


_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, _Shared]] = weakref.WeakKeyDictionary()


def acquire(key: Hashable, open_session: Callable[[], aiohttp.ClientSession]) -> aiohttp.ClientSession:
    """Return the running loop's session for ``key``, opening it with ``open_session`` if none is open.

    :param key: what makes two sessions interchangeable (base URL, TLS, proxy use).
    :param open_session: builds a session; called in the running loop.
    :return: the session; hand ``key`` to :func:`release` once done with it.
    """
    shared = _BY_LOOP.setdefault(asyncio.get_running_loop(), {})
    entry = shared.get(key)
    session = None if entry is None else entry.session
    if entry is None or session is None:
        session = open_session()
        entry = shared[key] = _Shared(session)
    entry.users += 1
    return session


async def release(key: Hashable, session: aiohttp.ClientSession) -> None:
    """Give back a session from :func:`acquire`; the last user closes it.

    :param key: the key it was acquired with.
    :param session: the session.
    """
    shared = _BY_LOOP.get(asyncio.get_running_loop(), {})
    entry = shared.get(key)
    if entry is None or entry.session is not session:  # closed and replaced meanwhile
        await session.close()
        return
    entry.users -= 1
    if entry.users <= 0:
        del shared[key]
        await session.close()


def open_sessions() -> int:
    """Return how many shared sessions the running loop holds (for tests).

    :return: the count.
    """
    return len(_BY_LOOP.get(asyncio.get_running_loop(), {}))


# conn_id -> the lookup in progress, per event loop. Only lookups that overlap in time are
# shared: nothing is cached once one completes, so a rotated token is seen by the next one.
_LOOKUPS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Task[Any]]] = (
    weakref.WeakKeyDictionary()
)


async def shared_lookup(conn_id: str) -> Any:
    """Return the connection, fetched once for every trigger that asks for it at the same time.

    Hundreds of deferred sensors reach a triggerer together (every daily DAG's sensor
    defers around the same minute), and on Airflow 3 each lookup is a round trip through
    the supervisor; they all wait on one. Only lookups that overlap in time are shared.

    :param conn_id: the connection's id.
    :return: the connection.
    """
    in_flight = _LOOKUPS.setdefault(asyncio.get_running_loop(), {})
    lookup = in_flight.get(conn_id)
    if lookup is None:
        lookup = asyncio.ensure_future(aget_connection(conn_id))
        in_flight[conn_id] = lookup
        lookup.add_done_callback(lambda done: in_flight.pop(conn_id, None))
    return await asyncio.shield(lookup)  # one waiter cancelled does not cancel the others' lookup
