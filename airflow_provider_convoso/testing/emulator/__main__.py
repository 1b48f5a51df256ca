"""``python -m airflow_provider_convoso.testing.emulator``: run the emulator from the shell."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading

from airflow_provider_convoso.testing.emulator.contract import ERROR_SHAPES, FAULT_KINDS, SHAPES
from airflow_provider_convoso.testing.emulator.server import ConvosoEmulator, _is_loopback, _split


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted; prints the base URL on the first line."""
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_convoso.testing.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="emulator-token")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--agents", type=int, default=12)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="the emulator's current day")
    parser.add_argument("--shape", choices=SHAPES, default="list")
    parser.add_argument("--error-shape", choices=ERROR_SHAPES, default="contract")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds from a request to its answer")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail (0-1)")
    parser.add_argument("--fault-kinds", action="append", help=f"comma-separated subset of {','.join(FAULT_KINDS)}")
    parser.add_argument("--data-after-requests", type=int, default=0)
    parser.add_argument("--data-after-seconds", type=float, default=0.0)
    parser.add_argument("--accept-json", action="store_true", help="read JSON bodies (the live service does not)")
    parser.add_argument("--timezone", default="UTC", help="the account's time zone (call-log times)")
    parser.add_argument("--calls-per-agent", type=float, default=1.0, help="scales each agent's calls a day")
    parser.add_argument("--changing-requests", type=int, default=0, help="figures move until this request")
    parser.add_argument("--changing-seconds", type=float, default=0.0, help="figures move for this long")
    parser.add_argument("--inconsistent-every", type=int, default=0, help="every Nth agent breaks the relations")
    parser.add_argument(
        "--not-ready-status", type=int, default=200, help="HTTP status of an answer with no rows (peer benchmarks)"
    )
    parser.add_argument("--leads-per-day", type=int, default=400, help="leads last updated on each day")
    parser.add_argument("--lead-days", type=int, default=7, help="days, ending today, the leads were updated on")
    args = parser.parse_args(argv)
    if not _is_loopback(args.host):
        parser.error("the emulator only listens on loopback")
    emulator = ConvosoEmulator(
        token=args.token,
        seed=args.seed,
        agents=args.agents,
        today=args.today,
        host=args.host,
        port=args.port,
        shape=args.shape,
        error_shape=args.error_shape,
        latency=args.latency,
        fault_rate=args.fault_rate,
        fault_kinds=_split(args.fault_kinds) or FAULT_KINDS,
        data_after_requests=args.data_after_requests,
        data_after_seconds=args.data_after_seconds,
        accept_json=args.accept_json,
        not_ready_status=args.not_ready_status,
        changing_requests=args.changing_requests,
        changing_seconds=args.changing_seconds,
        inconsistent_every=args.inconsistent_every,
        timezone=args.timezone,
        calls_per_agent=args.calls_per_agent,
        leads_per_day=args.leads_per_day,
        lead_days=args.lead_days,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with emulator:
        print(emulator.url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
