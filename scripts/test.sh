#!/usr/bin/env bash
# The one test command: from a fresh clone (as root, or a user with sudo) it
# installs what the tests need, then runs every Rust test. Idempotent: steps
# that are already done are skipped.
#   (a) npm packages for the real Socket.IO peers in tests/js (npm ci)
#   (b) redis-server from Debian, when a test mentions it
#   (c) venvs for the python-socketio peers in tests/py (pip --require-hashes)
#   (d) cargo test (unit, integration, bench smoke runs, doc tests)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        log "need root or sudo to run: $*"
        return 1
    fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

# (a) JavaScript peers (socket.io-client/server 2.x and 4.x, redis-emitter).
if [ -f tests/js/package.json ]; then
    if ! command -v npm >/dev/null 2>&1; then
        log "installing nodejs and npm"
        apt_install nodejs npm
    fi
    stamp=tests/js/node_modules/.package-lock.json
    # A symlinked node_modules is someone else's install (a shared checkout):
    # npm ci would empty the directory it points to, so leave it alone.
    if [ -L tests/js/node_modules ]; then
        log "tests/js/node_modules is a symlink: not running npm ci"
    elif [ ! -f "$stamp" ] || [ tests/js/package-lock.json -nt "$stamp" ]; then
        log "npm ci in tests/js"
        (cd tests/js && npm ci --no-audit --no-fund)
    fi
fi

# (b) redis-server, only once some test uses it.
if grep -rqs --exclude-dir=node_modules --exclude-dir='.venv*' redis-server tests/ && ! command -v redis-server >/dev/null 2>&1; then
    log "installing redis-server"
    apt_install redis-server
fi

# (c) Python peers: one venv per python-socketio generation (5.x and 4.6.x),
# from hash-pinned requirements; redone only when a requirements file is newer
# than the venv's stamp.
for gen in 5 4; do
    req=tests/py/requirements-v$gen.txt
    venv=tests/py/.venv$gen
    stamp=$venv/.installed
    [ -f "$req" ] || continue
    if [ -f "$stamp" ] && [ ! "$req" -nt "$stamp" ]; then
        continue
    fi
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        log "installing python3 and python3-venv"
        apt_install python3 python3-venv
    fi
    log "creating $venv from $req"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input --require-hashes -r "$req"
    touch "$stamp"
done

# (d) Every Rust test. --all-targets runs lib, bin, integration tests and a
# smoke run of each bench; doc tests need their own invocation.
log "cargo test"
# A fresh clone gains nothing from incremental caches; they only cost disk.
export CARGO_INCREMENTAL=0
cargo test --all-targets --locked
cargo test --doc --locked
