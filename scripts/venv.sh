#!/usr/bin/env bash
# Usage: scripts/venv.sh VENV AIRFLOW_VERSION REQUIREMENTS_FILE
# Creates VENV (once per input change) with Apache Airflow AIRFLOW_VERSION and the
# requirements, pinned by constraints/airflow-AIRFLOW_VERSION.txt so runs repeat.
set -euo pipefail
venv=$1 airflow=$2 reqs=$3
python=${PYTHON:-python3}
constraints="constraints/airflow-${airflow}.txt"
key=$(cat "$constraints" "$reqs" requirements/test.txt | sha256sum | cut -c1-16)
stamp="$venv/.stamp-$key"
if [ -f "$stamp" ]; then exit 0; fi
echo ">> building $venv (Airflow $airflow)"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -c "$constraints" "apache-airflow==${airflow}" -r "$reqs"
touch "$stamp"
