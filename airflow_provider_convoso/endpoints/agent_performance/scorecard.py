"""The agent scorecard: one self-contained HTML page of a range's agents against reference ranges.

Pure: no Airflow. Inline CSS and inline SVG only (no script, stylesheet, font or image from
anywhere), so the page reads offline and in a mail client's attachment viewer. Each metric's
verdict is written out (``below``/``within``/``above`` with an arrow), never shown by colour
alone, and every string from the service is HTML-escaped.
"""

from __future__ import annotations

import html
import statistics
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from airflow_provider_convoso.endpoints.agent_performance.scoring import METRICS

#: Where Airflow serves scorecards (the API server on Airflow 3, the webserver on 2.11).
URL_PREFIX = "/convoso"


def scorecard_url(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
    """Return the route of one task instance's scorecard (relative to Airflow's root).

    :param dag_id: the DAG.
    :param run_id: the run.
    :param task_id: the scorecard task.
    :param map_index: the mapped index, ``-1`` when not mapped.
    :return: the path and query.
    """
    parts = "/".join(quote(part, safe="") for part in (dag_id, run_id, task_id))
    return f"{URL_PREFIX}/scorecard/{parts}?map_index={map_index}"


_MARKS = {"below": "▼ below", "within": "● within", "above": "▲ above", None: "&#8211; n/a"}

_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;margin:24px;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
p.meta{color:#57606a;margin:0 0 16px}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border-bottom:1px solid #d0d7de;padding:6px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f6f8fa;font-weight:600}
td.below{background:#fff1e5}td.above{background:#e9f1ff}
td .v{display:block;font-variant-numeric:tabular-nums}td .m{font-size:12px;color:#57606a}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0;flex:1 1 340px;max-width:420px}figcaption{font-weight:600;margin-bottom:4px}
svg{width:100%;height:auto;display:block}
.counts{display:flex;gap:24px;flex-wrap:wrap;margin:8px 0 0}
.counts span{white-space:nowrap}
"""


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}{unit if unit == '%' else ''}"


def _chart(name: str, values: list[float], bounds: tuple[float, float]) -> str:
    """A strip of dots (one per agent) over the metric's scale, the reference range shaded."""
    label, unit = METRICS[name]
    low, high = bounds
    points = [*values, low, high]
    lo, hi = min(points), max(points)
    span = (hi - lo) or 1.0
    lo, hi = lo - span * 0.05, hi + span * 0.05
    width, left, right = 340.0, 10.0, 330.0

    def x(value: float) -> float:
        return left + (value - lo) / (hi - lo) * (right - left)

    dots = "".join(
        f'<circle cx="{x(value):.1f}" cy="{40 + (index % 5) * 6}" r="3.5" fill="#1f6feb" fill-opacity="0.7"/>'
        for index, value in enumerate(values)
    )
    median = (
        f'<line x1="{x(statistics.median(values)):.1f}" x2="{x(statistics.median(values)):.1f}" y1="28" y2="72" '
        'stroke="#1b1f24" stroke-dasharray="3 2"/>'
        if values
        else ""
    )
    summary = f"{len(values)} agents; median {_number(statistics.median(values), unit)}" if values else "no values"
    return (
        f"<figure><figcaption>{html.escape(label)}</figcaption>"
        f'<svg viewBox="0 0 {width:.0f} 100" role="img" aria-label="{html.escape(label)}: {summary}; '
        f'reference range {low:g} to {high:g}">'
        f'<rect x="{x(low):.1f}" y="24" width="{max(x(high) - x(low), 1):.1f}" height="52" fill="#2da44e" '
        'fill-opacity="0.15" stroke="#2da44e"/>'
        f'<line x1="{left}" x2="{right}" y1="80" y2="80" stroke="#57606a"/>'
        f'<text x="{x(low):.1f}" y="94" font-size="10" text-anchor="middle">{low:g}</text>'
        f'<text x="{x(high):.1f}" y="94" font-size="10" text-anchor="middle">{high:g}</text>'
        f'<text x="{x(low):.1f}" y="18" font-size="10">reference {low:g}&#8211;{high:g}</text>'
        f'{median}{dots}</svg><div class="m">{html.escape(summary)}</div></figure>'
    )


def render(
    scores: Sequence[Mapping[str, Any]], thresholds: Mapping[str, tuple[float, float]], *, title_range: str
) -> str:
    """Return the scorecard page of ``scores`` (from :func:`~.scoring.score_agents`).

    Agents outside at least one range come first (most metrics outside first), then the
    rest, each by name. A range without agents gives a page that says there is no data.

    :param scores: one score per agent.
    :param thresholds: metric -> ``(low, high)``, as scored.
    :param title_range: the dates the page covers, as shown (``2026-03-02`` or ``… to …``).
    :return: the HTML document.
    """
    heading = f"Agent scorecard, {html.escape(title_range)}"
    head = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{heading}</title><style>{_STYLE}</style></head><body>"
    )
    if not scores:
        return (
            f'{head}<h1>{heading}</h1><p class="meta">No data for {html.escape(title_range)}: '
            "Convoso reported no agent activity in this range.</p></body></html>\n"
        )

    def outside(score: Mapping[str, Any]) -> int:
        return sum(1 for metric in score["metrics"].values() if metric["verdict"] in ("below", "above"))

    ordered = sorted(scores, key=lambda s: (-outside(s), str(s.get("name") or ""), str(s.get("user_id"))))
    flagged = sum(1 for score in ordered if outside(score))
    counts = dict.fromkeys(("below", "within", "above"), 0)
    for score in ordered:
        for metric in score["metrics"].values():
            if metric["verdict"] in counts:
                counts[metric["verdict"]] += 1
    header = "".join(
        f'<th>{html.escape(label)}<br><span class="m">{thresholds[name][0]:g}&#8211;{thresholds[name][1]:g}</span></th>'
        for name, (label, _) in METRICS.items()
    )
    rows = []
    for score in ordered:
        name_text, user_text = html.escape(str(score.get("name") or "?")), html.escape(str(score.get("user_id")))
        agent = f'{name_text}<br><span class="m">{user_text}</span>'
        cells = []
        for name, (_, unit) in METRICS.items():
            metric = score["metrics"][name]
            verdict = metric["verdict"]
            css = f' class="{verdict}"' if verdict in ("below", "above") else ""
            cells.append(
                f'<td{css}><span class="v">{_number(metric["value"], unit)}</span>'
                f'<span class="m">{_MARKS[verdict]}</span></td>'
            )
        rows.append(f"<tr><td>{agent}</td>{''.join(cells)}</tr>")
    charts = "".join(
        _chart(
            name,
            [s["metrics"][name]["value"] for s in ordered if s["metrics"][name]["value"] is not None],
            thresholds[name],
        )
        for name in METRICS
    )
    summary = (
        f'<div class="counts"><span>{len(ordered)} agents</span><span>{flagged} outside at least one range</span>'
        f"<span>▼ {counts['below']} below</span><span>● {counts['within']} within</span>"
        f"<span>▲ {counts['above']} above</span></div>"
    )
    return (
        f'{head}<h1>{heading}</h1><p class="meta">Each metric against its reference range; agents outside '
        f"a range first.</p>{summary}<h2>Agents</h2><table><thead><tr><th>Agent</th>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table><h2>The team, metric by metric</h2>"
        f'<div class="charts">{charts}</div></body></html>\n'
    )
