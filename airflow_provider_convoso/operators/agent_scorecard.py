"""AgentScorecardOperator: a range's agents against reference ranges, as one self-contained HTML page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_convoso.compat import BaseOperator, BaseOperatorLink
from airflow_provider_convoso.hooks.convoso import ConvosoHook


class ScorecardLink(BaseOperatorLink):
    """The task instance's scorecard page, served by Airflow behind its own login."""

    name = "Scorecard"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        """Return the scorecard route of this task instance, under Airflow's base URL path.

        :param operator: the scorecard task.
        :param ti_key: the task instance (its key on 2.11, the running instance on Airflow 3).
        :return: a path on Airflow's own server.
        """
        from urllib.parse import urlsplit

        from airflow_provider_convoso.compat import AIRFLOW_V_3_0_PLUS, conf
        from airflow_provider_convoso.endpoints.agent_performance.scorecard import scorecard_url

        section = "api" if AIRFLOW_V_3_0_PLUS else "webserver"
        base = urlsplit(conf.get(section, "base_url", fallback="") or "").path.rstrip("/")
        map_index = getattr(ti_key, "map_index", None)
        index = -1 if map_index is None else map_index
        return base + scorecard_url(ti_key.dag_id, ti_key.run_id, ti_key.task_id, index)


class AgentScorecardOperator(BaseOperator):
    """Write the agent scorecard: every agent of a date range, each metric below, within or
    above its reference range, the team's spread per metric, agents outside a range first.

    The page is one HTML file with inline CSS and SVG and nothing fetched from anywhere, so
    it reads offline and as a mail attachment; every string from the service is escaped.
    The records come from the API (``date_start``/``date_end``, as on
    ``AgentPerformanceOperator``) or, with ``records_path``, from what an
    ``AgentPerformanceOperator`` already wrote (JSONL, JSON or Parquet), with no API call.
    The result (XCom) is ``{"path", "output_conn_id", "agents", "outside", "below", "within", "above",
    "unknown", "date_start", "date_end"}``: the verdicts are counted per agent and metric.

    :param output_path: the page: a local path or any object-storage URL (templated).
    :param date_start: the first day, ``YYYY-MM-DD`` or a date (templated).
    :param date_end: the last day (templated); default ``date_start``.
    :param thresholds: metric -> ``[low, high]`` (``talk_pct``, ``human_answered_rate``,
        ``calls_per_hour``, ``avg_talk_minutes``, ``wrap_pct``); the others keep the
        contract's reference benchmarks.
    :param records_path: read the records from this file instead of the API (templated).
    :param records_conn_id: the object store's connection for ``records_path`` (templated).
    :param output_conn_id: the object store's connection for ``output_path`` (templated).
    :param convoso_conn_id: the Convoso connection (templated).
    """

    template_fields: Sequence[str] = (
        "convoso_conn_id",
        "date_start",
        "date_end",
        "output_path",
        "output_conn_id",
        "records_path",
        "records_conn_id",
    )
    operator_extra_links = (ScorecardLink(),)
    ui_color = "#e6f4ea"
    ui_fgcolor = "#1e4620"

    def __init__(
        self,
        *,
        output_path: str,
        date_start: Any = None,
        date_end: Any = None,
        thresholds: Mapping[str, Sequence[float]] | None = None,
        records_path: str | None = None,
        records_conn_id: str | None = None,
        output_conn_id: str | None = None,
        convoso_conn_id: str = ConvosoHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.output_path = output_path
        self.date_start = date_start
        self.date_end = date_end
        self.records_path = records_path
        self.records_conn_id = records_conn_id
        self.output_conn_id = output_conn_id
        self.convoso_conn_id = convoso_conn_id
        self.thresholds = _thresholds(thresholds)  # refused here: no rendering can fix it

    def execute(self, context: Any) -> dict[str, Any]:
        import dataclasses

        from airflow_provider_convoso.compat import object_storage_path
        from airflow_provider_convoso.endpoints.agent_performance.scorecard import render
        from airflow_provider_convoso.endpoints.agent_performance.scoring import outliers, score_agents, summarize
        from airflow_provider_convoso.output import check_output_path, storage_uri, write_atomically
        from airflow_provider_convoso.wire.query import parse_date_range

        start, end = parse_date_range(self.date_start, self.date_end or self.date_start)
        check_output_path(str(self.output_path))
        target = object_storage_path(str(self.output_path), self.output_conn_id or None)
        if self.records_path:
            records = _read_records(object_storage_path(str(self.records_path), self.records_conn_id or None))
        else:
            hook = ConvosoHook(convoso_conn_id=self.convoso_conn_id)
            records = hook.get_agent_performance(date_start=start, date_end=end)
        scores = score_agents(records, self.thresholds)
        shown = "all days" if start is None else start.isoformat()
        if end is not None and end != start:
            shown = f"{shown} to {end.isoformat()}"
        page = render(scores, dataclasses.asdict(self.thresholds), title_range=shown)
        write_atomically(target, page.encode("utf-8"))
        uri = storage_uri(str(self.output_path))
        totals = {"below": 0, "within": 0, "above": 0, "unknown": 0}
        for counts in summarize(scores).values():
            for verdict, count in counts.items():
                totals[verdict] += count
        outside = len(outliers(scores))
        self.log.info("Wrote the scorecard of %d agents (%d outside a range) to %s", len(scores), outside, uri)
        return {
            "path": uri,
            "output_conn_id": self.output_conn_id or None,
            "agents": len(scores),
            "outside": outside,
            **totals,
            "date_start": start.isoformat() if start else None,
            "date_end": end.isoformat() if end else None,
        }


def _thresholds(given: Mapping[str, Sequence[float]] | None) -> Any:
    from airflow_provider_convoso.endpoints.agent_performance.scoring import Thresholds

    if given is None:
        return Thresholds()
    known = set(Thresholds.__dataclass_fields__)
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"unknown thresholds {unknown}; expected some of {sorted(known)}")
    ranges = {}
    for name, bounds in given.items():
        if isinstance(bounds, str) or len(bounds) != 2 or not all(isinstance(b, int | float) for b in bounds):
            raise ValueError(f"thresholds[{name!r}] must be [low, high], got {bounds!r}")
        ranges[name] = (float(bounds[0]), float(bounds[1]))
    return Thresholds(**ranges)


def _read_records(path: Any) -> list[dict[str, Any]]:
    """Records an ``AgentPerformanceOperator`` wrote: JSONL, JSON or Parquet, by extension."""
    import json

    from airflow_provider_convoso.exceptions import ConvosoInputError

    name = str(path.name).lower()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        with path.open("rb") as handle:
            return list(pq.read_table(handle).to_pylist())
    text = path.read_text()
    if name.endswith(".json"):
        return list(json.loads(text))
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    raise ConvosoInputError(f"records_path must end in .jsonl, .json or .parquet, got {path.name!r}")
