#!/usr/bin/env bash
# Two private image registries on loopback, for layermap's tests (and for trying registry features).
#
#   scripts/dev-registry.sh start    install what is missing, make a CA and a certificate for 127.0.0.1,
#                                    start both registries, wait until they answer, trust the CA in the
#                                    Docker engines (see below), print the `env` lines
#   scripts/dev-registry.sh stop     stop both registries by pid, remove what start wrote outside the
#                                    state dir (the engines' certs.d entries)
#   scripts/dev-registry.sh env      print the export lines (use: eval "$(scripts/dev-registry.sh env)"):
#                                      LAYERMAP_TEST_REGISTRY           127.0.0.1:PORT  TLS, anonymous
#                                      LAYERMAP_TEST_REGISTRY_AUTH      127.0.0.1:PORT  TLS + basic auth
#                                      LAYERMAP_TEST_REGISTRY_USER      the generated user of the auth one
#                                      LAYERMAP_TEST_REGISTRY_PASSWORD  its generated password
#                                      LAYERMAP_TEST_REGISTRY_CA        the CA certificate (PEM) to trust
#   scripts/dev-registry.sh status   are both running? (exit 0 yes, 3 no)
#   scripts/dev-registry.sh install  only install what is missing
#
# The registries are Debian's `docker-registry` (the CNCF distribution registry 2.8), each its own process
# with its own config file and storage folder, listening on a free port of 127.0.0.1 only, with a
# certificate for IP 127.0.0.1 issued by a CA made for this run (openssl; a separate CA rather than one
# self-signed server certificate, so the CA has CA:TRUE and the server certificate does not, which every
# TLS client accepts, also strict ones). The auth registry checks an htpasswd file of bcrypt hashes (the
# only hash distribution accepts), written by `htpasswd -B` from Debian's apache2-utils: the tool the
# registry's documentation names, a small C package with no Python dependency (Debian 12 has no other
# bcrypt command-line tool; python3-bcrypt would tie the script to one Python). The package's own system
# service is never started (policy-rc.d during the install, as dev-engine.sh does).
#
# Trust: dockerd reads a registry's CA from /etc/docker/certs.d/HOST:PORT/ca.crt and has no option to
# read it elsewhere (only rootless mode moves it), so start writes the CA there, one folder per port, and
# stop removes exactly those folders. skopeo takes --cert-dir (a folder holding ca.crt): the state dir's
# tls/ folder has the CA as ca.crt and no other file (keys and the server certificate are in tls/private/).
#
# Everything else lives in ${LAYERMAP_REGISTRY_DIR:-/tmp/layermap-registry}: tls/, and for each registry
# (plain/, auth/) config.yml, data/, pid and log.
set -euo pipefail

PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
PROG=$(basename "$0")
R=${LAYERMAP_REGISTRY_DIR:-/tmp/layermap-registry}
case $R in /*) ;; *) R="$PWD/$R" ;; esac
R=${R%/}
TLS="$R/tls"
CA="$TLS/ca.crt"
# dockerd's fixed certs.d (registry.CertsDir(); SetCertsDir is only used for rootless mode).
CERTS_D=/etc/docker/certs.d
REGISTRY_BIN=/usr/bin/docker-registry
NAMES=(plain auth)
START_TIMEOUT=20
STOP_TIMEOUT=10

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { say "error: $*"; exit 1; }

pkg_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

install_packages() {
    local missing=() p
    for p in docker-registry skopeo apache2-utils openssl curl; do
        pkg_installed "$p" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    [[ $(id -u) == 0 ]] || die "missing packages: ${missing[*]} (run as root, or install them with apt-get)"
    say "installing ${missing[*]}"
    # docker-registry's post-install would start a system-wide registry on :5000 (all interfaces).
    local made_policy=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    local rc=0
    # Another apt-get (a test run installing its engine) may hold the dpkg lock: wait for it.
    {
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}"
    } >&2 || rc=$?
    [[ -z $made_policy ]] || rm -f /usr/sbin/policy-rc.d
    ((rc == 0)) || die "apt-get failed (exit $rc) installing ${missing[*]}"
}

# is_ours PID NAME: PID is alive, is a docker-registry and serves NAME's config in our state dir (a
# stale pidfile never makes us signal someone else's process).
is_ours() {
    local pid=$1 name=$2 cmd
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ ${cmd%% *} == "$REGISTRY_BIN" && $cmd == *" $R/$name/config.yml"* ]]
}

registry_pid() {
    local name=$1 pid
    [[ -s $R/$name/pid ]] || return 1
    pid=$(<"$R/$name/pid")
    is_ours "$pid" "$name" && echo "$pid"
}

port_of() { cat "$R/$1/port" 2>/dev/null; }

# answers NAME: /v2/ answers over TLS, verified against our CA: 200 (anonymous) or 401 (auth).
answers() {
    local name=$1 port code
    port=$(port_of "$name") || return 1
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$CA" "https://127.0.0.1:$port/v2/") || return 1
    [[ $code == 200 || $code == 401 ]]
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

make_tls() {
    [[ -s $CA && -s $TLS/private/server.crt && -s $TLS/private/server.key ]] && return 0
    local p="$TLS/private"
    mkdir -p "$p"
    chmod 700 "$p"
    # Quiet unless it fails: openssl prints progress on stderr. Valid for a week: a run is hours at most.
    {
        openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 7 -keyout "$p/ca.key" -out "$CA" \
            -subj "/CN=layermap test registry CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
            openssl req -new -nodes -newkey rsa:2048 -sha256 -keyout "$p/server.key" -out "$p/server.csr" \
                -subj "/CN=127.0.0.1" &&
            openssl x509 -req -sha256 -days 7 -in "$p/server.csr" -CA "$CA" -CAkey "$p/ca.key" \
                -set_serial "0x$(openssl rand -hex 8)" -out "$p/server.crt" \
                -extfile <(printf '%s\n' "basicConstraints=critical,CA:FALSE" \
                    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
                    "subjectAltName=IP:127.0.0.1" "authorityKeyIdentifier=keyid" "subjectKeyIdentifier=hash")
    } >"$p/openssl.log" 2>&1 || { cat "$p/openssl.log" >&2; die "openssl could not make the certificates"; }
    rm -f "$p/server.csr"
}

# A password of letters and digits only (it goes into `env` lines and URLs unquoted-safe).
make_auth() {
    [[ -s $R/auth/htpasswd && -s $R/auth/user && -s $R/auth/password ]] && return 0
    mkdir -p "$R/auth"
    echo layermap >"$R/auth/user"
    (umask 077 && openssl rand -hex 16 >"$R/auth/password")
    htpasswd -Bbn "$(<"$R/auth/user")" "$(<"$R/auth/password")" | sed '/^$/d' >"$R/auth/htpasswd"
}

write_config() {
    local name=$1 port=$2
    mkdir -p "$R/$name/data"
    {
        cat <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $R/$name/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: $(openssl rand -hex 16)
  tls:
    certificate: $TLS/private/server.crt
    key: $TLS/private/server.key
EOF
        if [[ $name == auth ]]; then
            cat <<EOF
auth:
  htpasswd:
    realm: layermap-test
    path: $R/auth/htpasswd
EOF
        fi
    } >"$R/$name/config.yml"
}

# trust PORT: the engines' certs.d entry for 127.0.0.1:PORT (recorded, so stop removes only ours).
trust() {
    local dir="$CERTS_D/127.0.0.1:$1"
    if [[ -e $dir ]]; then
        # Someone else's entry for this port (the port was free, so it is stale): leave it alone.
        cmp -s "$dir/ca.crt" "$CA" || die "$dir exists and is not ours; remove it or pick other ports"
        return 0
    fi
    # /etc/docker and certs.d themselves too, when they are not there yet (stop removes them if empty).
    local parent
    for parent in "${CERTS_D%/*}" "$CERTS_D"; do
        [[ -d $parent ]] || { mkdir "$parent" && echo "$parent" >>"$R/certs.d-created"; }
    done
    mkdir "$dir"
    cp "$CA" "$dir/ca.crt"
    echo "$dir" >>"$R/certs.d-entries"
}

start_one() {
    local name=$1 pid
    if pid=$(registry_pid "$name") && answers "$name"; then
        return 0
    fi
    [[ -z ${pid:-} ]] || stop_one "$name"
    local port
    mkdir -p "$R/$name"
    for _ in 1 2 3; do
        port=$(free_port)
        echo "$port" >"$R/$name/port"
        write_config "$name" "$port"
        # setsid: outlives the caller's shell and gets no terminal signals (stop ends it by pid).
        setsid "$REGISTRY_BIN" serve "$R/$name/config.yml" </dev/null >>"$R/$name/log" 2>&1 &
        pid=$!
        echo "$pid" >"$R/$name/pid"
        local waited=0
        until answers "$name"; do
            if ! kill -0 "$pid" 2>/dev/null; then
                # Another process took the port between free_port and bind: try another one.
                grep -q 'address already in use' "$R/$name/log" && continue 2
                tail -n 20 "$R/$name/log" >&2
                die "the $name registry exited during start-up (log above)"
            fi
            if ((waited >= START_TIMEOUT * 5)); then
                tail -n 20 "$R/$name/log" >&2
                stop_one "$name"
                die "the $name registry did not answer within ${START_TIMEOUT}s (log above)"
            fi
            sleep 0.2
            waited=$((waited + 1))
        done
        trust "$port"
        say "$name registry on https://127.0.0.1:$port (pid $pid)"
        return 0
    done
    die "the $name registry found no free port"
}

start() {
    install_packages
    [[ -x $REGISTRY_BIN ]] || die "$REGISTRY_BIN is missing (apt-get install docker-registry)"
    mkdir -p "$R"
    make_tls
    make_auth
    local name
    for name in "${NAMES[@]}"; do start_one "$name"; done
    print_env
}

stop_one() {
    local name=$1 pid waited=0
    if pid=$(registry_pid "$name"); then
        kill -TERM "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null && ((waited < STOP_TIMEOUT * 5)); do
            sleep 0.2
            waited=$((waited + 1))
        done
        if is_ours "$pid" "$name"; then
            say "$name registry (pid $pid) still running after ${STOP_TIMEOUT}s: KILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$R/$name/pid"
}

stop() {
    local name dir
    for name in "${NAMES[@]}"; do stop_one "$name"; done
    if [[ -s $R/certs.d-entries ]]; then
        while read -r dir; do
            # Only the folders start made: 127.0.0.1:PORT under certs.d, holding our ca.crt.
            [[ ${dir#"$CERTS_D/"} =~ ^127\.0\.0\.1:[0-9]+$ ]] || continue
            rm -f "$dir/ca.crt"
            rmdir "$dir" 2>/dev/null || true
        done <"$R/certs.d-entries"
        rm -f "$R/certs.d-entries"
    fi
    if [[ -s $R/certs.d-created ]]; then
        # Deepest first; rmdir leaves a folder that someone has put something into since.
        tac "$R/certs.d-created" | while read -r dir; do
            if [[ $dir == "$CERTS_D" || $dir == "${CERTS_D%/*}" ]]; then rmdir "$dir" 2>/dev/null || true; fi
        done
        rm -f "$R/certs.d-created"
    fi
}

status() {
    local name pid rc=0
    for name in "${NAMES[@]}"; do
        if pid=$(registry_pid "$name") && answers "$name"; then
            echo "$name: running, pid $pid, https://127.0.0.1:$(port_of "$name")"
        else
            echo "$name: not running ($R/$name)"
            rc=3
        fi
    done
    return "$rc"
}

print_env() {
    local name
    for name in "${NAMES[@]}"; do
        [[ -s $R/$name/port ]] || die "not started ($R); run: $PROG start"
    done
    echo "export LAYERMAP_TEST_REGISTRY=127.0.0.1:$(port_of plain)"
    echo "export LAYERMAP_TEST_REGISTRY_AUTH=127.0.0.1:$(port_of auth)"
    echo "export LAYERMAP_TEST_REGISTRY_USER=$(<"$R/auth/user")"
    echo "export LAYERMAP_TEST_REGISTRY_PASSWORD=$(<"$R/auth/password")"
    echo "export LAYERMAP_TEST_REGISTRY_CA=$CA"
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
    install) install_packages ;;
    *) usage ;;
esac
