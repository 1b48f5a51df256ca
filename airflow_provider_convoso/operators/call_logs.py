"""CallLogsOperator: every call of a window of account-local time, to XCom or object storage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_convoso.compat import BaseOperator
from airflow_provider_convoso.endpoints.call_logs import FILTERS as CALL_LOG_FILTERS
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.operators._output import DEFAULT_MAX_XCOM_BYTES, RecordsOutput
from airflow_provider_convoso.settings import clamp_concurrency

if TYPE_CHECKING:
    from airflow_provider_convoso.endpoints.call_logs.query import CallLogsQuery


class CallWindow:
    """A window of account-local call time and the call-log filters, kept by an operator that
    reads call logs (``CallLogsOperator``, ``CallRecordingsOperator``)."""

    date: Any
    start_time: Any
    end_time: Any
    lookback: dt.timedelta | float | None
    include_recordings: bool
    max_concurrency: int

    def _keep_window(
        self,
        date: Any,
        start_time: Any,
        end_time: Any,
        lookback: dt.timedelta | float | None,
        filters: dict[str, Any],
        max_concurrency: int,
    ) -> None:
        """Keep the window arguments, refusing what no rendering can fix."""
        self.date = date
        self.start_time = start_time
        self.end_time = end_time
        for name, value in filters.items():
            setattr(self, name, value)
        self.lookback = lookback
        self.max_concurrency = max_concurrency
        if date is not None and (start_time is not None or end_time is not None):
            raise ValueError("give date, or start_time and end_time, not both")
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ValueError(f"max_concurrency must be a positive integer, got {max_concurrency!r}")
        seconds = lookback.total_seconds() if isinstance(lookback, dt.timedelta) else lookback
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0):
            raise ValueError(f"lookback must be a non-negative timedelta or number of seconds, got {lookback!r}")

    def query(self, timezone: str) -> CallLogsQuery:
        """Return the first page's query: the window (lookback applied) and the filters.

        :param timezone: the account's zone.
        :return: the query.
        """
        from airflow_provider_convoso.endpoints.call_logs.query import window_query

        return window_query(
            date=self.date,
            start_time=self.start_time,
            end_time=self.end_time,
            lookback=self.lookback,
            timezone=timezone,
            include_recordings=self.include_recordings,
            filters={name: getattr(self, name) for name in CALL_LOG_FILTERS},
        )


class CallLogsOperator(CallWindow, RecordsOutput, BaseOperator):
    """Pull every call of a window from Convoso's call logs (``log/retrieve``).

    The window is a local day of the account (``date``, in the connection's ``timezone``)
    or ``start_time``/``end_time``: aware datetimes (a data interval) are converted into
    the account's zone, strings ``YYYY-MM-DD HH:MM:SS`` are taken as account-local.
    ``lookback`` moves the start earlier, to pick up rows that changed or arrived late.
    The hook pages oldest first, halves a window with more rows than one filter set can
    reach, dedupes by ``id`` and re-reads a window that comes up short; the pages go
    through a spool on disk, so memory does not grow with the day.

    Records keep the service's fields, typed: ids as strings, ``call_length`` and
    ``called_count`` as integers, ``queue_seconds`` as a float, ``call_date`` as the
    account-local text; ``is_system_user`` marks the dialer's pseudo-agents (666666,
    666667, 666671), which are kept. With ``output_path`` the summary is ``{"path",
    "format", "rows", "bytes", "start_time", "end_time", "windows", "pages",
    "duplicates_dropped", "digest"}``.

    :param date: an account-local day, ``YYYY-MM-DD`` or a date (templated); or give
        ``start_time`` and ``end_time`` (templated).
    :param lookback: how much earlier than the window's start to begin (``timedelta`` or seconds).
    :param include_recordings: ask for each call's recordings (a list per record).
    :param max_concurrency: pages in flight at once (at most 32).
    :param output_path: where to write (templated); without it the records go to XCom.
    :param output_conn_id: the object store's connection (templated).
    :param output_format: ``jsonl``, ``json``, ``csv`` or ``parquet``; default from the extension.
    :param max_xcom_bytes: the largest serialised list returned to XCom.
    :param csv_escape_formulas: prefix ``'`` to CSV text cells a spreadsheet would run.

    The filters ``id``, ``lead_id``, ``list_id``, ``campaign_id``, ``queue_id``,
    ``user_id``, ``status``, ``phone_number``, ``number_dialed``, ``first_name``,
    ``last_name``, ``called_count`` and ``call_type`` take one value each (templated).
    """

    template_fields: Sequence[str] = (
        "convoso_conn_id",
        "date",
        "start_time",
        "end_time",
        *CALL_LOG_FILTERS,
        "output_path",
        "output_conn_id",
        "output_format",
    )
    ui_color = "#ffe3d1"
    ui_fgcolor = "#7a2e00"
    lineage_name: ClassVar[str] = "call-logs"

    def __init__(
        self,
        *,
        convoso_conn_id: str = ConvosoHook.default_conn_name,
        date: Any = None,
        start_time: Any = None,
        end_time: Any = None,
        lookback: dt.timedelta | float | None = None,
        include_recordings: bool = False,
        max_concurrency: int = 4,
        output_path: str | None = None,
        output_conn_id: str | None = None,
        output_format: str | None = None,
        max_xcom_bytes: int = DEFAULT_MAX_XCOM_BYTES,
        csv_escape_formulas: bool = False,
        **kwargs: Any,
    ) -> None:
        filters = {name: kwargs.pop(name, None) for name in CALL_LOG_FILTERS}
        super().__init__(**kwargs)
        self.convoso_conn_id = convoso_conn_id
        self.include_recordings = include_recordings
        self._keep_window(date, start_time, end_time, lookback, filters, max_concurrency)
        self._keep_output(output_path, output_conn_id, output_format, max_xcom_bytes, csv_escape_formulas)

    def execute(self, context: Any) -> Any:
        return self._stoppable(self._extract_all, context)

    def _extract_all(self, context: Any) -> Any:
        from airflow_provider_convoso.endpoints.call_logs.records import TABLE, spooled_records
        from airflow_provider_convoso.output import resolve_format
        from airflow_provider_convoso.spool import BodySpool

        fmt = resolve_format(self.output_format, self.output_path)
        path = self._storage_path() if self.output_path else None
        hook = ConvosoHook(convoso_conn_id=self.convoso_conn_id)
        query = self.query(hook.settings.timezone)
        workers = clamp_concurrency(self.max_concurrency, self.log)
        with BodySpool(on_disk=path is not None) as spool:
            stats = hook.read_call_logs(query, spool, max_concurrency=workers)
            self.log.info(
                "Call logs %s - %s: %d pages in %d windows", query.start_time, query.end_time, stats.pages,
                len(stats.windows),
            )  # fmt: skip
            dropped = [0]
            with hook.explained():
                if path is None:
                    return self._to_xcom(list(spooled_records(spool, dropped)))
                summary = self._write_output(
                    context,
                    path,
                    lambda: spooled_records(spool, dropped),
                    fmt,
                    columns=TABLE.column_names,
                    kinds=TABLE.kinds,
                    what="call-log rows",
                )
        return {
            **summary,
            "start_time": query.start_time,
            "end_time": query.end_time,
            "windows": stats.windows,
            "pages": stats.pages,
            "duplicates_dropped": dropped[0],
        }
