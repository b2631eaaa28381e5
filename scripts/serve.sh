#!/usr/bin/env bash
# Builds everything (the wasm runtime too), fetches the OpenAPI documents the
# shipped toolkits are imported from (scripts/fetch-specs.sh; cached after the
# first run), and starts the server. Arguments go to `toolshed serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/fetch-specs.sh
exec cargo run --release -p toolshed-api -- serve "$@"
