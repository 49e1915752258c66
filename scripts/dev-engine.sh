#!/usr/bin/env bash
# A private Docker engine for layermap's development, tests and demo.
#
#   scripts/dev-engine.sh start    install docker.io/busybox-static/debootstrap if missing, start the
#                                  daemon, wait until it answers, seed the base images
#   scripts/dev-engine.sh stop     stop the daemon (and its containerd) by pid
#   scripts/dev-engine.sh env      print `export DOCKER_HOST=...`   (use: eval "$(scripts/dev-engine.sh env)")
#   scripts/dev-engine.sh status   is it running? (exit 0 yes, 3 no)
#   scripts/dev-engine.sh seed     create busybox:latest and debian:bookworm-slim if missing
#   scripts/dev-engine.sh install  only install the Debian packages that are missing
#
# Everything lives in one state dir, ${LAYERMAP_ENGINE_DIR:-/tmp/layermap-engine}: data root, exec root,
# socket, pidfile and log. The daemon never touches another daemon (its own data root, exec root, socket
# and containerd), has no bridge network and changes no iptables rules: a build step that needs the
# network must use host networking (`--network host`).
#
# No image registry is reachable, so the base images are made locally:
#   busybox:latest        one layer, from the host's static busybox (Debian's busybox-static)
#   debian:bookworm-slim  one layer, from `debootstrap --variant=minbase bookworm`, trimmed and configured
#                         like the official slim image; the rootfs tarball is cached in
#                         ${XDG_CACHE_HOME:-$HOME/.cache}/layermap/ so later seeds skip debootstrap.
#
# Environment:
#   LAYERMAP_ENGINE_DIR       state dir (default /tmp/layermap-engine); keep it short (unix socket paths
#                             are limited to 107 bytes)
#   LAYERMAP_ENGINE_TCP_PORT  also listen on tcp://127.0.0.1:PORT (no TLS, loopback only)
#   LAYERMAP_DEBIAN_MIRROR    mirror for debootstrap and the image's sources (default http://deb.debian.org/debian)
#   LAYERMAP_SEED_CACHE       cache dir for the rootfs tarball (default ${XDG_CACHE_HOME:-$HOME/.cache}/layermap)
set -euo pipefail

# dockerd, debootstrap and umount live in sbin, which some non-login shells leave out.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
PROG=$(basename "$0")
D=${LAYERMAP_ENGINE_DIR:-/tmp/layermap-engine}
case $D in /*) ;; *) D="$PWD/$D" ;; esac
D=${D%/}
SOCK="$D/docker.sock"
PIDFILE="$D/pid"
LOG="$D/dockerd.log"
MIRROR=${LAYERMAP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE_DIR=${LAYERMAP_SEED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/layermap}
DEBIAN_TAR="$CACHE_DIR/bookworm-minbase.tar"
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

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# The docker client on PATH (a newer client negotiates the API version down), aimed at our socket
# only, whatever DOCKER_HOST / DOCKER_CONTEXT / TLS variables the caller has.
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
    # Any docker engine with a client will do; Debian's docker.io when there is none.
    if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
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
    install_packages
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
    [[ -e $D/daemon.json ]] || printf '{"deprecated-key-path": "%s"}\n' "$D/key.json" >"$D/daemon.json"
    rm -f "$SOCK" "$PIDFILE"
    local args=(
        --config-file "$D/daemon.json"
        --data-root "$D/data"
        --exec-root "$D/exec"
        --pidfile "$PIDFILE"
        -H "unix://$SOCK"
        --bridge=none --iptables=false --ip6tables=false
    )
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
    echo "export DOCKER_HOST=unix://$SOCK"
}

stop() {
    local pid containerd_pid="" cpf="$D/exec/containerd/containerd.pid"
    if [[ -s $cpf ]]; then
        containerd_pid=$(<"$cpf")
        is_our_process "$containerd_pid" containerd "$D/exec/" || containerd_pid=""
    fi
    if pid=$(daemon_pid) || { [[ -s $D/launcher.pid ]] && pid=$(<"$D/launcher.pid") &&
        is_our_process "$pid" dockerd "$D/data"; }; then
        say "stopping dockerd (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        local waited=0
        while kill -0 "$pid" 2>/dev/null && ((waited < STOP_TIMEOUT * 5)); do
            sleep 0.2
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "dockerd (pid $pid) still running after ${STOP_TIMEOUT}s: KILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
        fi
    else
        say "not running ($D)"
    fi
    # dockerd stops the containerd it supervises; make sure of it (a KILLed dockerd leaves it behind).
    if [[ -n $containerd_pid ]] && is_our_process "$containerd_pid" containerd "$D/exec/"; then
        kill -TERM "$containerd_pid" 2>/dev/null || true
        local waited=0
        while kill -0 "$containerd_pid" 2>/dev/null && ((waited < 25)); do
            sleep 0.2
            waited=$((waited + 1))
        done
        kill -KILL "$containerd_pid" 2>/dev/null || true
    fi
    unmount_under "$D"
    rm -f "$PIDFILE" "$D/launcher.pid" "$SOCK"
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
        build_debian_tarball
    else
        say "using cached $DEBIAN_TAR"
    fi
    say "seeding debian:bookworm-slim"
    dk import -c 'CMD ["bash"]' -m "layermap seed: debootstrap --variant=minbase bookworm" \
        "$DEBIAN_TAR" debian:bookworm-slim >/dev/null
}

# ---------------------------------------------------------------------------------------------------

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
    start) start ;;
    stop) stop ;;
    env) echo "export DOCKER_HOST=unix://$SOCK" ;;
    status) status ;;
    seed) seed ;;
    install) install_packages "$@" ;;
    -h | --help | help) usage ;;
    *) usage ;;
esac
