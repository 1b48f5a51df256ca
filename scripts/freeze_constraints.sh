#!/usr/bin/env bash
# Usage: scripts/freeze_constraints.sh AIRFLOW_VERSION PYTHON_MINOR [REQUIREMENTS...]
# Resolve one Airflow line on one Python minor as of the line's cutoff (below) and freeze
# the result into constraints/airflow-VERSION-pyMINOR.txt, the file scripts/venv.sh reads.
# Airflow's published constraint files are not reachable from every machine; this finds
# the set a line was released with. uv resolves for the interpreter it is given, so a
# package that dropped a Python (providers left 3.10 on 2026-10-13) resolves to its last
# release that supports it. uv prints a release's upload time when a cutoff is too early.
# REQUIREMENTS defaults to requirements/test.txt; the primary pair (3.3.2 on 3.11) is
# frozen with requirements/dev.txt and requirements/deploy.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
airflow=$1 minor=$2
shift 2
reqs=("${@:-requirements/test.txt}")
# A day after each release's upload; 3.3.2 and 2.11.2 as of the day they were first frozen.
case $airflow in
    2.11.2) cutoff=2026-11-26T00:00:00Z ;;
    3.0.6) cutoff=2025-08-30T00:00:00Z ;;
    3.1.8) cutoff=2026-03-12T00:00:00Z ;;
    3.2.2) cutoff=2026-05-30T00:00:00Z ;;
    3.3.2) cutoff=2026-11-26T00:00:00Z ;;
    *) echo "no cutoff for Airflow $airflow: add one to $0" >&2; exit 1 ;;
esac
python=$(bash scripts/python.sh "$minor")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash scripts/uv.sh venv -q -p "$python" "$tmp/venv"
args=()
for r in "${reqs[@]}"; do args+=(-r "$r"); done
bash scripts/uv.sh pip install -q --python "$tmp/venv/bin/python" --exclude-newer "$cutoff" \
    "apache-airflow==$airflow" "${args[@]}"
out="constraints/airflow-$airflow-py$minor.txt"
bash scripts/uv.sh pip freeze --python "$tmp/venv/bin/python" | grep -v '@ file' > "$out"
echo "froze $(wc -l < "$out") pins into $out"
