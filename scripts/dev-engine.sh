#!/usr/bin/env bash
# A private Docker engine for layermap's development, tests and demo.
#
#   scripts/dev-engine.sh start    install what is missing, start the daemon, wait until it answers, seed
#                                  the base images
#   scripts/dev-engine.sh stop     stop the daemon and its containerd by pid
#   scripts/dev-engine.sh env      print `export DOCKER_HOST=...` and, for docker26/docker28, the buildx/CLI
#                                  paths
#                                  (use: eval "$(scripts/dev-engine.sh env)")
#   scripts/dev-engine.sh status   is it running? (exit 0 yes, 3 no)
#   scripts/dev-engine.sh seed     create busybox:latest and debian:bookworm-slim if missing
#   scripts/dev-engine.sh install  only install what is missing (Debian packages; for docker26/docker28
#                                  also the engine's own files)
#
# Three kinds of engine, chosen with LAYERMAP_ENGINE_KIND:
#   docker20 (default)  Debian 12's docker.io (Docker 20.10, overlay2 image store), installed with apt-get.
#   docker26            Docker 26.1 with the containerd image store and buildx 0.13: Debian 13 (trixie)'s
#                       docker.io, containerd, docker-cli and docker-buildx packages, downloaded with a
#                       private apt state (the system's sources are not touched) and unpacked into
#                       ${LAYERMAP_SEED_CACHE}/docker26/ (about 300 MB, fetched once); Debian 12's runc (the
#                       trixie runc needs a newer glibc). Its containerd is started explicitly with its own
#                       root, state and socket, so a system containerd is never used. `env` also prints
#                       LAYERMAP_BUILDX (the docker-buildx plugin, which also runs standalone),
#                       LAYERMAP_DOCKER_CLI (the 26.1 docker client) and a DOCKER_CONFIG whose
#                       cliPluginsExtraDirs makes `docker buildx` work with any docker client.
#   docker28            Docker 28.5 with the containerd image store and buildx 0.29: Debian unstable (sid)'s
#                       docker.io, containerd (2.1), docker-cli and docker-buildx, fetched and run exactly like
#                       docker26 (same function, suite sid, ${LAYERMAP_SEED_CACHE}/docker28/, about 285 MB);
#                       containerd 2.x reads a version 3 config. `env` prints the same variables.
#
# Everything lives in one state dir, ${LAYERMAP_ENGINE_DIR:-/tmp/layermap-engine} (docker26:
# /tmp/layermap-engine26, docker28: /tmp/layermap-engine28): data root, exec root, socket, pidfile and log. The daemon never touches another
# daemon (its own data root, exec root, socket and containerd), has no bridge network and changes no
# iptables rules: a build step that needs the network must use host networking (`--network host`).
#
# No image registry is reachable, so the base images are made locally:
#   busybox:latest        one layer, from the host's static busybox (Debian's busybox-static)
#   debian:bookworm-slim  one layer, from `debootstrap --variant=minbase bookworm`, trimmed and configured
#                         like the official slim image; the rootfs tarball is cached in
#                         ${XDG_CACHE_HOME:-$HOME/.cache}/layermap/ so later seeds skip debootstrap.
#
# Environment:
#   LAYERMAP_ENGINE_KIND      docker20 (default), docker26 or docker28
#   LAYERMAP_ENGINE_DIR       state dir (default /tmp/layermap-engine, docker26: /tmp/layermap-engine26,
#                             docker28: /tmp/layermap-engine28); keep it short (unix socket paths are
#                             limited to 107 bytes)
#   LAYERMAP_ENGINE_TCP_PORT  also listen on tcp://127.0.0.1:PORT (no TLS, loopback only)
#   LAYERMAP_DEBIAN_MIRROR    mirror for debootstrap, the image's sources and the trixie/sid packages
#                             (default http://deb.debian.org/debian)
#   LAYERMAP_SEED_CACHE       cache dir for the rootfs tarball and the docker26/docker28 files
#                             (default ${XDG_CACHE_HOME:-$HOME/.cache}/layermap)
set -euo pipefail

