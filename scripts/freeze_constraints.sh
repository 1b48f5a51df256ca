#!/usr/bin/env bash
# Usage: scripts/freeze_constraints.sh AIRFLOW_VERSION CUTOFF [REQUIREMENTS...]
# Resolve one Airflow line as of its release (CUTOFF, an RFC 3339 time a day after the
# release's upload) and freeze the result into constraints/airflow-VERSION.txt.
# Airflow's published constraint files are not reachable from every machine; this finds
# the set a line was released with. uv prints the upload time when CUTOFF is too early.
# Seen: 3.0.6 2025-08-30, 3.1.8 2026-03-12, 3.2.2 2026-05-30 (all T00:00:00Z); 3.3.2 and
# 2.11.2 were frozen from a plain install, with the deploy check's packages added.
set -euo pipefail
cd "$(dirname "$0")/.."
airflow=$1 cutoff=$2
shift 2
reqs=("${@:-requirements/test.txt}")
venv=$(mktemp -d)/venv
python3 -m pip install -q uv
python3 -m uv venv -q -p python3.11 "$venv"
args=()
for r in "${reqs[@]}"; do args+=(-r "$r"); done
python3 -m uv pip install -q --python "$venv/bin/python" --exclude-newer "$cutoff" "apache-airflow==$airflow" "${args[@]}"
python3 -m uv pip freeze --python "$venv/bin/python" | grep -v '@ file' > "constraints/airflow-$airflow.txt"
rm -rf "$(dirname "$venv")"
echo "froze $(wc -l < "constraints/airflow-$airflow.txt") pins into constraints/airflow-$airflow.txt"
