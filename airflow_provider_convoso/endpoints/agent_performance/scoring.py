"""Score agents against the contract's reference performance thresholds.

Pure: no Airflow import. Works on typed records (as the hook or operator returns them).
This is the contract's "Quality Monitoring" and "Team Benchmarking" use case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from airflow_provider_convoso.endpoints.agent_performance.records import parse_duration

Verdict = Literal["below", "within", "above"]
#: Metric name -> (label, unit) for tables.
METRICS: dict[str, tuple[str, str]] = {
    "talk_pct": ("Talk %", "%"),
    "human_answered_rate": ("Human answered %", "%"),
    "calls_per_hour": ("Calls/hour", ""),
    "avg_talk_minutes": ("Avg talk (min)", "min"),
    "wrap_pct": ("Wrap-up %", "%"),
}


@dataclass(frozen=True)
class Thresholds:
    """Inclusive (low, high) ranges; the defaults are the contract's reference benchmarks."""

    talk_pct: tuple[float, float] = (50.0, 70.0)
    human_answered_rate: tuple[float, float] = (60.0, 80.0)
    calls_per_hour: tuple[float, float] = (6.0, 12.0)
    avg_talk_minutes: tuple[float, float] = (3.0, 8.0)
    wrap_pct: tuple[float, float] = (5.0, 15.0)

    def __post_init__(self) -> None:
        for name, (low, high) in asdict(self).items():
            if low > high:
                raise ValueError(f"threshold {name} has low {low} above high {high}")


def _ratio(numerator: float | None, denominator: float | None, scale: float = 1.0) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator * scale


def _seconds(record: Mapping[str, Any], field: str, companion: str) -> int | None:
    if isinstance(record.get(companion), int):
        return int(record[companion])
    value = record.get(field)
    return parse_duration(value, field) if isinstance(value, str) else None


def derive_metrics(record: Mapping[str, Any]) -> dict[str, float | None]:
    """``calls_per_hour``, ``human_answered_rate`` (%) and ``avg_talk_seconds`` (per call).

    Each is ``None`` when its denominator is zero or missing; never an exception.
    """
    calls = record.get("calls")
    calls = calls if isinstance(calls, int | float) and not isinstance(calls, bool) else None
    human = record.get("human_answered")
    human = human if isinstance(human, int | float) and not isinstance(human, bool) else None
    total = _seconds(record, "total_time", "total_seconds")
    talk = _seconds(record, "talk_sec", "talk_seconds")
    return {
        "calls_per_hour": _ratio(calls, total, 3600.0),
        "human_answered_rate": _ratio(human, calls, 100.0),
        "avg_talk_seconds": _ratio(talk, calls),
    }


def _verdict(value: float | None, bounds: tuple[float, float]) -> Verdict | None:
    if value is None:
        return None
    low, high = bounds
    return "below" if value < low else "above" if value > high else "within"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def score_agent(record: Mapping[str, Any], thresholds: Thresholds | None = None) -> dict[str, Any]:
    """One agent's metric values and whether each falls below, within or above its range."""
    limits = thresholds or Thresholds()
    derived = derive_metrics(record)
    avg_talk = derived["avg_talk_seconds"]
    values: dict[str, float | None] = {
        "talk_pct": _number(record.get("talk_sec_pt")),
        "human_answered_rate": derived["human_answered_rate"],
        "calls_per_hour": derived["calls_per_hour"],
        "avg_talk_minutes": None if avg_talk is None else avg_talk / 60.0,
        "wrap_pct": _number(record.get("wrap_sec_pt")),
    }
    return {
        "user_id": record.get("user_id"),
        "name": record.get("name"),
        "metrics": {
            name: {"value": value, "range": getattr(limits, name), "verdict": _verdict(value, getattr(limits, name))}
            for name, value in values.items()
        },
    }


def score_agents(records: Iterable[Mapping[str, Any]], thresholds: Thresholds | None = None) -> list[dict[str, Any]]:
    """Scores for every record, in input order."""
    return [score_agent(record, thresholds) for record in records]


def summarize(scores: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Per metric, how many agents fall below, within and above (``unknown`` when not computable)."""
    summary: dict[str, dict[str, int]] = {name: {"below": 0, "within": 0, "above": 0, "unknown": 0} for name in METRICS}
    for score in scores:
        for name, metric in score["metrics"].items():
            summary[name][metric["verdict"] or "unknown"] += 1
    return summary


def outliers(scores: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Agents with at least one metric outside its range, and which way each one falls."""
    flagged = []
    for score in scores:
        outside = {name: m["verdict"] for name, m in score["metrics"].items() if m["verdict"] in ("below", "above")}
        if outside:
            flagged.append({"user_id": score.get("user_id"), "name": score.get("name"), "outside": outside})
    return flagged


def format_table(scores: Iterable[Mapping[str, Any]]) -> str:
    """A plain-text table: agents by metrics, out-of-range values flagged ``v`` (below) or ``^`` (above)."""
    header = ["Agent", *(label for label, _ in METRICS.values())]
    rows = []
    for score in scores:
        cells = [f"{score.get('name') or '?'} ({score.get('user_id')})"]
        for name in METRICS:
            metric = score["metrics"][name]
            value = metric["value"]
            flag = {"below": " v", "above": " ^"}.get(metric["verdict"] or "", "  ")
            cells.append("n/a  " if value is None else f"{value:6.1f}{flag}")
        rows.append(cells)
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
