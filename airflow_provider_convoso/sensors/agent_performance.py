"""AgentPerformanceSensor: wait until Convoso has the data, in poke, reschedule or deferrable mode."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow_provider_convoso import exceptions
from airflow_provider_convoso.compat import (
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)
from airflow_provider_convoso.endpoints.agent_performance import AgentPerformanceQuery
from airflow_provider_convoso.endpoints.agent_performance.settle import Settling
from airflow_provider_convoso.exceptions import ConvosoError, ConvosoTransientError
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.wire.query import QueryArguments


class AgentPerformanceSensor(QueryArguments, BaseSensorOperator):
    """Succeed once an agent-performance call returns at least ``min_rows`` rows, and,
    when asked, once that answer has stopped changing.

    Permanent errors (auth, invalid filter, validation) fail at once; transient ones are
    logged and count as "not yet". With ``deferrable=True`` the sensor pokes once, then
    hands the wait to :class:`AgentPerformanceTrigger` and frees the worker slot. The XCom
    value is ``{"rows": N, "digest": "..."}``: the digest is the one the operator reports
    for what it writes from the same answer. Each poke types the rows a batch at a time to
    digest them and keeps none, so a large account costs a poke about twice the answer's
    size in memory.

    :param min_rows: rows needed.
    :param settle_polls: polls in a row that must return the same data (default 1: the
        first poll with ``min_rows`` rows succeeds).
    :param settle_for: how long the data must have been unchanged (a ``timedelta`` or
        seconds; default none). With both, both must hold. The performance data "updates
        throughout the day in real time": settling waits out late events.
    """

    query_type = AgentPerformanceQuery
    template_fields: Sequence[str] = ("convoso_conn_id", *AgentPerformanceQuery.argument_names())
    template_fields_renderers = dict.fromkeys(AgentPerformanceQuery.FILTERS, "json")
    ui_color = "#ffe3d1"
    ui_fgcolor = "#7a2e00"

    def __init__(
        self,
        *,
        convoso_conn_id: str = ConvosoHook.default_conn_name,
        date_start: Any = None,
        date_end: Any = None,
        campaign_ids: Any = None,
        list_ids: Any = None,
        queue_ids: Any = None,
        user_ids: Any = None,
        status_ids: Any = None,
        min_rows: int = 1,
        settle_polls: int = 1,
        settle_for: dt.timedelta | float | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.convoso_conn_id = convoso_conn_id
        self._keep_arguments(locals())
        if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 0:
            raise ValueError(f"min_rows must be a non-negative integer, got {min_rows!r}")
        self.min_rows = min_rows
        self.settle_polls = settle_polls
        self.settle_for = settle_for
        self._settling = self._new_settling()  # checks both now, in the DAG file
        self.deferrable = deferrable

    @cached_property
    def hook(self) -> ConvosoHook:
        return ConvosoHook(convoso_conn_id=self.convoso_conn_id)

    def _new_settling(self) -> Settling:
        return Settling(self.settle_polls, _seconds(self.settle_for) if self.settle_for is not None else 0.0)

    def poke(self, context: Any) -> PokeReturnValue:
        query = self.query()
        try:
            rows, digest = self.hook.fingerprint(query)
        except ConvosoTransientError as error:
            self.log.warning("Convoso is not answering yet, will poke again: %s", error)
            return PokeReturnValue(is_done=False)
        finally:
            self.hook.close()  # reschedule mode runs each poke in a new process anyway
        settling, saved = self._settling, self._keeps_state_in_variable()
        if saved:
            settling.resume(_load_state(context))
        now = time.time()
        enough = rows >= self.min_rows
        if settling.observe(enough_rows=enough, digest=digest, now=now):
            if settling.active:
                self.log.info("Convoso has %d agent rows, settled (%s)", rows, settling.progress(now))
            else:
                self.log.info("Convoso has %d agent rows (needed %d)", rows, self.min_rows)
            return PokeReturnValue(is_done=True, xcom_value={"rows": rows, "digest": digest})
        if saved:
            _save_state(context, settling.state())
        if not enough:
            self.log.info("Convoso has %d agent rows, waiting for %d", rows, self.min_rows)
        else:
            self.log.info("Convoso has %d agent rows, waiting for them to settle: %s", rows, settling.progress(now))
        return PokeReturnValue(is_done=False)

    def _keeps_state_in_variable(self) -> bool:
        """Reschedule mode runs each poke in a new process: the settling state lives in a Variable."""
        return self._settling.active and self.mode == "reschedule" and not self.deferrable

    def execute(self, context: Any) -> Any:
        self._settling = self._new_settling()  # a new try waits afresh
        if not self.deferrable:
            if not self._keeps_state_in_variable():
                return super().execute(context)
            from airflow_provider_convoso.compat import AirflowRescheduleException

            try:
                result = super().execute(context)
            except AirflowRescheduleException:
                raise  # the next poke goes on from the saved state
            except BaseException:
                _forget_state(context)  # success, failure or timeout: a retry starts over
                raise
            _forget_state(context)
            return result
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        from airflow_provider_convoso.triggers.agent_performance import AgentPerformanceTrigger

        timeout = _seconds(self.timeout)
        self.defer(
            trigger=AgentPerformanceTrigger(
                convoso_conn_id=self.convoso_conn_id,
                params=self.query().to_params(),
                min_rows=self.min_rows,
                settle_polls=self.settle_polls,
                settle_for=self._settling.seconds,
                poke_interval=_seconds(self.poke_interval),
                end_time=time.time() + timeout,
            ),
            method_name="execute_complete",
            timeout=dt.timedelta(seconds=timeout),
        )
        return None  # pragma: no cover - defer() raises

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        """Map the trigger's event to an outcome: rows and digest, the typed error, or a timeout.

        :param context: the task's context.
        :param event: the trigger's event.
        :return: ``{"rows": N, "digest": "..."}``.
        """
        status = event.get("status")
        if status == "success":
            self.log.info("%s", event.get("message"))
            return {"rows": int(event.get("rows", 0)), "digest": event.get("digest")}
        if status == "timeout":
            message = f"{self.task_id}: {event.get('message', 'timed out')}"
            if self.soft_fail:
                raise AirflowSkipException(message)
            raise AirflowSensorTimeout(message)
        raise error_from_event(event)


def _seconds(value: dt.timedelta | float) -> float:
    return float(value.total_seconds() if isinstance(value, dt.timedelta) else value)


def _state_key(context: Any) -> str:
    """The Variable that holds one task instance's settling state between reschedules."""
    ti = context["ti"]
    key = f"convoso_settle__{ti.dag_id}__{ti.task_id}__{ti.map_index}__{ti.run_id}"
    if len(key) > 250:  # Airflow's limit on a Variable's key
        key = "convoso_settle__" + hashlib.sha256(key.encode()).hexdigest()
    return key


