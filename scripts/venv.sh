#!/usr/bin/env bash
# Usage: scripts/venv.sh VENV AIRFLOW_VERSION PYTHON_MINOR REQUIREMENTS_FILE
# Creates VENV (once per input change) on CPython PYTHON_MINOR with Apache Airflow
# AIRFLOW_VERSION and the requirements, pinned by
# constraints/airflow-AIRFLOW_VERSION-pyPYTHON_MINOR.txt so runs repeat.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$1 airflow=$2 minor=$3 reqs=$4
constraints="constraints/airflow-${airflow}-py${minor}.txt"
if [ ! -f "$constraints" ]; then
    echo "no $constraints: freeze it with scripts/freeze_constraints.sh $airflow $minor" >&2
    exit 1
fi
python=$(bash scripts/python.sh "$minor")
key=$(cat "$constraints" "$reqs" requirements/test.txt | sha256sum | cut -c1-16)
stamp="$venv/.stamp-$key"
if [ -f "$stamp" ]; then exit 0; fi
echo ">> building $venv (Airflow $airflow, Python $minor)"
rm -rf "$venv"
# --seed puts pip in the venv for the scripts that install the built wheel with it.
bash scripts/uv.sh venv -q --seed -p "$python" "$venv"
# Bytecode is compiled at install, as pip does, so the first import of each module in a
# test or a benchmark costs what it costs a deployed worker.
bash scripts/uv.sh pip install -q --compile-bytecode --python "$venv/bin/python" \
    -c "$constraints" "apache-airflow==${airflow}" -r "$reqs"
touch "$stamp"
