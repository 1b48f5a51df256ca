"""Packaging: the provider entry point, schema, CLI listings and import cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points, version
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import airflow_provider_convoso
from airflow_provider_convoso.provider_info import get_provider_info


def _airflow(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_entry_point_resolves_to_provider_info() -> None:
    [entry] = [
        e for e in entry_points(group="apache_airflow_provider") if e.value.startswith("airflow_provider_convoso")
    ]
    assert entry.load() is get_provider_info


def test_provider_info_validates_against_airflows_schema() -> None:
    import airflow

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    assert info["package-name"] == "airflow-provider-convoso"
    assert info["versions"] == [airflow_provider_convoso.__version__] == [version("airflow-provider-convoso")]
    for section in ("hooks", "operators", "sensors", "triggers"):
        for module in info[section][0]["python-modules"]:
            __import__(module)
    [conn_type] = info["connection-types"]
    assert conn_type["connection-type"] == "convoso"
    assert conn_type["hook-class-name"] == "airflow_provider_convoso.hooks.convoso.ConvosoHook"
    assert conn_type["hook-name"] == "Convoso"
    assert conn_type["ui-field-behaviour"]["hidden-fields"] == ["login", "schema", "port"]
    assert set(conn_type["conn-fields"]) == {
        "timeout",
        "max_retries",
        "retry_backoff",
        "retry_max_wait",
        "request_format",
        "verify",
        "max_response_bytes",
        "timezone",
    }


def test_airflow_cli_lists_provider_and_connection_type() -> None:
    providers = _airflow("providers", "list", "--output", "json")
    assert any(p["package_name"] == "airflow-provider-convoso" for p in json.loads(providers))
    hooks = json.loads(_airflow("providers", "hooks", "--output", "json"))
    convoso = [h for h in hooks if h.get("connection_type") == "convoso"]
    assert convoso
    assert convoso[0]["class"] == "airflow_provider_convoso.hooks.convoso.ConvosoHook"


def test_connection_type_is_registered_with_the_providers_manager() -> None:
    try:  # Airflow 3.3+: the task runtime's manager (the core one's ``hooks`` is deprecated there)
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime as Manager
    except ImportError:
        from airflow.providers_manager import ProvidersManager as Manager

    hooks = Manager().hooks
    assert "convoso" in hooks
    assert hooks["convoso"].hook_class_name == "airflow_provider_convoso.hooks.convoso.ConvosoHook"


def test_installed_from_wheel_when_ci_says_so() -> None:
    if os.environ.get("CONVOSO_EXPECT_INSTALLED") != "1":
        assert Path(airflow_provider_convoso.__file__).exists()
        return
    assert "site-packages" in airflow_provider_convoso.__file__
    assert (Path(airflow_provider_convoso.__file__).parent / "py.typed").exists()


IMPORT_PROBE = """
import sys
try:
    from airflow.sdk import BaseHook, BaseOperator, BaseSensorOperator
except ImportError:
    from airflow.hooks.base import BaseHook
    from airflow.models import BaseOperator
    from airflow.sensors.base import BaseSensorOperator
