"""A Convoso API emulator: a real HTTP server on loopback serving agent performance, call
logs, agent productivity and the lookup tables, all derived from one synthetic account.

It follows the contract and what the live service does beyond it. It reads a request as
the PHP service does: form bodies and the query string (a JSON body is not read, so its
token is never seen; ``accept_json=True`` restores the contract's JSON example); three
success shapes (numbers as strings in the keyed one); both error shapes; the four
date-range cases; and switchable faults (429 with ``Retry-After``, HTML 5xx pages,
slow answers and timeouts, connection resets, truncated bodies), latency, data that
appears only after N requests or T seconds, figures that keep changing for a while, and
records that break the contract's relations. Data is synthetic and deterministic per seed.

Run it from the shell with ``python -m airflow_provider_convoso.testing.emulator --port N``.
"""

from __future__ import annotations

from airflow_provider_convoso.testing.emulator.contract import FAULT_KINDS
from airflow_provider_convoso.testing.emulator.server import ConvosoEmulator, RequestRecord, emulator_process

__all__ = ["FAULT_KINDS", "ConvosoEmulator", "RequestRecord", "emulator_process"]
