#!/usr/bin/env bash
# Run layermap's tests against two private, throw-away Docker engines.
#
#   bash scripts/test.sh [pytest args...]
#
# Works on a fresh Debian 12 machine: installs docker.io, busybox-static and debootstrap when missing,
# downloads Docker 26.1 (Debian 13's packages, cached in ~/.cache/layermap/docker26), creates .venv with
# the package and its test extras, then starts two private daemons in temp dirs (each its own data root,
# exec root, socket), seeds their base images (no registry is needed) and runs pytest with the engines
# required:
#   DOCKER_HOST                 Docker 20.10, overlay2 store (also on a free loopback tcp port:
#                               LAYERMAP_TEST_TCP_HOST); what every integration test uses by default
#   LAYERMAP_TEST_ENGINE_26     Docker 26.1, containerd image store; tests reach both engines through
#                               the `engine` fixture (tests/integration/conftest.py)
#   LAYERMAP_BUILDX             the buildx 0.13 CLI plugin (also runs standalone); DOCKER_CONFIG makes
#                               `docker buildx` find it; LAYERMAP_DOCKER_CLI is the 26.1 docker client
# Both daemons are stopped and their dirs deleted afterwards, whatever happened. If either engine cannot
# be had (e.g. the Debian 13 packages cannot be downloaded) the command fails before running pytest.
# Exits with pytest's status ("no tests collected" counts as a failure).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ENGINE="$ROOT/scripts/dev-engine.sh"

say() { printf 'test.sh: %s\n' "$*" >&2; }
# dev-engine.sh's default kind; the 26.1 engine is asked for by name below.
export LAYERMAP_ENGINE_KIND=docker20

# --- packages and virtualenv ------------------------------------------------------------------------
extra=()
if [[ ! -x .venv/bin/python ]] && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    extra+=(python3-venv)
fi
# Debian's chromium: the headless browser the HTML report test drives (Playwright, no browser download).
extra+=(chromium)
bash "$ENGINE" install "${extra[@]}"
if ! LAYERMAP_ENGINE_KIND=docker26 bash "$ENGINE" install; then
    say "error: could not install the Docker 26.1 engine (see above); the tests need both engines"
    exit 1
fi
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

# --- private engines ----------------------------------------------------------------------------------
ENGINE_DIR=$(mktemp -d /tmp/layermap-test.XXXXXX)
ENGINE26_DIR=$(mktemp -d /tmp/layermap-test26.XXXXXX)
finish() {
    local rc=$?
    trap - EXIT INT TERM
    LAYERMAP_ENGINE_DIR=$ENGINE_DIR bash "$ENGINE" stop || true
    LAYERMAP_ENGINE_KIND=docker26 LAYERMAP_ENGINE_DIR=$ENGINE26_DIR bash "$ENGINE" stop || true
    # The daemons are stopped and their mounts are gone: nothing below the dirs belongs to anyone else.
    rm -rf --one-file-system "$ENGINE_DIR" "$ENGINE26_DIR" || true
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
start_s=$SECONDS
# Both at once (seeding the containerd store is the slow part); each one's messages name its kind.
LAYERMAP_ENGINE_DIR=$ENGINE_DIR LAYERMAP_ENGINE_TCP_PORT=$LAYERMAP_ENGINE_TCP_PORT \
    bash "$ENGINE" start >/dev/null &
pid20=$!
LAYERMAP_ENGINE_KIND=docker26 LAYERMAP_ENGINE_DIR=$ENGINE26_DIR bash "$ENGINE" start >/dev/null &
pid26=$!
rc20=0 rc26=0
wait "$pid20" || rc20=$?
wait "$pid26" || rc26=$?
((rc20 == 0)) || say "error: the Docker 20.10 engine did not start (exit $rc20, see above)"
((rc26 == 0)) || say "error: the Docker 26.1 engine did not start (exit $rc26, see above)"
((rc20 == 0 && rc26 == 0)) || exit 1
say "private engines ready in $((SECONDS - start_s))s (20.10: $ENGINE_DIR, tcp port $LAYERMAP_ENGINE_TCP_PORT; 26.1: $ENGINE26_DIR)"

unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
# DOCKER_HOST, LAYERMAP_BUILDX, LAYERMAP_DOCKER_CLI and DOCKER_CONFIG of the 26.1 engine ...
eval "$(LAYERMAP_ENGINE_KIND=docker26 LAYERMAP_ENGINE_DIR=$ENGINE26_DIR bash "$ENGINE" env)"
export LAYERMAP_TEST_ENGINE_26=$DOCKER_HOST
# ... and the 20.10 one stays the default engine.
export DOCKER_HOST="unix://$ENGINE_DIR/docker.sock"
export LAYERMAP_TEST_ENGINE_20=$DOCKER_HOST
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