before = set(sys.modules)
import airflow_provider_convoso.operators.agent_performance
import airflow_provider_convoso.sensors.agent_performance
import airflow_provider_convoso.hooks.convoso
new = set(sys.modules) - before
heavy = sorted(m for m in new if m.split(".")[0] in ("httpx", "httpcore", "pyarrow", "s3fs", "gcsfs", "adlfs", "tenacity") or m.startswith("fsspec.implementations"))
print(" ".join(heavy) or "-")
"""


def test_importing_operator_sensor_hook_loads_no_heavy_module() -> None:
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "-", f"newly imported: {out}"


@pytest.mark.parametrize("module", ["operators.agent_performance", "sensors.agent_performance"])
def test_instantiating_does_no_io(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_CONVOSO_DEFAULT", raising=False)
    mod = __import__(f"airflow_provider_convoso.{module}", fromlist=["*"])
    cls = next(
        getattr(mod, n) for n in dir(mod) if n.startswith("AgentPerformance") and n.endswith(("Operator", "Sensor"))
    )
    task = cls(task_id="t", convoso_conn_id="missing_connection", date_start="{{ ds }}")
    assert task.convoso_conn_id == "missing_connection"


def test_package_parses_under_the_oldest_claimed_python() -> None:
    """``requires-python`` claims 3.10 while CI runs 3.11: every module must use 3.10 grammar."""
    import ast

    root = Path(airflow_provider_convoso.__file__).parent
    modules = sorted(root.rglob("*.py"))
    assert len(modules) > 20
    for module in modules:
        ast.parse(module.read_text(), filename=str(module), feature_version=(3, 10))


ROOT = Path(__file__).resolve().parents[2]
#: The Airflow/Python pairs CI runs the whole suite on (scripts/test.sh's PAIRS).
TESTED_PAIRS = {
    ("3.3.2", "3.11"),
    ("3.3.2", "3.12"),
    ("3.3.2", "3.13"),
    ("3.2.2", "3.12"),
    ("3.1.8", "3.11"),
    ("3.0.6", "3.12"),
    ("2.11.2", "3.10"),
    ("2.11.2", "3.12"),
}


def _requirement(name: str) -> Any:
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    [req] = [Requirement(r) for r in requires("airflow-provider-convoso") or [] if r.startswith(name)]
    return req


def test_airflow_bounds_cover_exactly_the_tested_lines() -> None:
    """pyproject's Airflow range starts at the oldest line CI runs and stops before an untested one."""
    airflow_req = _requirement("apache-airflow")
    for tested in {airflow for airflow, _ in TESTED_PAIRS}:
        assert airflow_req.specifier.contains(tested), tested
    for untested in ("2.10.5", "3.4.0", "4.0.0"):
        assert not airflow_req.specifier.contains(untested), untested


def test_python_claims_are_exactly_the_tested_minors() -> None:
    """``requires-python`` and the classifiers name the Pythons CI runs, and no other."""
    from importlib.metadata import metadata

    from packaging.specifiers import SpecifierSet

    meta = metadata("airflow-provider-convoso")
    tested = {python for _, python in TESTED_PAIRS}
    requires_python = SpecifierSet(meta["Requires-Python"])
    for minor in tested:
        assert requires_python.contains(f"{minor}.0"), minor
    for untested in ("3.9.18", "3.14.0"):
        assert not requires_python.contains(untested), untested
    prefix = "Programming Language :: Python :: 3."
    classified = {
        c.removeprefix("Programming Language :: Python :: ")
        for c in meta.get_all("Classifier") or []
        if c.startswith(prefix)
    }
    assert classified == tested


def test_ci_runs_each_frozen_pair_and_the_docs_name_them() -> None:
    """test.sh's PAIRS, constraints/ and the compatibility table agree on the tested pairs."""
    import re

    frozen = {
        tuple(re.fullmatch(r"airflow-(.+)-py(3\.\d+)", p.stem).groups())  # type: ignore[union-attr]
        for p in (ROOT / "constraints").glob("airflow-*.txt")
    }
    assert frozen == TESTED_PAIRS
    [pairs] = re.findall(r'^PAIRS=\$\{PAIRS:-"([^"]+)"\}', (ROOT / "scripts/test.sh").read_text(), re.M)
    assert {tuple(pair.split("/")) for pair in pairs.split()} == TESTED_PAIRS
    table = re.findall(r"^\| (\d+\.\d+\.\d+) \| (3\.\d+) \|", (ROOT / "docs/development.md").read_text(), re.M)
    assert set(table) == TESTED_PAIRS
    readme = (ROOT / "README.md").read_text()
    for airflow, python in TESTED_PAIRS:
        assert f"{airflow} on {python}" in readme or f"{airflow}/{python}" in readme, (airflow, python)
