"""LookupTableOperator: a whole lookup table (users, campaigns, lists, statuses) each run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from airflow_provider_convoso.compat import BaseOperator
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.operators._output import DEFAULT_MAX_XCOM_BYTES, RecordsOutput

#: The tables (their schemas: ``endpoints.lookups.SCHEMAS``).
LOOKUP_TABLES = ("users", "campaigns", "lists", "statuses")


class LookupTableOperator(RecordsOutput, BaseOperator):
    """Load a whole Convoso lookup table, to XCom or to object storage.

    Small tables with no time filter: each run reloads the table in full (users page by
    page; lists asks for the active and the inactive ones and merges them). Every id is a
    string, so the tables join with call-log and productivity ids. With ``output_path``
    the records are written atomically as JSONL, JSON, CSV or Parquet and a summary goes
    to XCom: ``{"path", "format", "rows", "bytes", "table", "digest"}``.

    :param table: ``"users"``, ``"campaigns"``, ``"lists"`` or ``"statuses"`` (templated).
    :param convoso_conn_id: the Convoso connection (templated).
    :param user: users only: search terms matched against email, first or last name
        (templated); ``None`` asks for every user.
    :param query: statuses only: abbreviation or name to match (templated); ``None`` asks for all.
    :param output_path: where to write, any scheme ``ObjectStoragePath`` knows (templated).
    :param output_conn_id: the object store's connection (templated).
    :param output_format: ``jsonl``, ``json``, ``csv`` or ``parquet``; default from the extension.
    :param max_xcom_bytes: the largest serialised list returned to XCom.
    :param csv_escape_formulas: prefix ``'`` to CSV text cells a spreadsheet would run.
    """

    template_fields: Sequence[str] = (
        "convoso_conn_id",
        "table",
        "user",
        "query",
        "output_path",
        "output_conn_id",
        "output_format",
    )
    ui_color = "#ffe3d1"
    ui_fgcolor = "#7a2e00"
    lineage_name: ClassVar[str] = "lookups"

    def __init__(
        self,
        *,
        table: str,
        convoso_conn_id: str = ConvosoHook.default_conn_name,
        user: str | None = None,
        query: str | None = None,
        output_path: str | None = None,
        output_conn_id: str | None = None,
        output_format: str | None = None,
        max_xcom_bytes: int = DEFAULT_MAX_XCOM_BYTES,
        csv_escape_formulas: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.table = table
        self.convoso_conn_id = convoso_conn_id
        self.user = user
        self.query = query
        self._keep_output(output_path, output_conn_id, output_format, max_xcom_bytes, csv_escape_formulas)
        if "{{" not in str(table) and table not in LOOKUP_TABLES:
            raise ValueError(f"table must be one of {', '.join(LOOKUP_TABLES)}, got {table!r}")

    def execute(self, context: Any) -> Any:
        return self._stoppable(self._extract_all, context)

    def _extract_all(self, context: Any) -> Any:
        from airflow_provider_convoso.endpoints.lookups import SCHEMAS
        from airflow_provider_convoso.output import resolve_format

        fmt = resolve_format(self.output_format, self.output_path)
        path = self._storage_path() if self.output_path else None
        hook = ConvosoHook(convoso_conn_id=self.convoso_conn_id)
        try:
            records = hook.get_lookup(self.table, user=self.user, query=self.query)
        finally:
            hook.close()
        self.log.info("Convoso %s: %d records", self.table, len(records))
        if path is None:
            return self._to_xcom(records)
        summary = self._write_output(
            context,
            path,
            lambda: iter(records),
            fmt,
            columns=SCHEMAS[self.table].column_names,
            kinds=SCHEMAS[self.table].kinds,
            what=self.table,
        )
        return {**summary, "table": self.table}
