"""Test helpers shipped with the provider: a Convoso emulator on loopback.

Use it in your own DAG tests::

    from airflow_provider_convoso.testing import ConvosoEmulator

    with ConvosoEmulator(token="test-token") as emulator:
        os.environ["AIRFLOW_CONN_CONVOSO_DEFAULT"] = emulator.connection_json()
        ...
        rows = read_output(path.read_bytes(), "parquet")  # what the operator wrote
"""

from __future__ import annotations

from airflow_provider_convoso.testing.emulator import FAULT_KINDS, ConvosoEmulator, RequestRecord, emulator_process
from airflow_provider_convoso.testing.memory import peak_memory
from airflow_provider_convoso.testing.outputs import read_output

__all__ = ["FAULT_KINDS", "ConvosoEmulator", "RequestRecord", "emulator_process", "peak_memory", "read_output"]
