"""Test helpers shipped with the provider: a Convoso emulator on loopback.

Use it in your own DAG tests::

    from airflow_provider_convoso.testing import ConvosoEmulator

    with ConvosoEmulator(token="test-token") as emulator:
        os.environ["AIRFLOW_CONN_CONVOSO_DEFAULT"] = emulator.connection_json()
        ...
        rows = read_output(path.read_bytes(), "parquet")  # what the operator wrote
"""

from __future__ import annotations

from typing import Any

__all__ = ["FAULT_KINDS", "ConvosoEmulator", "RequestRecord", "emulator_process", "peak_memory", "read_output"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so ``python -m airflow_provider_convoso.testing.emulator``
    # does not find its own module already imported by the package.
    if name == "read_output":
        from airflow_provider_convoso.testing.outputs import read_output

        return read_output
    if name == "peak_memory":
        from airflow_provider_convoso.testing.memory import peak_memory

        return peak_memory
    if name in __all__:
        from airflow_provider_convoso.testing import emulator

        return getattr(emulator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
