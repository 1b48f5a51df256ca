"""AgentPerformanceOperator: a templated agent-performance extract to XCom or object storage."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_convoso.compat import BaseOperator
from airflow_provider_convoso.endpoints.agent_performance import AgentPerformanceQuery
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.operators._output import DEFAULT_MAX_XCOM_BYTES, RecordsOutput, XComSize
from airflow_provider_convoso.settings import clamp_concurrency
from airflow_provider_convoso.wire.query import QueryArguments

if TYPE_CHECKING:
    from airflow_provider_convoso.background import BackgroundLoop
    from airflow_provider_convoso.endpoints.agent_performance.inspection import Inspection
    from airflow_provider_convoso.spool import BodySpool

_STOP_WAIT_S = 30.0


class AgentPerformanceOperator(QueryArguments, RecordsOutput, BaseOperator):
    """Pull agent performance from Convoso and return it, or write it to object storage.

    With no ``output_path`` the typed records go to XCom (guarded by ``max_xcom_bytes``).
    With one, they are written atomically through ``ObjectStoragePath`` as JSONL, JSON,
    CSV or Parquet, and a small summary goes to XCom. ``split_by_day`` fetches each day of
    ``[date_start, date_end]`` separately, ``max_concurrency`` at a time, and adds ``date``.

    :param convoso_conn_id: the Convoso connection (token in the password).
    :param date_start: first day, ``YYYY-MM-DD``/date/datetime (templated).
    :param date_end: last day, same forms (templated).
    :param campaign_ids: filter: int, ``"1,2"``, or a list (templated); likewise
        ``list_ids``, ``queue_ids``, ``user_ids`` and ``status_ids``.
    :param output_path: where to write, any scheme ``ObjectStoragePath`` knows (templated).
    :param output_conn_id: the object store's connection (templated).
    :param output_format: ``jsonl``, ``json``, ``csv`` or ``parquet``; default from the extension.
    :param split_by_day: one request per calendar day.
    :param max_concurrency: most requests in flight at once with ``split_by_day`` (at most
        32; more is lowered to 32 with a WARNING).
    :param normalize: typed records (``False`` returns them exactly as the API sent them).
    :param max_xcom_bytes: the largest serialised list returned to XCom.
    :param csv_escape_formulas: prefix ``'`` to CSV text cells starting with ``=``, ``+``,
        ``-``, ``@``, tab or CR, so a spreadsheet shows them instead of running them.
    :param quality_checks: ``"warn"`` (default): check every record against the contract's
        rules (:mod:`~airflow_provider_convoso.endpoints.agent_performance.quality`), log a WARNING
        per broken rule and add
        a ``quality`` member to the summary; ``"fail"``: fail the task instead, before anything
        is written (advisory rules only warn); ``"off"``: skip the checks.
    :param quality_tolerances: per-rule tolerance overrides, e.g.
        ``{"time_parts_sum_to_total": 30}`` (seconds) or ``{"talk_sec_pt_of_total": 0.5}`` (points).
    """

    query_type = AgentPerformanceQuery
    lineage_name: ClassVar[str] = "agent-performance"
    template_fields: Sequence[str] = (
        "convoso_conn_id",
        *AgentPerformanceQuery.argument_names(),
        "output_path",
        "output_conn_id",
        "output_format",
    )
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
        output_path: str | None = None,
        output_conn_id: str | None = None,
        output_format: str | None = None,
        split_by_day: bool = False,
        max_concurrency: int = 4,
        normalize: bool = True,
        max_xcom_bytes: int = DEFAULT_MAX_XCOM_BYTES,
        csv_escape_formulas: bool = False,
        quality_checks: str = "warn",
        quality_tolerances: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.convoso_conn_id = convoso_conn_id
        self._keep_arguments(locals())
        self._keep_output(output_path, output_conn_id, output_format, max_xcom_bytes, csv_escape_formulas)
        self.split_by_day = split_by_day
        self.max_concurrency = max_concurrency
        self.normalize = normalize
        self.quality_checks = quality_checks
        self.quality_tolerances = quality_tolerances
        self._written: str | None = None
        if quality_checks not in ("off", "warn", "fail"):  # quality.MODES, without importing it at parse time
            raise ValueError(f"quality_checks must be one of off, warn, fail, got {quality_checks!r}")
        if not isinstance(max_concurrency, int) or isinstance(max_concurrency, bool) or max_concurrency < 1:
            raise ValueError(f"max_concurrency must be a positive integer, got {max_concurrency!r}")

    # -- execution ---------------------------------------------------------------------

    def execute(self, context: Any) -> Any:
        return self._stoppable(self._extract_all, context)

    def _extract_all(self, context: Any) -> Any:
        from airflow_provider_convoso.output import resolve_format
        from airflow_provider_convoso.spool import BodySpool

        query = self.query()
        fmt = resolve_format(self.output_format, self.output_path)
        days = query.by_day() if self.split_by_day else []
        path = self._storage_path() if self.output_path else None
        if not self.split_by_day:
            return self._extract(context, path, fmt, query, None, [])
        with BodySpool(on_disk=path is not None) as spool:  # XCom results are small by definition
            return self._extract(context, path, fmt, query, spool, days)

    def _extract(
        self,
        context: Any,
        path: Any,
        fmt: str,
        query: AgentPerformanceQuery,
        spool: BodySpool | None,
        days: list[AgentPerformanceQuery],
    ) -> Any:
        """Fetch, then return or write the rows; with ``split_by_day``, the days are fetched
        into ``spool`` in the background and typed, checked and written here as they arrive."""
        from airflow_provider_convoso.endpoints.agent_performance.backfill import arriving
        from airflow_provider_convoso.endpoints.agent_performance.inspection import Inspection
        from airflow_provider_convoso.endpoints.agent_performance.reading import iter_records, warn_on_total
        from airflow_provider_convoso.endpoints.agent_performance.records import COLUMNS, KINDS
        from airflow_provider_convoso.output import storage_uri, write_records

        params = query.to_params()
        inspection = Inspection(self.quality_checks, self.quality_tolerances, typed=self.normalize, log=self.log)
        hook = ConvosoHook(convoso_conn_id=self.convoso_conn_id)
        fetching: BackgroundLoop | None = None
        try:
            if spool is None and path is None:
                return self._checked_for_xcom(hook.fetch(query, normalize=self.normalize), inspection)
            if spool is None:
                single = [(None, hook.fetch_content(query))]
            else:
                fetching = self._fetch_by_day(hook, days, spool)
            totals: list[int | None] = []

            def bodies() -> Iterable[tuple[str | None, bytes]]:
                return single if spool is None else arriving(spool, days, self.log)

            def day_records(day: str | None, body: bytes) -> Iterator[dict[str, Any]]:
                envelope: dict[str, Any] = {}
                rows = 0
                for record in iter_records(body, params, normalize=self.normalize, envelope=envelope):
                    rows += 1
                    yield record if day is None else {"date": day, **record}
                totals.append(warn_on_total(envelope, rows))

            def records() -> Iterator[dict[str, Any]]:
                totals.clear()
                for day, body in bodies():
                    yield from day_records(day, body)

            if path is None:  # split_by_day to XCom: each day checked and measured as it arrives
                rows: list[dict[str, Any]] = []
                measured = XComSize()
                with hook.explained():
                    inspection.start()
                    for day, body in bodies():
                        batch = list(day_records(day, body))
                        inspection.batch(batch, None)
                        measured.add(batch)
                        rows += batch
                    inspection.done()
                return self._to_xcom(rows, measured)
            with hook.explained():
                written, size = write_records(
                    path,
                    records,
                    fmt,
                    columns=COLUMNS,
                    kinds=KINDS,
                    extra_first=("date",) if self.split_by_day else (),
                    normalized=self.normalize,
                    csv_escape_formulas=self.csv_escape_formulas,
                    observe=inspection,
                )
        except BaseException:
            if fetching is not None:
                fetching.stop(_STOP_WAIT_S)  # the days not fetched yet are not wanted
            raise
        finally:
            # Every day is in: the fetching thread is closing its client, which it finishes.
            if fetching is not None and not fetching.stop(_STOP_WAIT_S, cancel=False):
                self.log.warning("The backfill's fetching thread did not stop within %.0fs", _STOP_WAIT_S)
            hook.close()
        uri = storage_uri(str(self.output_path))
        self.log.info("Wrote %d agent rows (%d bytes, %s) to %s", written, size, fmt, uri)
        self._wrote(context, uri)
        summary: dict[str, Any] = {
            "path": uri,
            "format": fmt,
            "rows": written,
            "bytes": size,
            "date_start": params.get("date_start"),
            "date_end": params.get("date_end"),
            **inspection.summary(),
        }
        if totals and all(total is not None for total in totals):
            summary["total_reported"] = sum(total for total in totals if total is not None)
        return summary

    def _fetch_by_day(self, hook: ConvosoHook, days: list[AgentPerformanceQuery], spool: BodySpool) -> BackgroundLoop:
        """Start fetching each day's answer into ``spool``: one request per day, at most
        ``max_concurrency`` in flight, from one event loop on the hook's async client in a
        worker thread. Only the answers in flight are in memory.

        :return: the running fetch, for :meth:`BackgroundLoop.stop`.
        """
        from airflow_provider_convoso.background import BackgroundLoop

        workers = clamp_concurrency(self.max_concurrency, self.log)
        hook.settings  # noqa: B018 -- the connection is looked up in the task's thread, where Airflow serves it
        return BackgroundLoop(
            lambda: _afetch_by_day(hook, days, spool, workers), name="convoso-backfill", on_exit=spool.end
        ).start()

    def _checked_for_xcom(self, records: list[dict[str, Any]], inspection: Inspection) -> list[dict[str, Any]]:
        inspection.inspect(records)
        return self._to_xcom(records)


async def _afetch_by_day(hook: ConvosoHook, days: list[AgentPerformanceQuery], spool: BodySpool, workers: int) -> None:
    from airflow_provider_convoso.endpoints.agent_performance.backfill import fetch_by_day

    async with hook:  # one client for every day, closed however the backfill ends
        await fetch_by_day(hook.afetch_content, days, spool, workers)
