#!/usr/bin/env bash
# The whole suite, as CI runs it: lint and types, build and check the sdist and wheel,
# the tests on each Airflow line in its own virtualenv with the built wheel installed,
# then the browser test of the connection form (BROWSER_CHECK=0 skips it) and the
# production-shaped deploy check (DEPLOY_CHECK=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
# Every supported line, newest and oldest first; each is frozen in constraints/.
AIRFLOW_LINES=${AIRFLOW_LINES:-"3.3.2 2.11.2 3.2.2 3.1.8 3.0.6"}
DEV_AIRFLOW=3.3.2

bash scripts/venv.sh .venv "$DEV_AIRFLOW" requirements/dev.txt
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

for airflow in $AIRFLOW_LINES; do
    venv=".venv-test-af${airflow//./_}"
    bash scripts/venv.sh "$venv" "$airflow" requirements/test.txt
    "$venv/bin/python" -m pip install -q --force-reinstall --no-deps dist/*.whl
    home="$PWD/.airflow-test/$airflow"
    rm -rf "$home" && mkdir -p "$home"
    echo ">> tests on Airflow $airflow (wheel install)"
    (
        cd tests
        AIRFLOW_HOME="$home" CONVOSO_EXPECT_INSTALLED=1 HYPOTHESIS_PROFILE=ci \
            "../$venv/bin/python" -m pytest -c ../pyproject.toml --rootdir .. -q --ignore=browser ${PYTEST_ARGS:-} .
    )
done

if [ "${BROWSER_CHECK:-1}" = 1 ]; then
    echo ">> browser test of the connection form (Airflow 3.3.2 API server, Debian's Chromium)"
    bash scripts/browser_check.sh
fi

if [ "${DEPLOY_CHECK:-1}" = 1 ]; then
    echo ">> deploy check (Airflow 3.3.2, PostgreSQL, CeleryExecutor on Redis, separate triggerer)"
    bash scripts/deploy_check.sh
fi
