#!/usr/bin/env bash
# Run layermap's tests against three private, throw-away Docker engines and two loopback registries.
#
#   bash scripts/test.sh [pytest args...]
#
# Works on a fresh Debian 12 machine: installs docker.io, busybox-static and debootstrap when missing,
# downloads Docker 26.1 (Debian 13's packages, cached in ~/.cache/layermap/docker26) and Docker 28.5
# (Debian unstable's, in ~/.cache/layermap/docker28), creates .venv with the package and its test extras,
# then starts, all at once, three private daemons in temp dirs (each its own data root, exec root,
# socket), seeds their base images, starts two registries (scripts/dev-registry.sh) and runs pytest with
# all of them required:
#   DOCKER_HOST                 Docker 20.10, overlay2 store (also on a free loopback tcp port:
#                               LAYERMAP_TEST_TCP_HOST); what every integration test uses by default
#   LAYERMAP_TEST_ENGINE_26     Docker 26.1, containerd image store
#   LAYERMAP_TEST_ENGINE_28     Docker 28.5, containerd image store; tests reach the three engines through
#                               the `engine` fixture (tests/integration/conftest.py)
#   LAYERMAP_BUILDX             the buildx 0.13 CLI plugin (also runs standalone); DOCKER_CONFIG makes
#                               `docker buildx` find it; LAYERMAP_DOCKER_CLI is the 26.1 docker client.
#                               The session's defaults, used with 20.10 and 26.1.
#   LAYERMAP_TEST_{BUILDX,DOCKER_CLI,DOCKER_CONFIG}_{26,28}
#                               each downloaded engine's own buildx plugin, client and client config
#                               (28: buildx 0.29, docker 28.5); the `engine` fixture puts them into
#                               LAYERMAP_BUILDX / LAYERMAP_DOCKER_CLI / DOCKER_CONFIG while a test runs on
#                               that engine
#   LAYERMAP_TEST_REGISTRY, LAYERMAP_TEST_REGISTRY_AUTH, LAYERMAP_TEST_REGISTRY_USER,
#   LAYERMAP_TEST_REGISTRY_PASSWORD, LAYERMAP_TEST_REGISTRY_CA
#                               the two registries (TLS; the second with basic auth) and their CA
#                               (the `registry` fixture)
# Everything is stopped and its dirs deleted afterwards, whatever happened. If an engine or a registry
# cannot be had (e.g. the Debian 13 / unstable packages cannot be downloaded) the command fails before
# running pytest. Exits with pytest's status ("no tests collected" counts as a failure).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ENGINE="$ROOT/scripts/dev-engine.sh"
REGISTRY="$ROOT/scripts/dev-registry.sh"

say() { printf 'test.sh: %s\n' "$*" >&2; }
# dev-engine.sh's default kind; the 26.1 and 28.5 engines are asked for by name below.
export LAYERMAP_ENGINE_KIND=docker20

# --- packages and virtualenv ------------------------------------------------------------------------
extra=()
if [[ ! -x .venv/bin/python ]] && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    extra+=(python3-venv)
fi
# Debian's chromium: the headless browser the HTML report test drives (Playwright, no browser download).
extra+=(chromium)
bash "$ENGINE" install "${extra[@]}"
# One after the other: both may need apt-get's package lists, and each downloads into its own folder.
for kind in docker26 docker28; do
    if ! LAYERMAP_ENGINE_KIND=$kind bash "$ENGINE" install; then
        say "error: could not install the $kind engine (see above); the tests need all three engines"
        exit 1
    fi