def _load_state(context: Any) -> dict[str, Any] | None:
    from airflow_provider_convoso.compat import Variable

    # The sensor encodes and decodes its state itself, not with deserialize_json=True:
    # Airflow 3.0 puts the decoded value back into a str field and logs a "Pydantic
    # serializer warnings" block each poke.
    stored = Variable.get(_state_key(context), None)
    try:
        state = json.loads(stored) if isinstance(stored, str) else None
    except ValueError:  # not ours, or damaged: start settling again
        return None
    return state if isinstance(state, dict) else None


def _save_state(context: Any, state: dict[str, Any]) -> None:
    from airflow_provider_convoso.compat import Variable

    Variable.set(
        _state_key(context),
        json.dumps(state),
        description="AgentPerformanceSensor: settling state between reschedules (removed when the sensor ends)",
    )


def _forget_state(context: Any) -> None:
    from airflow_provider_convoso.compat import Variable

    try:
        Variable.delete(_state_key(context))
    except Exception:  # already gone (Airflow 3 raises for a missing key): nothing to clean
        return


def error_from_event(event: dict[str, Any]) -> BaseException:
    """Rebuild the typed Convoso error that a trigger reported."""
    message = str(event.get("message") or "the Convoso trigger failed")
    error_type = getattr(exceptions, str(event.get("error_type")), None)
    if not (isinstance(error_type, type) and issubclass(error_type, ConvosoError)):
        return ConvosoError(f"{event.get('error_type', 'error')}: {message}")
    error = error_type.__new__(error_type, message)
    error.args = (message,)
    for attribute in ("error_code", "parameter"):
        setattr(error, attribute, event.get(attribute))
    return error
