#!/usr/bin/env bash
# `make deploy-check`: the daily example DAG on a production-shaped Airflow 3.3.2
# (PostgreSQL metadata database, CeleryExecutor on Redis, separate scheduler,
# dag-processor, triggerer, API server and Celery worker), all on loopback.
# Installs PostgreSQL and Redis from Debian's packages when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deploy_setup.sh
.venv-deploy/bin/python scripts/deploy_check.py "$@"
