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

step "toolkits: the OpenAPI documents the shipped toolkits are imported from"
./scripts/fetch-specs.sh

step "fixtures: toolkit files and the upstream service"
python3 fixtures/upstream/check_bindings.py

if [ -d runtime/tests_py ]; then
  step "sandbox shell (runtime/src/python/_toolshed_shell, under CPython)"
  python3 -m unittest discover -s runtime/tests_py
fi

step "Rust tests (engine, API, end-to-end against the binary)"
cargo test --workspace --locked

step "load smoke test: 20 sessions for 5 s, kill -9 under load, every acknowledged write checked"
# The figures in docs/BENCHMARKS.md come from a release build and longer
# runs; this checks the durability claim on every run.
timeout 300 python3 scripts/load-test.py --debug --sessions 20 --duration 5

step "Python SDK suite: the real composio SDK against the real server"
# `cargo test --workspace` above built the binary (the integration tests
# run it); a separate `-p toolshed-api` build would resolve other features
# and recompile wasmtime.
TOOLSHED_DEBUG_BIN="${CARGO_TARGET_DIR:-target}/debug/toolshed"
if [ ! -x "$TOOLSHED_DEBUG_BIN" ]; then
  cargo build --workspace --locked
fi
VENV="${TOOLSHED_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/toolshed/venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/python/requirements.txt
# The Node packages: the TypeScript clients below, and the MCP reference
# server (@modelcontextprotocol/server-everything) the Python suite serves
# as toolkits. npm's cache (~/.npm) makes reinstalls quick; node_modules
# stays out of git.
(cd tests/ts && timeout 300 npm ci --no-audit --no-fund --prefer-offline)
TOOLSHED_BIN="${CARGO_TARGET_DIR:-target}/debug/toolshed" \
  "$VENV/bin/python" -m pytest -q tests/python

step "API fuzzing: schemathesis for 60 s against the served OpenAPI document"
TOOLSHED_BIN="${CARGO_TARGET_DIR:-target}/debug/toolshed" \
  timeout 300 "$VENV/bin/python" scripts/fuzz-api.py --seconds 60

step "TypeScript: the MCP client, the Composio SDK (@composio/core) and the connect page in headless Chromium"
# The browser test drives Debian's Chromium; a fresh machine gets it here.
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; else
    echo "the browser test needs Chromium: install Debian's chromium package (or set CHROMIUM)" >&2
    exit 1
  fi
  timeout 600 $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 600 $sudo apt-get install -y -qq --no-install-recommends chromium
fi
TOOLSHED_ABS_BIN="$(realpath "$TOOLSHED_DEBUG_BIN")"
(cd tests/ts && TOOLSHED_BIN="$TOOLSHED_ABS_BIN" timeout 300 node --test)
