#!/usr/bin/env bash
# Usage: scripts/test_pair.sh AIRFLOW/PYTHON (e.g. 3.3.2/3.12)
# The whole suite on one pair: its virtualenv from constraints/, the built wheel in dist/
# installed into it, pytest with a fresh AIRFLOW_HOME. Prints the pair's log when it ends
# (whole, so two pairs running side by side do not interleave) and exits with pytest's code.
set -uo pipefail
cd "$(dirname "$0")/.."
pair=$1
airflow=${pair%/*} minor=${pair#*/}
slug="af${airflow//./_}-py${minor//./_}"
venv=".venv-test-$slug"
log="$PWD/.ci-logs/$slug.log"
mkdir -p "$(dirname "$log")"
# The primary pair runs the whole suite with every property test at 500 examples; the others
# run property tests at 100 and leave out the tests marked `primary` (see docs/development.md).
profile=pair scope="not primary"
if [ "$pair" = "${PRIMARY_PAIR:-3.3.2/3.11}" ]; then profile=ci scope=""; fi
start=$(date +%s)
{
    bash scripts/venv.sh "$venv" "$airflow" "$minor" requirements/test.txt &&
        bash scripts/uv.sh pip install -q --python "$venv/bin/python" --reinstall --no-deps --compile-bytecode dist/*.whl &&
        home="$PWD/.airflow-test/$slug" && rm -rf "$home" && mkdir -p "$home" &&
        cd tests &&
        AIRFLOW_HOME="$home" CONVOSO_EXPECT_INSTALLED=1 HYPOTHESIS_PROFILE=$profile \
            "../$venv/bin/python" -m pytest -c ../pyproject.toml --rootdir .. -q \
            --ignore=browser --durations=10 ${scope:+-m "$scope"} ${PYTEST_ARGS:-} .
} > "$log" 2>&1
rc=$?
echo ">> tests on Airflow $airflow, Python $minor: exit $rc after $(( $(date +%s) - start )) s"
cat "$log"
exit $rc
