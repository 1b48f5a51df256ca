#!/usr/bin/env bash
# The connection form, the scorecard page and its task-instance tab in a real browser:
# Airflow 3.3.2's API server and Debian's Chromium, driven by Playwright (which never
# downloads a browser here). Installs chromium when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
    echo ">> installing chromium from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
bash scripts/venv.sh .venv-deploy 3.3.2 3.11 requirements/deploy.txt
if ! ls dist/*.whl >/dev/null 2>&1; then
    .venv-deploy/bin/python -m pip install -q build
    .venv-deploy/bin/python -m build -q --wheel --outdir dist . >/dev/null
fi
.venv-deploy/bin/python -m pip install -q --force-reinstall --no-deps dist/*.whl
out="$PWD/.browser-test-output"
rm -rf "$out" && mkdir -p "$out"
(
    cd tests
    BROWSER_TEST_OUTPUT="$out" ../.venv-deploy/bin/python -m pytest -c ../pyproject.toml --rootdir .. -q -p no:randomly browser
)
