#!/usr/bin/env bash
# Run layermap's tests against a private, throw-away Docker engine.
#
#   bash scripts/test.sh [pytest args...]
#
# Works on a fresh Debian machine: installs docker.io, busybox-static and debootstrap when missing,
# creates .venv with the package and its test extras, starts a private daemon in a temp dir (its own
# data root, exec root, socket, also listening on a free loopback tcp port), seeds the base images (no
# registry is needed), runs pytest with the engine required, then stops the daemon and deletes the temp
# dir, whatever happened. Exits with pytest's status ("no tests collected" counts as a failure).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ENGINE="$ROOT/scripts/dev-engine.sh"

say() { printf 'test.sh: %s\n' "$*" >&2; }

# --- packages and virtualenv ------------------------------------------------------------------------
extra=()
if [[ ! -x .venv/bin/python ]] && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    extra+=(python3-venv)
fi
# Debian's chromium: the headless browser the HTML report test drives (Playwright, no browser download).
extra+=(chromium)
bash "$ENGINE" install "${extra[@]}"
if [[ ! -x .venv/bin/python ]]; then
    say "creating .venv"
    python3 -m venv .venv
fi
# (Re)install only when pyproject.toml changed since the last install: the package is editable.
stamp=".venv/.layermap-install-test"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) .[test]"
if [[ ! -f $stamp || $(<"$stamp") != "$want" ]] ||
    ! .venv/bin/python -c "import importlib.metadata as m; m.version('layermap')" 2>/dev/null; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
    echo "$want" >"$stamp"
fi

# --- private engine -----------------------------------------------------------------------------------
ENGINE_DIR=$(mktemp -d /tmp/layermap-test.XXXXXX)
export LAYERMAP_ENGINE_DIR=$ENGINE_DIR
finish() {
    local rc=$?
    trap - EXIT INT TERM
    bash "$ENGINE" stop || true
    # The daemon is stopped and its mounts are gone: nothing below the dir belongs to anyone else.
    rm -rf --one-file-system "$ENGINE_DIR" || true
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

LAYERMAP_ENGINE_TCP_PORT=$(.venv/bin/python -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')
export LAYERMAP_ENGINE_TCP_PORT
start_s=$SECONDS
bash "$ENGINE" start >/dev/null
say "private engine ready in $((SECONDS - start_s))s ($ENGINE_DIR, tcp port $LAYERMAP_ENGINE_TCP_PORT)"

unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
export DOCKER_HOST="unix://$ENGINE_DIR/docker.sock"
export LAYERMAP_TEST_TCP_HOST="tcp://127.0.0.1:$LAYERMAP_ENGINE_TCP_PORT"
export LAYERMAP_TEST_ENGINE=required

# --- tests ---------------------------------------------------------------------------------------------
rc=0
.venv/bin/python -m pytest -ra "$@" || rc=$?
if ((rc == 5)); then
    say "pytest collected no tests: failing"
    rc=1
fi
exit "$rc"
