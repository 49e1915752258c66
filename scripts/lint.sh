#!/usr/bin/env bash
# The house style, checked the way CI checks it: ruff (lint and format) and mypy --strict for the lowest
# supported Python (3.10, pyproject.toml's [tool.mypy]). Fails on any finding.
#
#   bash scripts/lint.sh
#
# Uses .venv (created when missing) with the dev extra: the pinned ruff and mypy of pyproject.toml.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
fi
# Reinstall only when pyproject.toml changed since the last dev install (the package is editable).
stamp=".venv/.layermap-install-dev"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) .[dev]"
if [[ ! -f $stamp || $(<"$stamp") != "$want" ]]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
    echo "$want" >"$stamp"
fi

rc=0
run() {
    printf 'lint.sh: %s\n' "$*" >&2
    "$@" || rc=1
}
run .venv/bin/ruff check analyzer tests bench
run .venv/bin/ruff format --check analyzer tests bench
run .venv/bin/mypy --strict analyzer
((rc == 0)) || printf 'lint.sh: style checks failed (see above)\n' >&2
exit "$rc"
