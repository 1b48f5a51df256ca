#!/usr/bin/env bash
# Usage: scripts/python.sh MINOR (e.g. 3.12)
# Print the path of a CPython MINOR interpreter: pyenv's newest MINOR.* when pyenv has one,
# else pythonMINOR on PATH. Fails with a clear message when neither exists.
set -euo pipefail
minor=$1
root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for dir in $(ls -d "$root"/versions/"$minor".* 2>/dev/null | sort -V -r); do
    if [ -x "$dir/bin/python$minor" ]; then echo "$dir/bin/python$minor"; exit 0; fi
done
if command -v "python$minor" >/dev/null; then command -v "python$minor"; exit 0; fi
echo "no Python $minor here (looked in $root/versions and on PATH)" >&2
exit 1
