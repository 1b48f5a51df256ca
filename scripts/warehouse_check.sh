#!/usr/bin/env bash
# `make warehouse-check`: the warehouse example DAG loading every table into a real PostgreSQL
# (Debian's, installed when missing, started by the check), reruns and late rows included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deploy_setup.sh
.venv-deploy/bin/python scripts/warehouse_check.py "$@"