# dockerd, debootstrap and umount live in sbin, which some non-login shells leave out.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
PROG=$(basename "$0")
KIND=${LAYERMAP_ENGINE_KIND:-docker20}
case $KIND in
    docker20) D=${LAYERMAP_ENGINE_DIR:-/tmp/layermap-engine} ;;
    docker26) D=${LAYERMAP_ENGINE_DIR:-/tmp/layermap-engine26} ;;
    docker28) D=${LAYERMAP_ENGINE_DIR:-/tmp/layermap-engine28} ;;
    *)
        printf '%s: error: LAYERMAP_ENGINE_KIND must be docker20, docker26 or docker28, not %q\n' "$PROG" "$KIND" >&2
        exit 2
        ;;
esac
case $D in /*) ;; *) D="$PWD/$D" ;; esac
D=${D%/}
SOCK="$D/docker.sock"
PIDFILE="$D/pid"
LOG="$D/dockerd.log"
MIRROR=${LAYERMAP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE_DIR=${LAYERMAP_SEED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/layermap}
DEBIAN_TAR="$CACHE_DIR/bookworm-minbase.tar"
# docker26/docker28 ("downloaded" kinds): another Debian suite's packages, unpacked under the cache dir
# (one folder per kind); the client and plugin come from there too.
#   DL_SUITE    the suite whose docker.io / containerd / docker-cli / docker-buildx are downloaded
#   DL_NAME     how messages name that suite
#   DL_VERSION  what `dockerd --version` must start with (a suite that moved on is an error, not a surprise)
#   DL_CTD_CONFIG_VERSION  containerd's config format: 2 for containerd 1.x, 3 for 2.x (its plugin ids
#                          changed; 2.x would migrate a version 2 file at every start)
DOWNLOADED="" DL_SUITE="" DL_NAME="" DL_VERSION="" DL_CTD_CONFIG_VERSION=2
case $KIND in
    docker26) DOWNLOADED=1 DL_SUITE=trixie DL_NAME="Debian 13 (trixie)" DL_VERSION="26." DL_CTD_CONFIG_VERSION=2 ;;
    docker28) DOWNLOADED=1 DL_SUITE=sid DL_NAME="Debian unstable (sid)" DL_VERSION="28.5." DL_CTD_CONFIG_VERSION=3 ;;
esac
DL_CACHE="$CACHE_DIR/$KIND"
DL_ROOT="$DL_CACHE/root"
DL_PACKAGES=(docker.io containerd docker-cli docker-buildx)
BUILDX="$DL_ROOT/usr/libexec/docker/cli-plugins/docker-buildx"
# The downloaded kinds' containerd: the same layout dockerd gives the containerd it supervises (20.10), so
# the content store is at <DockerRootDir>/containerd/daemon/io.containerd.content.v1.content for all.
CTD_DIR="$D/exec/containerd"
CTD_SOCK="$CTD_DIR/containerd.sock"
CTD_PIDFILE="$CTD_DIR/containerd.pid"
if [[ -n $DOWNLOADED ]]; then
    # Our dockerd, containerd, shims and client first; runc (Debian 12's) from the system.
    PATH="$DL_ROOT/usr/bin:$DL_ROOT/usr/sbin:$PATH"
fi
START_TIMEOUT=30
STOP_TIMEOUT=15

# Temp dirs to delete when the script exits, whatever happens.
CLEANUP=()
cleanup() {
    local d
    for d in "${CLEANUP[@]}"; do safe_rm "$d"; done
}
trap cleanup EXIT

# unmount_under DIR: unmount whatever is mounted below DIR, deepest first (a killed dockerd leaves
# overlay and netns mounts; a failed debootstrap can leave /proc, /sys or a bind-mounted /dev).
unmount_under() {
    local mp
    awk -v d="${1%/}/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r mp; do
        umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
    done
}

# rm -rf that never follows a mount out of DIR.
safe_rm() {
    [[ -e $1 ]] || return 0
    unmount_under "$1"
    rm -rf --one-file-system "$1"
}

say() { printf '%s [%s]: %s\n' "$PROG" "$KIND" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# The docker client on PATH (a newer client negotiates the API version down; docker26/docker28: the
# client of the unpacked docker-cli package), aimed at our socket only, whatever DOCKER_HOST / DOCKER_CONTEXT /
# TLS variables the caller has.
dk() {
    env -u DOCKER_HOST -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH \
        docker -H "unix://$SOCK" "$@"
}

# ---------------------------------------------------------------------------------------------------
# packages

pkg_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

# Missing packages among the ones the engine needs, plus any named on the command line.
missing_packages() {
    local missing=()
    if [[ -n $DOWNLOADED ]]; then
        # The engine's own files come from another suite (install_downloaded); runc must be Debian 12's.
        command -v runc >/dev/null 2>&1 || missing+=(runc)
    elif ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
        # Any docker engine with a client will do; Debian's docker.io when there is none.
        missing+=(docker.io)
    fi
    # The seed needs a *static* busybox: Debian's plain `busybox` package is dynamically linked.
    pkg_installed busybox-static || missing+=(busybox-static)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    local p
    for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
    printf '%s\n' "${missing[@]}"
}

install_packages() {
    local missing
    mapfile -t missing < <(missing_packages "$@" | sed '/^$/d')
    ((${#missing[@]})) || return 0
    [[ $(id -u) == 0 ]] || die "missing packages: ${missing[*]} (run as root, or install them with apt-get)"
    say "installing ${missing[*]}"
    # Keep the package's post-install from starting a system-wide docker service.
    local made_policy=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    local rc=0
    {
        DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    } >&2 || rc=$?
    [[ -z $made_policy ]] || rm -f /usr/sbin/policy-rc.d
    ((rc == 0)) || die "apt-get failed (exit $rc) installing ${missing[*]}"
}

# with_lock FILE CMD...: run CMD holding an exclusive lock on FILE (two engines starting at once share
# the cache: only one of them downloads or runs debootstrap).
with_lock() {
    local lock=$1
    shift
    mkdir -p "$(dirname "$lock")"
    (
        trap cleanup EXIT # a subshell does not inherit the trap: remove its temp dirs whatever happens
        flock -w 900 9 || die "could not lock $lock within 15 minutes"
        "$@"
    ) 9>"$lock"
}

# The downloaded kinds' files: another suite's packages, downloaded with a private apt state (own
# sources list, lists, cache and status: the system's apt configuration and its sources are not changed)
# and unpacked with `dpkg -x` (nothing is installed in the system). Done once per kind; the stamp file
# lists what was unpacked.
#
# engine_files_present ROOT: the unpacked tree has everything start() runs.
engine_files_present() {
    local root=$1
    [[ -s $root/../installed && -x $root/usr/sbin/dockerd && -x $root/usr/bin/containerd &&
        -x $root/usr/bin/containerd-shim-runc-v2 && -x $root/usr/bin/ctr && -x $root/usr/bin/docker &&
        -x $root/usr/libexec/docker/cli-plugins/docker-buildx ]]
}

install_downloaded() {
    engine_files_present "$DL_ROOT" && return 0
    with_lock "$DL_CACHE.lock" download_engine "$DL_SUITE" "$DL_CACHE" "$DL_VERSION" "$DL_NAME"
}

# download_engine SUITE CACHE VERSION NAME: download DL_PACKAGES from SUITE of the mirror, unpack them
# into CACHE/root (stamp CACHE/installed) and check that the dockerd in them is Docker VERSION*.
download_engine() {
    local suite=$1 cache=$2 want=$3 name=$4
    local root="$cache/root" stamp="$cache/installed"
    engine_files_present "$root" && return 0 # unpacked by another start while we waited for the lock
    if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
        die "$KIND needs apt-get and dpkg (a Debian machine)"
    fi
    local arch keyring="/usr/share/keyrings/debian-archive-keyring.gpg"
    arch=$(dpkg --print-architecture)
    [[ -r $keyring ]] || die "$KIND: $keyring is missing (apt-get install debian-archive-keyring)"
    local work="$cache/tmp"
    safe_rm "$work"
    CLEANUP+=("$work")
    mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/empty.d" \
        "$work/debs" "$work/root"
    : >"$work/apt/status"
    echo "deb [arch=$arch signed-by=$keyring] $MIRROR $suite main" >"$work/apt/sources.list"
    local apt_opts=(
        -o "Dir::Etc::SourceList=$work/apt/sources.list"
        -o "Dir::Etc::SourceParts=$work/apt/empty.d"
        -o "Dir::Etc::Preferences=$work/apt/preferences"
        -o "Dir::Etc::PreferencesParts=$work/apt/empty.d"
        -o "Dir::State=$work/apt"
        -o "Dir::State::Lists=$work/apt/lists"
        -o "Dir::State::status=$work/apt/status"
        -o "Dir::Cache=$work/apt/cache"
        -o "APT::Architecture=$arch"
        -o "APT::Architectures=$arch"
        -o "APT::Sandbox::User=root"
        -o "Debug::NoLocking=1"
    )
    say "downloading $name packages ${DL_PACKAGES[*]} from $MIRROR (about 80 MB, once)"
    # --error-on=any: a list that cannot be fetched is an error, not a warning.
    if ! apt-get "${apt_opts[@]}" -qq --error-on=any update >"$work/apt.log" 2>&1; then
        tail -n 20 "$work/apt.log" >&2
        die "$KIND: could not read the $name package lists from $MIRROR (see above); the $KIND engine needs them"
    fi
    if ! (cd "$work/debs" && apt-get "${apt_opts[@]}" -qq download "${DL_PACKAGES[@]}") >>"$work/apt.log" 2>&1; then
        tail -n 20 "$work/apt.log" >&2
        die "$KIND: could not download ${DL_PACKAGES[*]} ($suite) from $MIRROR (see above); the $KIND engine needs them"
    fi
    local deb
    for deb in "$work"/debs/*.deb; do
        dpkg -x "$deb" "$work/root" || die "$KIND: dpkg -x $deb failed"
    done
    # A runc among the unpacked files would come first on PATH, and a newer suite's runc needs a newer
    # glibc than Debian 12's: the system's runc (Debian 12's package) is the one to run.
    rm -f "$work/root/usr/sbin/runc" "$work/root/usr/bin/runc"
    local version
    version=$("$work/root/usr/sbin/dockerd" --version 2>&1) || die "$KIND: the unpacked dockerd does not run: $version"
    [[ $version == "Docker version $want"* ]] ||
        die "$KIND: $suite's docker.io is no longer Docker $want ($version); update dev-engine.sh"
    safe_rm "$root"
    mv "$work/root" "$root"
    for deb in "$work"/debs/*.deb; do echo "${deb##*/}"; done >"$stamp"
    safe_rm "$work"
    say "unpacked $(tr '\n' ' ' <"$stamp")into $root ($(du -sh "$root" | cut -f1))"
}

