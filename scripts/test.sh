#!/usr/bin/env bash
# The one test command: from a fresh clone (as root, or a user with sudo) it
# installs what the tests need, then runs every Rust test. Idempotent: steps
# that are already done are skipped.
#   (a) npm packages for the real Socket.IO peers in tests/js (npm ci)
#   (b) redis-server from Debian, when a test mentions it
#   (c) cargo test (unit, integration, bench smoke runs, doc tests)
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
    if [ ! -f "$stamp" ] || [ tests/js/package-lock.json -nt "$stamp" ]; then
        log "npm ci in tests/js"
        (cd tests/js && npm ci --no-audit --no-fund)
    fi
fi

# (b) redis-server, only once some test uses it.
if grep -rqs --exclude-dir=node_modules redis-server tests/ && ! command -v redis-server >/dev/null 2>&1; then
    log "installing redis-server"
    apt_install redis-server
fi

# (c) Every Rust test. --all-targets runs lib, bin, integration tests and a
# smoke run of each bench; doc tests need their own invocation.
log "cargo test"
# A fresh clone gains nothing from incremental caches; they only cost disk.
export CARGO_INCREMENTAL=0
cargo test --all-targets --locked
cargo test --doc --locked
