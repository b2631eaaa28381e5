#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, then
# runs formatting and lint checks and every test. Exits non-zero on any
# failure. `.ci/run` runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32-wasip1 target"
rustup target add wasm32-wasip1

step "format"
cargo fmt --all --check
(cd runtime && cargo fmt --check)

step "lint (workspace; builds the Python runtime for wasm32-wasip1 on first run)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "lint (runtime/)"
(cd runtime && cargo clippy --release --locked --ignore-rust-version \
    --target-dir "${CARGO_TARGET_DIR:-../target}/toolshed-runtime" -- -D warnings)

step "tests"
cargo test --workspace --locked
