"""AgentProductivityOperator: agents' state changes for account-local days, to XCom or storage."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from airflow_provider_convoso.compat import BaseOperator
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.operators._output import DEFAULT_MAX_XCOM_BYTES, RecordsOutput

#: Every documented field, then what typing adds: CSV and Parquet columns in this order
#: (a field outside them gets a column of its own, after these, sorted).


class AgentProductivityOperator(RecordsOutput, BaseOperator):
    """Pull agents' state changes (login, ready, pause, logout) from ``agent-productivity/search``.

    One request set per account-local day of ``[date_start, date_end]`` (or ``date``),
    paged by 1,000 and split by campaign past the 50,000 offset cap; each event ``id``
    once. ``event_time`` is the aware UTC instant of ``event_epoch`` (the only absolute
    time); ``created_at`` stays the account-local text; ``event_sec`` stays as sent beside
    ``event_seconds``; ``state_normalized`` is ``state`` upper-cased, since its spelling
    differs by source. With ``output_path`` the summary is ``{"path", "format", "rows",
    "bytes", "days", "totals", "pages", "split", "duplicates_dropped", "digest"}``.

    :param date: one account-local day (templated); or ``date_start`` and ``date_end``.
    :param campaign_id: one campaign id (templated).
    :param agent_emails: comma-separated login emails (templated).
    :param output_path: where to write (templated); without it the events go to XCom.
    :param output_conn_id: the object store's connection (templated).
    :param output_format: ``jsonl``, ``json``, ``csv`` or ``parquet``; default from the extension.
    :param max_xcom_bytes: the largest serialised list returned to XCom.
    """

    template_fields: Sequence[str] = (
        "convoso_conn_id",
        "date",
        "date_start",
        "date_end",
        "campaign_id",
        "agent_emails",
        "output_path",
        "output_conn_id",
        "output_format",
    )
    ui_color = "#ffe3d1"
    ui_fgcolor = "#7a2e00"
    lineage_name: ClassVar[str] = "agent-productivity"

    def __init__(
        self,
        *,
        convoso_conn_id: str = ConvosoHook.default_conn_name,
        date: Any = None,
        date_start: Any = None,
        date_end: Any = None,
        campaign_id: Any = None,
        agent_emails: Any = None,
        output_path: str | None = None,
        output_conn_id: str | None = None,
        output_format: str | None = None,
        max_xcom_bytes: int = DEFAULT_MAX_XCOM_BYTES,
        csv_escape_formulas: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.convoso_conn_id = convoso_conn_id
        self.date = date
        self.date_start = date_start
        self.date_end = date_end
        self.campaign_id = campaign_id
        self.agent_emails = agent_emails
        self._keep_output(output_path, output_conn_id, output_format, max_xcom_bytes, csv_escape_formulas)
        if date is not None and (date_start is not None or date_end is not None):
            raise ValueError("give date, or date_start and date_end, not both")

    def days(self) -> list[Any]:
        """Return the account-local days to load, checked.

        :return: the dates, in order.
        """
        from airflow_provider_convoso.endpoints.agent_productivity import AgentProductivityQuery
        from airflow_provider_convoso.exceptions import ConvosoInputError

        start, end = (self.date, self.date) if self.date is not None else (self.date_start, self.date_end)
        if start is None or end is None:
            raise ConvosoInputError("AgentProductivityOperator needs date, or both date_start and date_end")
        # The filters are checked too, before any request.
        query = AgentProductivityQuery.from_inputs(
            date_start=start, date_end=end, campaign_id=self.campaign_id, agent_emails=self.agent_emails
        )
        return query.days()

    def execute(self, context: Any) -> Any:
        return self._stoppable(self._extract_all, context)

    def _extract_all(self, context: Any) -> Any:
        from airflow_provider_convoso.endpoints.agent_productivity import TABLE
        from airflow_provider_convoso.output import resolve_format

        fmt = resolve_format(self.output_format, self.output_path)
        path = self._storage_path() if self.output_path else None
        days = self.days()
        hook = ConvosoHook(convoso_conn_id=self.convoso_conn_id)
        stats: dict[str, Any] = {}

        def events() -> Iterator[dict[str, Any]]:
            stats.clear()
            for day in days:
                yield from hook.iter_agent_productivity(
                    day, campaign_id=self.campaign_id, agent_emails=self.agent_emails, stats=stats
                )

        try:
            if path is None:
                return self._to_xcom(list(events()))
            summary = self._write_output(
                context,
                path,
                events,
                fmt,
                columns=TABLE.column_names,
                kinds=TABLE.kinds,
                what="agent-productivity events",
            )
        finally:
            hook.close()
        return {
            **summary,
            "days": [day.isoformat() for day in days],
            "totals": stats.get("totals", []),
            "pages": stats.get("pages", 0),
            "split": bool(stats.get("split")),
            "duplicates_dropped": stats.get("duplicates_dropped", 0),
        }
