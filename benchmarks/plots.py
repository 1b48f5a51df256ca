"""Draw the scaling curves of a benchmark run: time per unit and peak RSS against size.

python -m benchmarks.plots results.json DIR   # redraw from a saved run

Needs the benchmarks' extras (``requirements/bench.txt``, installed by ``make bench``): matplotlib.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

#: figure id -> (title, unit, what the time axis shows)
_CURVES = {
    "calllogs_scale": ("Call logs: one account-local day", "calls", "µs per call"),
    "leads_scale": ("Leads: one day of changes", "leads", "µs per lead (operator's run)"),
    "triggers_scale": ("Trigger fan-out: triggers in one loop", "triggers", "loop CPU ms per poll"),
}


def draw(results: list[dict[str, Any]], folder: Path) -> list[Path]:
    """Draw one SVG per scaling figure in ``results`` that has points.

    :param results: the ``results`` list of a run (``--json`` output).
    :param folder: where the SVG files go (created).
    :return: the files written.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        if result.get("id") not in _CURVES or not result.get("points"):
            continue
        title, unit, time_label = _CURVES[result["id"]]
        points = result["points"]
        sizes = [point["size"] for point in points]
        figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
        if result["id"] == "triggers_scale":
            left.plot(sizes, [p["loop_cpu_ms_per_poll"] for p in points], "o-", label="AgentPerformanceTrigger")
            peer = result["peer"]
            left.plot([peer["size"]], [peer["loop_cpu_ms_per_poll"]], "s", label="HttpSensorTrigger")
            right.plot(sizes, [p["wall_s"] for p in points], "o-", label="AgentPerformanceTrigger")
            right.plot([peer["size"]], [peer["wall_s"]], "s", label="HttpSensorTrigger")
            right.set_ylabel("wall seconds, all triggers done")
        elif result["id"] == "calllogs_scale":
            left.plot(sizes, [p["us_per_call"] for p in points], "o-", label="read, 8 pages in flight")
            left.plot(sizes, [p["ideal_s"] / p["size"] * 1e6 for p in points], "--", label="ideal read (latency only)")
            left.plot(sizes, [p["operator_us_per_call"] for p in points], "s-", label="operator's whole run")
            right.plot(sizes, [p["peak_rss_mib"] for p in points], "o-", label="operator's peak RSS")
            right.set_ylabel("peak RSS, MiB (Airflow included)")
            right.set_ylim(bottom=0)
        else:
            left.plot(sizes, [p["us_per_lead"] for p in points], "o-", label="operator's whole run")
            right.plot(sizes, [p["peak_rss_mib"] for p in points], "o-", label="this provider")
            right.set_ylabel("peak RSS, MiB (Airflow included)")
            right.set_ylim(bottom=0)
        left.set_ylabel(time_label)
        left.set_ylim(bottom=0)
        for axes in (left, right):
            axes.set_xscale("log")
            axes.set_xlabel(unit)
            axes.grid(True, alpha=0.3)
            axes.legend(fontsize=8)
        figure.suptitle(title)
        path = folder / f"{result['id']}.svg"
        figure.savefig(path, metadata={"Date": None})  # no timestamp: redrawing the same figures changes nothing
        plt.close(figure)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    results = json.loads(Path(args[0]).read_text())["results"]
    for path in draw(results, Path(args[1])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
