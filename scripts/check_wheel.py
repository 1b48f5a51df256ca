"""Fail when the wheel lacks a file that installs from a wheel need (CI runs this)."""

from __future__ import annotations

import sys
import zipfile

REQUIRED = [
    "airflow_provider_convoso/py.typed",
    "airflow_provider_convoso/testing/emulator/__init__.py",
    "airflow_provider_convoso/testing/emulator/__main__.py",
    "airflow_provider_convoso/endpoints/agent_performance/__init__.py",
    "airflow_provider_convoso/wire/envelope.py",
    "airflow_provider_convoso/provider_info.py",
    "airflow_provider_convoso/hooks/convoso.py",
    "airflow_provider_convoso/operators/agent_performance.py",
    "airflow_provider_convoso/sensors/agent_performance.py",
    "airflow_provider_convoso/triggers/agent_performance.py",
]


def main(path: str) -> int:
    names = set(zipfile.ZipFile(path).namelist())
    missing = [name for name in REQUIRED if name not in names]
    entry_points = next((n for n in names if n.endswith(".dist-info/entry_points.txt")), None)
    if entry_points is None:
        missing.append("*.dist-info/entry_points.txt")
    else:
        text = zipfile.ZipFile(path).read(entry_points).decode()
        if "[apache_airflow_provider]" not in text or "provider_info:get_provider_info" not in text:
            missing.append("apache_airflow_provider entry point")
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    if "Framework :: Apache Airflow :: Provider" not in zipfile.ZipFile(path).read(metadata).decode():
        missing.append("Framework :: Apache Airflow :: Provider classifier")
    if missing:
        print(f"{path} is missing: {', '.join(missing)}")
        return 1
    print(f"{path}: all {len(REQUIRED)} required files, the entry point and the classifier are present")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
