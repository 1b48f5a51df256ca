#!/usr/bin/env bash
# Usage: scripts/uv.sh ARGS...
# Run uv (pinned) from the project's own tools virtualenv, .venv-tools, made on first use.
# uv installs a pinned set in seconds where pip takes a minute; both give the same packages.
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.13.9
tools=.venv-tools
if [ ! -x "$tools/bin/uv" ] || [ "$("$tools/bin/uv" --version | cut -d' ' -f2)" != "$version" ]; then
    rm -rf "$tools"
    python3 -m venv "$tools"
    "$tools/bin/python" -m pip install -q "uv==$version"
fi
exec "$tools/bin/uv" "$@"
