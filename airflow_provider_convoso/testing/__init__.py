"""Test helpers shipped with the provider: a Convoso emulator on loopback.

Use it in your own DAG tests::

    from airflow_provider_convoso.testing import ConvosoEmulator

    with ConvosoEmulator(token="test-token") as emulator:
        os.environ["AIRFLOW_CONN_CONVOSO_DEFAULT"] = emulator.connection_json()
        ...
"""

from __future__ import annotations

from airflow_provider_convoso.testing.emulator import FAULT_KINDS, ConvosoEmulator, RequestRecord

__all__ = ["FAULT_KINDS", "ConvosoEmulator", "RequestRecord"]
