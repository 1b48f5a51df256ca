"""Test helpers shipped with the provider: a Convoso emulator on loopback.

Use it in your own DAG tests::

    from airflow_provider_convoso.testing import ConvosoEmulator

    with ConvosoEmulator(token="test-token") as emulator:
        os.environ["AIRFLOW_CONN_CONVOSO_DEFAULT"] = emulator.connection_json()
        ...
"""

from __future__ import annotations

from typing import Any

__all__ = ["FAULT_KINDS", "ConvosoEmulator", "RequestRecord"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so ``python -m airflow_provider_convoso.testing.emulator``
    # does not find its own module already imported by the package.
    if name in __all__:
        from airflow_provider_convoso.testing import emulator

        return getattr(emulator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
