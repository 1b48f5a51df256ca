"""A large answer is written without ever sitting in memory as rows.

Peak memory is measured in a fresh interpreter (VmHWM over the RSS just before the write,
after a small warm-up of the same path and a reset of the peak), against the size of a
20,000-agent keyed answer. Decoding that answer whole takes about 6x its size before
anything is written; the streamed path measures 1.0x (JSONL) and 3.4x (Parquet), so the
bounds below leave room for allocator noise and still catch a return to whole decoding.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
from pathlib import Path
from airflow_provider_convoso.compat import object_storage_path
from functools import partial
from airflow_provider_convoso.output import write_records as write_any
from airflow_provider_convoso.endpoints.agent_performance.records import COLUMNS, KINDS
write_records = partial(write_any, columns=COLUMNS, kinds=KINDS)
from airflow_provider_convoso.endpoints.agent_performance.reading import iter_records
from airflow_provider_convoso.testing import peak_memory

fmt, body_path, out = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
body = body_path.read_bytes()
small = json.loads(body)
small["data"] = dict(list(small["data"].items())[:3])
small = json.dumps(small).encode()

target = object_storage_path(out, None)
write_records(target, lambda: iter_records(small), fmt)  # warm-up
(rows, _), peak = peak_memory(lambda: write_records(target, lambda: iter_records(body), fmt))
print(json.dumps({"rows": rows, "peak": peak}))
"""


@pytest.fixture(scope="module")
def large_body(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import datetime as dt

    from airflow_provider_convoso.testing import ConvosoEmulator

    emulator = ConvosoEmulator(agents=20_000, today=dt.date(2026, 3, 3), shape="keyed")
    answer = emulator.answer({"date_start": "2026-03-02", "date_end": "2026-03-02"}, emulator.token)
    path = tmp_path_factory.mktemp("large") / "body.json"
    path.write_bytes(json.dumps(answer).encode())
    return path


@pytest.mark.parametrize(("fmt", "bound"), [("jsonl", 2.0), ("parquet", 4.5)])
def test_streamed_write_peaks_far_below_whole_decoding(
    large_body: Path, tmp_path: Path, fmt: str, bound: float
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, fmt, str(large_body), str(tmp_path / f"agents.{fmt}")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    size = large_body.stat().st_size
    assert figures["rows"] > 15_000
    assert figures["peak"] < bound * size, f"peak {figures['peak'] / size:.2f}x the {size}-byte answer"


BACKFILL_PROBE = """
import json, os, sys
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator
from airflow_provider_convoso.testing import peak_memory

url, out = sys.argv[1], sys.argv[2]
os.environ["AIRFLOW_CONN_CONVOSO_DEFAULT"] = json.dumps(
    {"conn_type": "convoso", "host": url, "password": "emulator-token"}
)

def backfill(**kwargs):
    return AgentPerformanceOperator(
        task_id="backfill", split_by_day=True, max_concurrency=4, output_path=out, **kwargs
    ).execute({})

backfill(date_start="2026-01-01", date_end="2026-01-02", user_ids="10001,10002")  # warm-up
meta, peak = peak_memory(lambda: backfill(date_start="2026-01-01", date_end="2026-02-09"))
print(json.dumps({"rows": meta["rows"], "bytes": meta["bytes"], "peak": peak}))
"""


def test_a_long_backfill_holds_one_day_not_the_range(tmp_path: Path) -> None:
    """40 days of a 3,000-agent account: answers wait on disk, so memory does not grow with the range."""
    from airflow_provider_convoso.testing import emulator_process

    with emulator_process("--agents", "3000", "--today", "2026-03-03", "--shape", "keyed") as url:
        out = subprocess.run(
            [sys.executable, "-c", BACKFILL_PROBE, url, str(tmp_path / "month.jsonl")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["rows"] > 40 * 2500
    # Holding every day's answer in memory until the write peaked at 1.7x the output's size;
    # spooled, it is 0.5x (the answers in flight and one day being written).
    assert figures["peak"] < 0.8 * figures["bytes"], f"peak {figures['peak'] / figures['bytes']:.2f}x the output"