install_all() {
    install_packages "$@"
    [[ -z $DOWNLOADED ]] || install_downloaded
}

# ---------------------------------------------------------------------------------------------------
# daemon

# pid of our dockerd if it is running (checked against /proc: the pid must be a dockerd using our
# data root, so a stale pidfile never makes us signal someone else's process).
daemon_pid() {
    [[ -s $PIDFILE ]] || return 1
    local pid
    pid=$(<"$PIDFILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    is_our_process "$pid" dockerd "$D/data" && echo "$pid"
}

# is_our_process PID NAME NEEDLE: PID is alive, its argv[0] ends in NAME and its command line
# contains NEEDLE (a path inside our state dir).
is_our_process() {
    local pid=$1 name=$2 needle=$3 cmd
    [[ -r /proc/$pid/cmdline ]] || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    local argv0=${cmd%% *}
    [[ ${argv0##*/} == "$name" && $cmd == *"$needle"* ]]
}

answers() {
    dk version --format '{{.Server.Version}}' >/dev/null 2>&1
}

start() {
    install_all
    if pid=$(daemon_pid) && answers; then
        say "already running (pid $pid), DOCKER_HOST=unix://$SOCK"
        seed
        return 0
    fi
    if pid=$(daemon_pid); then
        say "pid $pid is running but does not answer; stopping it first"
        stop
    fi
    mkdir -p "$D/data" "$D/exec"
    ((${#SOCK} < 108)) || die "socket path too long (${#SOCK} bytes): $SOCK; use a shorter LAYERMAP_ENGINE_DIR"
    # Our own config file: a daemon.json written for the machine's own daemon (hosts, data-root, …)
    # must not leak into this one. Our own trust key too: 20.10 derives the engine ID (`docker info`)
    # from /etc/docker/key.json, so every daemon sharing that file has the same ID.
    # docker26/docker28: the containerd image store is enabled in this file, not by a flag (28 still
    # defaults to the graph drivers).
    if [[ ! -e $D/daemon.json ]]; then
        if [[ -n $DOWNLOADED ]]; then
            echo '{"features": {"containerd-snapshotter": true}}' >"$D/daemon.json"
        else
            printf '{"deprecated-key-path": "%s"}\n' "$D/key.json" >"$D/daemon.json"
        fi
    fi
    rm -f "$SOCK" "$PIDFILE"
    local args=(
        --config-file "$D/daemon.json"
        --data-root "$D/data"
        --exec-root "$D/exec"
        --pidfile "$PIDFILE"
        -H "unix://$SOCK"
        --bridge=none --iptables=false --ip6tables=false
    )
    if [[ -n $DOWNLOADED ]]; then
        # dockerd would start its own containerd only when /run/containerd/containerd.sock does not
        # exist, and use the system's otherwise: start ours and name it.
        start_containerd
        args+=(--containerd "$CTD_SOCK")
        write_docker_config
    fi
    if [[ -n ${LAYERMAP_ENGINE_TCP_PORT:-} ]]; then
        [[ $LAYERMAP_ENGINE_TCP_PORT =~ ^[0-9]+$ ]] || die "LAYERMAP_ENGINE_TCP_PORT must be a port number"
        args+=(-H "tcp://127.0.0.1:$LAYERMAP_ENGINE_TCP_PORT")
    fi
    say "starting dockerd in $D"
    # setsid: the daemon outlives the shell that started it and gets no terminal signals (Ctrl-C in
    # the caller's terminal must not kill it before `stop` runs).
    setsid dockerd "${args[@]}" </dev/null >>"$LOG" 2>&1 &
    local launched=$! waited=0
    echo "$launched" >"$D/launcher.pid"
    until answers; do
        if ! kill -0 "$launched" 2>/dev/null; then
            say "dockerd exited during start-up; last lines of $LOG:"
            tail -n 30 "$LOG" >&2
            exit 1
        fi
        if ((waited >= START_TIMEOUT * 5)); then
            say "dockerd did not answer within ${START_TIMEOUT}s; last lines of $LOG:"
            tail -n 30 "$LOG" >&2
            stop || true
            exit 1
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
    say "running (pid $(<"$PIDFILE"), $(dk version --format 'engine {{.Server.Version}}, API {{.Server.APIVersion}}'))"
    seed
    print_env
}

# docker26/docker28's containerd, with the root, state and sockets a dockerd-supervised one would have.
containerd_pid() {
    [[ -s $CTD_PIDFILE ]] || return 1
    local pid
    pid=$(<"$CTD_PIDFILE")
    [[ $pid =~ ^[0-9]+$ ]] && is_our_process "$pid" containerd "$D/exec/" && echo "$pid"
}

containerd_answers() {
    ctr --address "$CTD_SOCK" version >/dev/null 2>&1
}

start_containerd() {
    if containerd_pid >/dev/null && containerd_answers; then
        return 0
    fi
    stop_containerd
    mkdir -p "$CTD_DIR" "$D/data/containerd/daemon"
    ((${#CTD_SOCK} < 100)) || die "containerd socket path too long: $CTD_SOCK; use a shorter LAYERMAP_ENGINE_DIR"
    # No Kubernetes CRI: dockerd does not use it, and it would look for CNI plugins and a pause image.
    # containerd 2.x split it into plugins of their own (and the pod sandbox controller only CRI uses),
    # named in a version 3 file.
    local disabled='"io.containerd.grpc.v1.cri"'
    if ((DL_CTD_CONFIG_VERSION >= 3)); then
        disabled+=', "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"'
        disabled+=', "io.containerd.podsandbox.controller.v1.podsandbox", "io.containerd.grpc.v1.sandbox-controllers"'
    fi
    cat >"$CTD_DIR/containerd.toml" <<EOF
version = $DL_CTD_CONFIG_VERSION
root = "$D/data/containerd/daemon"
state = "$CTD_DIR/daemon"
disabled_plugins = [$disabled]

[grpc]
  address = "$CTD_SOCK"

[debug]
  address = ""
EOF
    rm -f "$CTD_SOCK" "$CTD_SOCK.ttrpc"
    say "starting containerd ($(containerd --version | awk '{print $3}'))"
    setsid containerd --config "$CTD_DIR/containerd.toml" </dev/null >>"$D/containerd.log" 2>&1 &
    local launched=$! waited=0
    echo "$launched" >"$CTD_PIDFILE"
    until containerd_answers; do
        if ! kill -0 "$launched" 2>/dev/null; then
            say "containerd exited during start-up; last lines of $D/containerd.log:"
            tail -n 30 "$D/containerd.log" >&2
            exit 1
        fi
        if ((waited >= START_TIMEOUT * 5)); then
            say "containerd did not answer within ${START_TIMEOUT}s; last lines of $D/containerd.log:"
            tail -n 30 "$D/containerd.log" >&2
            stop_containerd
            exit 1
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
}

# A docker client config for this engine: the buildx plugin of the docker-buildx package is found by
# any docker client (`docker buildx …`) through cliPluginsExtraDirs; buildx keeps its state here too.
write_docker_config() {
    mkdir -p "$D/docker-config"
    printf '{"cliPluginsExtraDirs": ["%s"]}\n' "$(dirname "$BUILDX")" >"$D/docker-config/config.json"
}

# stop_pid NAME PID NEEDLE SECONDS: TERM, wait up to SECONDS, then KILL (only if still ours).
stop_pid() {
    local name=$1 pid=$2 needle=$3 limit=$4 waited=0
    is_our_process "$pid" "$name" "$needle" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && ((waited < limit * 5)); do
        sleep 0.2
        waited=$((waited + 1))
    done
    if is_our_process "$pid" "$name" "$needle"; then
        say "$name (pid $pid) still running after ${limit}s: KILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
}

stop_containerd() {
    local pid
    if pid=$(containerd_pid); then
        stop_pid containerd "$pid" "$D/exec/" 10
    fi
    rm -f "$CTD_PIDFILE"
}

# Shims of our containerd left by a killed daemon (they hold container mounts): their command line
# names our containerd's socket.
stop_shims() {
    local pid
    for pid in $(pgrep -f -- "-address $CTD_SOCK" 2>/dev/null || true); do
        is_our_process "$pid" containerd-shim-runc-v2 "$CTD_SOCK" && stop_pid containerd-shim-runc-v2 "$pid" "$CTD_SOCK" 5
    done
    return 0
}

stop() {
    local pid
    if pid=$(daemon_pid) || { [[ -s $D/launcher.pid ]] && pid=$(<"$D/launcher.pid") &&
        is_our_process "$pid" dockerd "$D/data"; }; then
        say "stopping dockerd (pid $pid)"
        stop_pid dockerd "$pid" "$D/data" "$STOP_TIMEOUT"
    else
        say "not running ($D)"
    fi
    # docker20: dockerd stops the containerd it supervises; make sure of it (a KILLed dockerd leaves it
    # behind). docker26/docker28: ours, started before dockerd, stopped after it. Both use the same pidfile.
    stop_containerd
    stop_shims
    unmount_under "$D"
    rm -f "$PIDFILE" "$D/launcher.pid" "$SOCK" "$CTD_SOCK" "$CTD_SOCK.ttrpc"
}

status() {
    local pid
    if pid=$(daemon_pid) && answers; then
        echo "running: pid $pid, DOCKER_HOST=unix://$SOCK"
        dk version --format 'engine {{.Server.Version}}, API {{.Server.APIVersion}}'
        dk images --format '{{.Repository}}:{{.Tag}}  {{.ID}}  {{.Size}}' | sed 's/^/  /'
        return 0
    fi
    if pid=$(daemon_pid); then
        echo "not answering: pid $pid, socket $SOCK (log: $LOG)"
    else
        echo "not running ($D)"
    fi
    return 3
}

# ---------------------------------------------------------------------------------------------------
# base images

have_image() { dk image inspect "$1" >/dev/null 2>&1; }

seed() {
    answers || die "no engine answers at unix://$SOCK (run: $PROG start)"
    have_image busybox:latest || seed_busybox
    have_image debian:bookworm-slim || seed_debian
}

seed_busybox() {
    local bb=/bin/busybox
    pkg_installed busybox-static || die "busybox-static is not installed (run: $PROG install)"
    say "seeding busybox:latest from $bb ($("$bb" 2>&1 | head -n 1 | awk '{print $2}'))"
    local r
    r=$(mktemp -d)
    CLEANUP+=("$r")
    mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/etc" "$r/root" "$r/tmp" "$r/var"
    cp "$bb" "$r/bin/busybox"
    local applet
    while read -r applet; do
        [[ $applet == */* && $applet != bin/busybox ]] || continue
        [[ -e $r/$applet ]] || ln -s /bin/busybox "$r/$applet"
    done < <("$bb" --list-full)
    chmod 1777 "$r/tmp"
    chmod 700 "$r/root"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
    # Fixed owners, order and times: the same busybox gives the same layer (diff_id) on every machine.
    tar -C "$r" --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -c . |
        dk import -c 'CMD ["sh"]' -m "layermap seed: static busybox" - busybox:latest >/dev/null
    safe_rm "$r"
}

# The official debian:*-slim images are debootstrap minbase plus this configuration (debuerreotype's
# "slimify" and "minimizing config"); doing the same keeps sizes and apt behaviour comparable.
configure_debian_rootfs() {
    local r=$1
    cat >"$r/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
EOF
    printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
    chmod 755 "$r/usr/sbin/policy-rc.d"
    cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::GzipIndexes "true";' >"$r/etc/apt/apt.conf.d/docker-gzip-indexes"
    echo 'Acquire::Languages "none";' >"$r/etc/apt/apt.conf.d/docker-no-languages"
    echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$r/etc/apt/apt.conf.d/docker-autoremove-suggests"
    cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
    # Apply the excludes to what debootstrap already installed.
    find "$r/usr/share/doc" -mindepth 1 -not -type d -not -name copyright -delete 2>/dev/null || true
    find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
    local p
    for p in groff info linda lintian/overrides locale man; do
        [[ -d $r/usr/share/$p ]] && find "$r/usr/share/$p" -mindepth 1 -delete
    done
    # Leftovers of the bootstrap and of the host.
    rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
        "$r"/var/cache/apt/archives/partial/* "$r"/var/log/*.log "$r"/var/log/apt/* "$r"/tmp/* \
        "$r"/var/tmp/* "$r"/var/cache/debconf/*-old "$r"/var/lib/dpkg/*-old
    : >"$r/etc/hostname"
    : >"$r/etc/resolv.conf"
    : >"$r/etc/machine-id" 2>/dev/null || true
}

build_debian_tarball() {
    [[ ! -s $DEBIAN_TAR ]] || return 0 # made by another engine while we waited for the lock
    command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (run: $PROG install)"
    mkdir -p "$CACHE_DIR"
    local work
    work=$(mktemp -d "$CACHE_DIR/debootstrap.XXXXXX")
    CLEANUP+=("$work")
    say "debootstrap --variant=minbase bookworm from $MIRROR (about half a minute; cached afterwards)"
    if ! debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
        tail -n 30 "$work/debootstrap.log" >&2
        [[ -f $work/rootfs/debootstrap/debootstrap.log ]] && tail -n 30 "$work/rootfs/debootstrap/debootstrap.log" >&2
        die "debootstrap failed"
    fi
    configure_debian_rootfs "$work/rootfs"
    tar -C "$work/rootfs" --numeric-owner --sort=name -cf "$work/rootfs.tar" .
    mv -f "$work/rootfs.tar" "$DEBIAN_TAR"
    say "cached $DEBIAN_TAR ($(du -h "$DEBIAN_TAR" | cut -f1))"
    safe_rm "$work"
}

seed_debian() {
    if [[ ! -s $DEBIAN_TAR ]]; then
        with_lock "$CACHE_DIR/bookworm-minbase.lock" build_debian_tarball
    else
        say "using cached $DEBIAN_TAR"
    fi
    say "seeding debian:bookworm-slim"
    dk import -c 'CMD ["bash"]' -m "layermap seed: debootstrap --variant=minbase bookworm" \
        "$DEBIAN_TAR" debian:bookworm-slim >/dev/null
}

# ---------------------------------------------------------------------------------------------------

print_env() {
    echo "export DOCKER_HOST=unix://$SOCK"
    if [[ -n $DOWNLOADED ]]; then
        echo "export LAYERMAP_BUILDX=$BUILDX"
        echo "export LAYERMAP_DOCKER_CLI=$DL_ROOT/usr/bin/docker"
        echo "export DOCKER_CONFIG=$D/docker-config"
    fi
}

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
    start) start ;;
    stop) stop ;;
    env) print_env ;;
    status) status ;;
    seed) seed ;;
    install) install_all "$@" ;;
    -h | --help | help) usage ;;
    *) usage ;;
esac
