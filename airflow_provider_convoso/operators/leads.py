"""LeadsOperator: every lead updated inside a window, to XCom or object storage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_convoso.compat import BaseOperator
from airflow_provider_convoso.endpoints.leads import FILTERS as LEAD_FILTERS
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.operators._output import DEFAULT_MAX_XCOM_BYTES, RecordsOutput

if TYPE_CHECKING:
    from airflow_provider_convoso.endpoints.leads.query import LeadsQuery


class LeadsOperator(RecordsOutput, BaseOperator):
    """Export every lead of Convoso's lead table updated inside a window (``leads/search``).

    The window is ``updated_start``/``updated_end`` (aware datetimes, such as a data
    interval, are converted into the connection's ``timezone``; ``YYYY-MM-DD HH:MM:SS``
    strings and naive datetimes are account-local), or ``date`` for one account-local day.
    The export stays complete while leads change under it: pages are asked for from the
    update time the last one ended at (keyset paging on the service's ascending update
    order), so a lead updated mid-read is read at its new place instead of shifting the
    others past a page boundary; each lead is written once, its newest copy.

    Records keep the service's fields, typed: ``id``, ``lead_id`` and the other ids as
    strings, ``called_count`` and ``called_count_inbound`` as integers; ``created_at``,
    ``updated_at`` and ``last_called`` stay account-local text and gain ``*_utc``, the aware
    instant. ``custom_fields`` renames the account's ``field_N`` columns. With
    ``output_path`` the summary is ``{"path", "format", "rows", "bytes", "digest",
    "updated_start", "updated_end", "pages", "re_reads", "duplicates_dropped"}``.

    :param date: an account-local day of changes, ``YYYY-MM-DD`` or a date (templated); or
        give ``updated_start`` and ``updated_end`` (templated, both included).
    :param custom_fields: ``{"field_81": "appointment_at", ...}``; unmapped ``field_N`` columns are kept.
    :param output_path: where to write (templated); without it the records go to XCom.
    :param output_conn_id: the object store's connection (templated).
    :param output_format: ``jsonl``, ``json``, ``csv`` or ``parquet``; default from the extension.
    :param max_xcom_bytes: the largest serialised list returned to XCom.
    :param csv_escape_formulas: prefix ``'`` to CSV text cells a spreadsheet would run.

    The filters ``lead_id``, ``list_id``, ``user_id``, ``owner_id``, ``status``,
    ``created_by``, ``last_modified_by``, ``email``, ``first_name``, ``last_name``,
    ``phone_number``, ``city``, ``state``, ``postal_code`` and ``country`` take one value
    each (templated).
    """

    template_fields: Sequence[str] = (
        "convoso_conn_id",
        "date",
        "updated_start",
        "updated_end",
        *LEAD_FILTERS,
        "output_path",
        "output_conn_id",
        "output_format",
    )
    ui_color = "#e3f1d4"
    ui_fgcolor = "#2f5010"
    lineage_name: ClassVar[str] = "leads"

    def __init__(
        self,
        *,
        convoso_conn_id: str = ConvosoHook.default_conn_name,
        date: Any = None,
        updated_start: Any = None,
        updated_end: Any = None,
        custom_fields: dict[str, str] | None = None,
        output_path: str | None = None,
        output_conn_id: str | None = None,
        output_format: str | None = None,
        max_xcom_bytes: int = DEFAULT_MAX_XCOM_BYTES,
        csv_escape_formulas: bool = False,
        **kwargs: Any,
    ) -> None:
        from airflow_provider_convoso.endpoints.leads.records import check_custom_fields

        filters = {name: kwargs.pop(name, None) for name in LEAD_FILTERS}
        super().__init__(**kwargs)
        self.convoso_conn_id = convoso_conn_id
        self.date = date
        self.updated_start = updated_start
        self.updated_end = updated_end
        for name, value in filters.items():
            setattr(self, name, value)
        self.custom_fields = check_custom_fields(custom_fields)
        self._keep_output(output_path, output_conn_id, output_format, max_xcom_bytes, csv_escape_formulas)
        if date is not None and (updated_start is not None or updated_end is not None):
            raise ValueError("give date, or updated_start and updated_end, not both")

    def query(self, timezone: str) -> LeadsQuery:
        """Return the export's first query: the window in account-local text, and the filters.

        :param timezone: the account's zone.
        :return: the query.
        """
        from airflow_provider_convoso.endpoints.leads.query import LeadsQuery
        from airflow_provider_convoso.exceptions import ConvosoInputError
        from airflow_provider_convoso.wire.local_time import task_window

        window = task_window(self.date, self.updated_start, self.updated_end, timezone)
        if window is None:
            raise ConvosoInputError("LeadsOperator needs date, or both updated_start and updated_end")
        start, end = window
        filters = {name: getattr(self, name) for name in LEAD_FILTERS}
        return LeadsQuery.from_inputs(updated_at_start_date=start, updated_at_end_date=end, **filters)

    def execute(self, context: Any) -> Any:
        return self._stoppable(self._extract_all, context)

    def _extract_all(self, context: Any) -> Any:
        import zoneinfo

        from airflow_provider_convoso.endpoints.leads.records import TABLE, spooled_leads
        from airflow_provider_convoso.output import resolve_format
        from airflow_provider_convoso.spool import BodySpool

        fmt = resolve_format(self.output_format, self.output_path)
        path = self._storage_path() if self.output_path else None
        hook = ConvosoHook(convoso_conn_id=self.convoso_conn_id)
        query = self.query(hook.settings.timezone)
        zone = zoneinfo.ZoneInfo(hook.settings.timezone)
        with BodySpool(on_disk=path is not None) as spool:
            stats = hook.read_leads(query, spool)
            self.log.info(
                "Leads updated %s - %s: %d pages, %d ids, %d crowded seconds re-read",
                query.updated_at_start_date, query.updated_at_end_date, stats.pages, len(stats.last_page),
                stats.re_reads,
            )  # fmt: skip
            dropped = [0]

            def leads() -> Any:
                return spooled_leads(spool, stats.last_page, zone, self.custom_fields, dropped)

            with hook.explained():
                if path is None:
                    return self._to_xcom(list(leads()))
                summary = self._write_output(
                    context, path, leads, fmt, columns=TABLE.column_names, kinds=TABLE.kinds, what="leads"
                )
        return {
            **summary,
            "updated_start": query.updated_at_start_date,
            "updated_end": query.updated_at_end_date,
            "pages": stats.pages,
            "re_reads": stats.re_reads,
            "duplicates_dropped": dropped[0],
        }
