#!/usr/bin/env bash
# `make fault-check`: the deployment's own faults (a killed triggerer or worker, a restarted
# PostgreSQL or Redis, a SIGTERMed extract) on the deploy check's production-shaped
# Airflow 3.3.2, all on loopback. Installs what it needs first, as the deploy check does.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deploy_setup.sh
.venv-deploy/bin/python scripts/fault_check.py "$@"
