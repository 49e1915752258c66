#!/usr/bin/env bash
# Build a sample Dockerfile with layermap on a private, throw-away Docker engine.
#
#   bash scripts/demo.sh [SAMPLE_DIR] [layermap build args...]
#   bash scripts/demo.sh                                   # sample_dockerfiles/basics
#   bash scripts/demo.sh sample_dockerfiles/apt-cache --format json
#   bash scripts/demo.sh sample_dockerfiles/apt-cache -f sample_dockerfiles/apt-cache/Dockerfile.clean
#
# Same set-up as scripts/test.sh (Debian packages when missing, .venv, a private daemon in a temp dir
# with the seeded base images), then `layermap build SAMPLE_DIR --network host ARGS...`; the daemon is
# stopped and its dir deleted afterwards. Exits with layermap's status. LAYERMAP_ENGINE_KIND=docker26
# (docker28) runs it on Docker 26.1 (28.5) with the containerd image store instead (see
# scripts/dev-engine.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ENGINE="$ROOT/scripts/dev-engine.sh"

sample=sample_dockerfiles/basics
if [[ $# -gt 0 && $1 != -* ]]; then
    sample=$1
    shift
fi
[[ -e $sample ]] || { echo "demo.sh: no such sample: $sample" >&2; exit 2; }

extra=()
if [[ ! -x .venv/bin/python ]] && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    extra+=(python3-venv)
fi
bash "$ENGINE" install "${extra[@]}"
[[ -x .venv/bin/python ]] || python3 -m venv .venv
# (Re)install only when pyproject.toml changed since the last install: the package is editable.
stamp=".venv/.layermap-install-run"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) ."
if [[ ! -f $stamp || $(<"$stamp") != "$want" ]] ||
    ! .venv/bin/python -c "import importlib.metadata as m; m.version('layermap')" 2>/dev/null; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.'
    echo "$want" >"$stamp"
fi

ENGINE_DIR=$(mktemp -d /tmp/layermap-demo.XXXXXX)
export LAYERMAP_ENGINE_DIR=$ENGINE_DIR
unset LAYERMAP_ENGINE_TCP_PORT
finish() {
    local rc=$?
    trap - EXIT INT TERM
    bash "$ENGINE" stop 2>/dev/null || true
    rm -rf --one-file-system "$ENGINE_DIR" || true
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$ENGINE" start >/dev/null
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
# DOCKER_HOST (docker26/docker28: also LAYERMAP_BUILDX, LAYERMAP_DOCKER_CLI, DOCKER_CONFIG)
eval "$(bash "$ENGINE" env)"

rc=0
.venv/bin/layermap build "$sample" --network host "$@" || rc=$?
exit "$rc"