done
if ! bash "$REGISTRY" install; then
    say "error: could not install the registry packages (see above); the tests need them"
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
ENGINE28_DIR=$(mktemp -d /tmp/layermap-test28.XXXXXX)
export LAYERMAP_REGISTRY_DIR
LAYERMAP_REGISTRY_DIR=$(mktemp -d /tmp/layermap-testreg.XXXXXX)
# shellcheck disable=SC2317  # reached through the trap
finish() {
    local rc=$?
    trap - EXIT INT TERM
    LAYERMAP_ENGINE_DIR=$ENGINE_DIR bash "$ENGINE" stop || true
    LAYERMAP_ENGINE_KIND=docker26 LAYERMAP_ENGINE_DIR=$ENGINE26_DIR bash "$ENGINE" stop || true
    LAYERMAP_ENGINE_KIND=docker28 LAYERMAP_ENGINE_DIR=$ENGINE28_DIR bash "$ENGINE" stop || true
    bash "$REGISTRY" stop || true
    # The daemons are stopped and their mounts are gone: nothing below the dirs belongs to anyone else.
    rm -rf --one-file-system "$ENGINE_DIR" "$ENGINE26_DIR" "$ENGINE28_DIR" "$LAYERMAP_REGISTRY_DIR" || true
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
# All at once (seeding the containerd stores is the slow part); each one's messages name its kind.
LAYERMAP_ENGINE_DIR=$ENGINE_DIR LAYERMAP_ENGINE_TCP_PORT=$LAYERMAP_ENGINE_TCP_PORT \
    bash "$ENGINE" start >/dev/null &
pid20=$!
LAYERMAP_ENGINE_KIND=docker26 LAYERMAP_ENGINE_DIR=$ENGINE26_DIR bash "$ENGINE" start >/dev/null &
pid26=$!
LAYERMAP_ENGINE_KIND=docker28 LAYERMAP_ENGINE_DIR=$ENGINE28_DIR bash "$ENGINE" start >/dev/null &
pid28=$!
bash "$REGISTRY" start >/dev/null &
pidreg=$!
rc20=0 rc26=0 rc28=0 rcreg=0
wait "$pid20" || rc20=$?
wait "$pid26" || rc26=$?
wait "$pid28" || rc28=$?
wait "$pidreg" || rcreg=$?
((rc20 == 0)) || say "error: the Docker 20.10 engine did not start (exit $rc20, see above)"
((rc26 == 0)) || say "error: the Docker 26.1 engine did not start (exit $rc26, see above)"
((rc28 == 0)) || say "error: the Docker 28.5 engine did not start (exit $rc28, see above)"
((rcreg == 0)) || say "error: the registries did not start (exit $rcreg, see above)"
((rc20 == 0 && rc26 == 0 && rc28 == 0 && rcreg == 0)) || exit 1
say "private engines and registries ready in $((SECONDS - start_s))s (20.10: $ENGINE_DIR, tcp port" \
    "$LAYERMAP_ENGINE_TCP_PORT; 26.1: $ENGINE26_DIR; 28.5: $ENGINE28_DIR; registries: $LAYERMAP_REGISTRY_DIR)"

unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
# engine_env KIND DIR NAME: the value of NAME in what `dev-engine.sh env` prints for that engine (read in
# a subshell, so one engine's exports never overwrite another's).
engine_env() {
    (
        eval "$(LAYERMAP_ENGINE_KIND=$1 LAYERMAP_ENGINE_DIR=$2 bash "$ENGINE" env)"
        printf '%s' "${!3}"
    )
}
for kind in 26 28; do
    dir_var="ENGINE${kind}_DIR"
    for name in DOCKER_HOST LAYERMAP_BUILDX LAYERMAP_DOCKER_CLI DOCKER_CONFIG; do
        value=$(engine_env "docker$kind" "${!dir_var}" "$name")
        [[ -n $value ]] || { say "error: dev-engine.sh env printed no $name for docker$kind"; exit 1; }
        case $name in
            DOCKER_HOST) export "LAYERMAP_TEST_ENGINE_$kind=$value" ;;
            LAYERMAP_BUILDX) export "LAYERMAP_TEST_BUILDX_$kind=$value" ;;
            LAYERMAP_DOCKER_CLI) export "LAYERMAP_TEST_DOCKER_CLI_$kind=$value" ;;
            DOCKER_CONFIG) export "LAYERMAP_TEST_DOCKER_CONFIG_$kind=$value" ;;
        esac
    done
done
# The session's buildx, client and client config are the 26.1 engine's (buildx 0.13 also drives 20.10) ...
export LAYERMAP_BUILDX=$LAYERMAP_TEST_BUILDX_26 LAYERMAP_DOCKER_CLI=$LAYERMAP_TEST_DOCKER_CLI_26
export DOCKER_CONFIG=$LAYERMAP_TEST_DOCKER_CONFIG_26
# ... the registries' addresses, user, password and CA ...
eval "$(bash "$REGISTRY" env)"
# ... and the 20.10 engine is the default one.
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
