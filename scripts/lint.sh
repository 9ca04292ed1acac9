#!/usr/bin/env bash
# Formatting and lints (not part of the test command): rustfmt --check and
# clippy with warnings as errors on every target.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
