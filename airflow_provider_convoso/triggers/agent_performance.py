"""AgentPerformanceTrigger: polls the API from the triggerer until the data exists."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow_provider_convoso.compat import BaseTrigger, TriggerEvent
from airflow_provider_convoso.exceptions import ConvosoTransientError


class AgentPerformanceTrigger(BaseTrigger):
    """Poll agent performance with the hook's async path; yield one event, then stop.

    The event is ``{"status": "success" | "error" | "timeout", "message": str, "rows": int}``;
    a success also carries the answer's ``digest``, an error ``error_type`` and, when
    known, ``error_code`` and ``parameter``. The token is never serialised: the trigger
    reads it from the connection. Neither is a digest: after a triggerer restart the wait
    for settled data starts over from the next poll.

    :param convoso_conn_id: the Convoso connection.
    :param params: the query's parameters (``AgentPerformanceQuery.to_params()``), no token.
    :param min_rows: rows needed for success.
    :param settle_polls: polls in a row that must return the same data.
    :param settle_for: seconds the data must have been unchanged.
    :param poke_interval: seconds between polls.
    :param end_time: UNIX time after which the trigger gives up with a ``timeout`` event.
    """

    def __init__(
        self,
        *,
        convoso_conn_id: str,
        params: dict[str, str],
        min_rows: int = 1,
        settle_polls: int = 1,
        settle_for: float = 0.0,
        poke_interval: float = 60.0,
        end_time: float | None = None,
    ) -> None:
        super().__init__()
        self.convoso_conn_id = convoso_conn_id
        self.params = dict(params)
        self.min_rows = min_rows
        self.settle_polls = settle_polls
        self.settle_for = settle_for
        self.poke_interval = poke_interval
        self.end_time = end_time

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "convoso_conn_id": self.convoso_conn_id,
                "params": dict(self.params),
                "min_rows": self.min_rows,
                "settle_polls": self.settle_polls,
                "settle_for": self.settle_for,
                "poke_interval": self.poke_interval,
                "end_time": self.end_time,
            },
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AgentPerformanceTrigger) and self.serialize() == other.serialize()

    __hash__ = None  # type: ignore[assignment]

    def _hook(self) -> Any:
        from airflow_provider_convoso.hooks.convoso import ConvosoHook

        return ConvosoHook(convoso_conn_id=self.convoso_conn_id)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_convoso.endpoints.agent_performance import AgentPerformanceQuery
        from airflow_provider_convoso.endpoints.agent_performance.settle import Settling

        try:
            query = AgentPerformanceQuery.from_params(self.params)  # checked again, not trusted
            settling = Settling(self.settle_polls, self.settle_for)
        except Exception as error:
            yield TriggerEvent(_error_event(error))
            return
        hook = self._hook()
        polls = 0
        async with hook:  # one client for every poll, closed however the wait ends
            while True:
                polls += 1
                try:
                    # A poll (its retries and their waits included) never runs past end_time.
                    left = None if self.end_time is None else max(0.0, self.end_time - time.time())
                    rows, digest = await asyncio.wait_for(hook.afingerprint(query), left)
                except asyncio.TimeoutError:
                    yield TriggerEvent(_timeout_event())
                    return
                except ConvosoTransientError as error:
                    self.log.warning("Convoso is not answering yet, will poll again: %s", error)
                except Exception as error:  # permanent errors and bugs alike end the wait
                    yield TriggerEvent(_error_event(error))
                    return
                else:
                    now = time.time()
                    if settling.observe(enough_rows=rows >= self.min_rows, digest=digest, now=now):
                        message = f"{rows} agent rows available"
                        if settling.active:
                            message += f", settled ({settling.progress(now)})"
                        yield TriggerEvent({"status": "success", "message": message, "rows": rows, "digest": digest})
                        return
                    # DEBUG: the sensor's own poke already logged "waiting" at INFO before it
                    # deferred, and a triggerer runs hundreds of these loops, where a formatted
                    # line per poll is measurable (~0.3 ms each).
                    self.log.debug(
                        "Convoso has %d agent rows, waiting for %d and %s (poll %d, every %ss)",
                        rows,
                        self.min_rows,
                        settling.progress(now),
                        polls,
                        self.poke_interval,
                    )
                if self.end_time is not None and time.time() + self.poke_interval > self.end_time:
                    yield TriggerEvent(_timeout_event())
                    return
                await asyncio.sleep(self.poke_interval)


def _timeout_event() -> dict[str, Any]:
    return {"status": "timeout", "message": "no agent performance data before the timeout", "rows": 0}


def _error_event(error: BaseException) -> dict[str, Any]:
    return {
        "status": "error",
        "message": str(error),
        "rows": 0,
        "error_type": type(error).__name__,
        "error_code": getattr(error, "error_code", None),
        "parameter": getattr(error, "parameter", None),
    }
