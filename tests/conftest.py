"""Shared fixtures: an Airflow home with a migrated SQLite DB, the emulator, connections, moto."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings
from support import FAST_RETRIES, TODAY, TOKEN, ConnJson, RunDag, XCom, free_port

if TYPE_CHECKING:
    from airflow_provider_convoso.testing import ConvosoEmulator

if not os.environ.get("AIRFLOW_HOME"):
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="convoso-airflow-home-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
DAGS_FOLDER = Path(os.environ["AIRFLOW_HOME"]) / "dags"
DAGS_FOLDER.mkdir(parents=True, exist_ok=True)
# dag.test() on Airflow 3.3 syncs the DAG from its bundle, so test DAGs live in this folder.
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")

# CI runs 500 examples per property on the primary pair and 100 on every other pair (the
# properties are the package's own code; what differs between Airflow lines and Pythons shows
# in 100 as well as in 500). HYPOTHESIS_PROFILE=dev is quicker locally.
settings.register_profile("ci", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("pair", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TEST_DAGS = Path(__file__).resolve().parent / "dags"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Migrate the metadata DB once per Airflow home (dag.test() needs it)."""
    marker = Path(os.environ["AIRFLOW_HOME"]) / ".convoso-db-migrated"
    if not marker.exists():
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            check=True,
            stdout=subprocess.DEVNULL,
            env=os.environ.copy(),
        )
        marker.write_text("ok")


@pytest.fixture
def emulator() -> Iterator[ConvosoEmulator]:
    from airflow_provider_convoso.testing import ConvosoEmulator

    with ConvosoEmulator(token=TOKEN, today=TODAY) as running:
        yield running


def _conn_json(emulator: ConvosoEmulator, /, **extra: Any) -> str:
    return emulator.connection_json(**{**FAST_RETRIES, **extra})


@pytest.fixture
def conn_json() -> ConnJson:
    """``conn_json(emulator, **extra)``: connection JSON with fast retries for tests."""
    return _conn_json


@pytest.fixture
def convoso_conn(emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch) -> ConvosoEmulator:
    """``convoso_default`` pointing at the emulator, as an environment variable."""
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", _conn_json(emulator))
    return emulator


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A real S3-compatible server (moto server mode) on loopback."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the moto server and an ``aws_moto`` connection to reach it."""
    import uuid

    import boto3

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_MOTO",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": moto_server, "region_name": "us-east-1"},
            }
        ),
    )
    bucket = f"convoso-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1").create_bucket(Bucket=bucket)
    return bucket


def _parse_first_reschedule_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """Work around apache/airflow#58777: under ``dag.test()``, Airflow 3.0/3.1's task runner
    hands a reschedule-mode sensor its first reschedule date as a string, and the sensor's
    second poke fails subtracting it from a datetime. A deployed worker gets a datetime."""
    try:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
    except ImportError:  # Airflow 2.11 has no task runner
        return
    import pendulum

    original = RuntimeTaskInstance.get_first_reschedule_date

    def parsed(self: Any, context: Any) -> Any:
        value = original(self, context)
        return pendulum.parse(value) if isinstance(value, str) else value

    monkeypatch.setattr(RuntimeTaskInstance, "get_first_reschedule_date", parsed)


@pytest.fixture
def run_dag(monkeypatch: pytest.MonkeyPatch) -> RunDag:
    """``run_dag(dag_file, dag_id=..., logical_date=..., conf=...)``: run a DAG file.

    ``dag_file`` is a name in ``tests/dags/`` or a path (the example DAGs). The file is copied into the DAGs folder as ``<dag_id>.py`` (its DAG takes its id from
    its file name), loaded, and run with ``dag.test()``. Returns ``(dag_run, xcom)`` where
    ``xcom(task_id)`` pulls that task's return value.
    """
    import importlib.util

    import pendulum

    _parse_first_reschedule_date(monkeypatch)

    def run(
        dag_file: str | Path,
        *,
        dag_id: str | None = None,
        logical_date: str = "2026-03-03",
        conf: dict[str, Any] | None = None,
    ) -> tuple[Any, XCom]:
        source = dag_file if isinstance(dag_file, Path) else TEST_DAGS / f"{dag_file}.py"
        dag_id = dag_id or source.stem
        path = DAGS_FOLDER / f"{dag_id}.py"
        shutil.copyfile(source, path)
        spec = importlib.util.spec_from_file_location(f"test_dag_{dag_id}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        dag = module.dag
        assert dag.dag_id == dag_id
        from airflow_provider_convoso.compat import AIRFLOW_V_3_0_PLUS

        if not AIRFLOW_V_3_0_PLUS:
            # 2.11's dag.test() deletes an earlier run of the same date; that needs FAB's
            # user table mapped (dag_run_note.user_id references it).
            import airflow.providers.fab.auth_manager.models  # noqa: F401

        when = pendulum.parse(logical_date)
        # The keyword is execution_date on Airflow 2.11.
        date_kw = "logical_date" if AIRFLOW_V_3_0_PLUS else "execution_date"
        dag_run = dag.test(**{date_kw: when}, run_conf=conf)

        def xcom(task_id: str, map_indexes: list[int] | None = None) -> Any:
            ti = next(t for t in dag_run.get_task_instances() if t.task_id == task_id)
            if map_indexes is None:
                return ti.xcom_pull(task_ids=task_id)
            # One index at a time: Airflow 3.1's TaskInstance.xcom_pull fails on a list of indexes.
            return [ti.xcom_pull(task_ids=task_id, map_indexes=index) for index in map_indexes]

        return dag_run, xcom

    return run
