"""The import map resolves every name on the Airflow line under test, from the right module."""

from __future__ import annotations

import asyncio
import json
import warnings

import pytest

from airflow_provider_convoso import compat


@pytest.mark.parametrize("name", sorted(compat._SOURCES))
def test_every_name_resolves_on_this_line(name: str) -> None:
    if name in ("Asset", "AssetAlias") and not compat.AIRFLOW_V_3_0_PLUS:
        with pytest.raises(ImportError, match=name):
            compat._resolve(name)
        return
    value = getattr(compat, name)
    assert value is not None
    assert getattr(compat, name) is value  # resolved once, then kept


def test_each_name_comes_from_the_first_module_that_has_it() -> None:
    version = tuple(int(part) for part in compat.AIRFLOW_VERSION.split(".")[:2])
    expected_hook = "airflow.sdk." if version >= (3, 1) else "airflow.hooks.base"
    assert compat.BaseHook.__module__.startswith(expected_hook)
    if version >= (3, 2):
        assert compat.AirflowFailException.__module__ == "airflow.sdk.exceptions"
    else:
        assert compat.AirflowFailException.__module__ == "airflow.exceptions"


def test_no_deprecation_warning_from_the_names_it_imports() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for name in compat._SOURCES:
            if name in ("Asset", "AssetAlias") and not compat.AIRFLOW_V_3_0_PLUS:
                continue
            compat._resolve(name)


def test_resolve_falls_through_missing_modules_and_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(compat._SOURCES, "dumps", ("no_such_module_here", "os", "json"))
    assert compat._resolve("dumps") is json.dumps
    monkeypatch.setitem(compat._SOURCES, "nowhere", ("no_such_module_here", "json"))
    with pytest.raises(ImportError, match=r"no_such_module_here \(not installed\), json"):
        compat._resolve("nowhere")


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        compat.NotAName  # noqa: B018


def test_aget_connection_works_on_this_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """3.1+ use BaseHook.aget_connection; 3.0 and 2.11 run the blocking lookup in a thread."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_COMPAT_PROBE",
        json.dumps({"conn_type": "convoso", "host": "http://127.0.0.1:9", "password": "probe-token"}),
    )
    conn = asyncio.run(compat.aget_connection("compat_probe"))
    assert conn.host == "http://127.0.0.1:9"
    assert conn.password == "probe-token"
    uses_native = hasattr(compat.BaseHook, "aget_connection")
    version = tuple(int(part) for part in compat.AIRFLOW_VERSION.split(".")[:2])
    assert uses_native == (version >= (3, 1))
