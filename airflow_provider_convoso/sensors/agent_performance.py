"""AgentPerformanceSensor: wait until Convoso has the data, in poke, reschedule or deferrable mode."""

from __future__ import annotations

import datetime as dt
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
from airflow_provider_convoso.exceptions import ConvosoError, ConvosoTransientError
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.queries import AgentPerformanceQuery, QueryArguments


class AgentPerformanceSensor(QueryArguments, BaseSensorOperator):
    """Succeed once an agent-performance call returns at least ``min_rows`` rows.

    Permanent errors (auth, invalid filter, validation) fail at once; transient ones are
    logged and count as "not yet". With ``deferrable=True`` the sensor pokes once, then
    hands the wait to :class:`AgentPerformanceTrigger` and frees the worker slot. The XCom
    value is the row count. Rows are counted, not typed (the operator types them), so a
    large account costs a poke about twice the answer's size in memory, not six times.
    """

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
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.convoso_conn_id = convoso_conn_id
        self._keep_arguments(locals())
        if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 0:
            raise ValueError(f"min_rows must be a non-negative integer, got {min_rows!r}")
        self.min_rows = min_rows
        self.deferrable = deferrable

    @cached_property
    def hook(self) -> ConvosoHook:
        return ConvosoHook(convoso_conn_id=self.convoso_conn_id)

    def poke(self, context: Any) -> PokeReturnValue:
        query = self.query()
        try:
            rows = self.hook.count(query)
        except ConvosoTransientError as error:
            self.log.warning("Convoso is not answering yet, will poke again: %s", error)
            return PokeReturnValue(is_done=False)
        finally:
            self.hook.close()  # reschedule mode runs each poke in a new process anyway
        if rows >= self.min_rows:
            self.log.info("Convoso has %d agent rows (needed %d)", rows, self.min_rows)
            return PokeReturnValue(is_done=True, xcom_value=rows)
        self.log.info("Convoso has %d agent rows, waiting for %d", rows, self.min_rows)
        return PokeReturnValue(is_done=False)

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        from airflow_provider_convoso.triggers.agent_performance import AgentPerformanceTrigger

        timeout = float(self.timeout.total_seconds() if isinstance(self.timeout, dt.timedelta) else self.timeout)
        self.defer(
            trigger=AgentPerformanceTrigger(
                convoso_conn_id=self.convoso_conn_id,
                params=self.query().to_params(),
                min_rows=self.min_rows,
                poke_interval=float(
                    self.poke_interval.total_seconds()
                    if isinstance(self.poke_interval, dt.timedelta)
                    else self.poke_interval
                ),
                end_time=time.time() + timeout,
            ),
            method_name="execute_complete",
            timeout=dt.timedelta(seconds=timeout),
        )
        return None  # pragma: no cover - defer() raises

    def execute_complete(self, context: Any, event: dict[str, Any]) -> int:
        """Map the trigger's event to an outcome: the row count, the typed error, or a timeout."""
        status = event.get("status")
        if status == "success":
            self.log.info("%s", event.get("message"))
            return int(event.get("rows", 0))
        if status == "timeout":
            message = f"{self.task_id}: {event.get('message', 'timed out')}"
            if self.soft_fail:
                raise AirflowSkipException(message)
            raise AirflowSensorTimeout(message)
        raise error_from_event(event)


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
