#!/usr/bin/env bash
# What the deploy and fault checks need: PostgreSQL and Redis from Debian's packages when
# they are missing, the deploy virtualenv (Airflow 3.3.2 on Python 3.11), and the built wheel
# installed into it.
set -euo pipefail
cd "$(dirname "$0")/.."
AIRFLOW=3.3.2

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
    echo ">> installing ${need[*]} from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    # Package scripts must not start services of their own: the check starts its own.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
fi

bash scripts/venv.sh .venv-deploy "$AIRFLOW" 3.11 requirements/deploy.txt
if ! ls dist/*.whl >/dev/null 2>&1; then
    .venv-deploy/bin/python -m pip install -q build
    .venv-deploy/bin/python -m build -q --wheel --outdir dist . >/dev/null
fi
.venv-deploy/bin/python -m pip install -q --force-reinstall --no-deps dist/*.whl
