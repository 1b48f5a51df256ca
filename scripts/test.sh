#!/usr/bin/env bash
# The whole suite, as CI runs it: lint and types, build and check the sdist and wheel,
# the whole suite on each Airflow/Python pair in its own virtualenv with the built wheel
# installed (two pairs at a time: one suite keeps about 0.6 of a core busy), then the
# browser tests of the connection form and the scorecard tab (BROWSER_CHECK=0 skips them) and the
# production-shaped deploy check (DEPLOY_CHECK=0 skips it), the warehouse check
# (WAREHOUSE_CHECK=0) and the fault check (FAULT_CHECK=0).
set -euo pipefail
cd "$(dirname "$0")/.."
# Airflow/Python pairs, each frozen in constraints/airflow-AIRFLOW-pyPYTHON.txt; the
# primary pair first, the longest suites next, so the two lanes end close together.
PAIRS=${PAIRS:-"3.3.2/3.11 3.2.2/3.12 3.3.2/3.12 3.3.2/3.13 3.1.8/3.11 3.0.6/3.12 2.11.2/3.12 2.11.2/3.10"}
LANES=${LANES:-2}
DEV_AIRFLOW=3.3.2 DEV_PYTHON=3.11

bash scripts/venv.sh .venv "$DEV_AIRFLOW" "$DEV_PYTHON" requirements/dev.txt
.venv/bin/python -m pip install -q --no-deps -e .

echo ">> ruff, ruff format, mypy"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

echo ">> build and check the distributions"
rm -rf dist
.venv/bin/python -m build -q --sdist --wheel --outdir dist . >/dev/null
.venv/bin/twine check --strict dist/*
.venv/bin/python scripts/check_wheel.py dist/*.whl

echo ">> the suite on each pair: $PAIRS ($LANES at a time)"
# xargs exits non-zero when any pair failed; every pair still runs to its end.
printf '%s\n' $PAIRS | xargs -P "$LANES" -n 1 bash scripts/test_pair.sh

if [ "${BROWSER_CHECK:-1}" = 1 ]; then
    echo ">> browser tests: the connection form, the scorecard page and its tab (Airflow 3.3.2 UI, Debian's Chromium)"
    bash scripts/browser_check.sh
fi

if [ "${DEPLOY_CHECK:-1}" = 1 ]; then
    echo ">> deploy check (Airflow 3.3.2, PostgreSQL, CeleryExecutor on Redis, separate triggerer)"
    bash scripts/deploy_check.sh
fi

if [ "${WAREHOUSE_CHECK:-1}" = 1 ]; then
    echo ">> warehouse check (every table upserted into PostgreSQL; reruns, late calls, lead changes)"
    bash scripts/warehouse_check.sh
fi

if [ "${FAULT_CHECK:-1}" = 1 ]; then
    echo ">> fault check (a killed triggerer and worker, restarted PostgreSQL and Redis, a SIGTERMed extract)"
    bash scripts/fault_check.sh
fi
