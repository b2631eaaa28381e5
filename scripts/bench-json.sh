#!/usr/bin/env bash
# json.load of a 5 MB file plus a filtering comprehension: toolshed's sandbox
# vs native CPython on the same file, same code, same machine, run side by
# side. Prints both medians and the ratio (docs/BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-7}"
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p toolshed-api
TOOLSHED="$TARGET/release/toolshed"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/home"

python3 - "$WORK/home/data.json" <<'PY'
import json, sys
rows = [{"id": i, "name": f"user-{i}", "score": (i * 37) % 100, "active": i % 3 == 0,
         "tags": ["x", "y"] if i % 2 else ["z"], "address": {"city": f"city-{i % 50}", "zip": f"{10000 + i}"}}
        for i in range(38000)]
with open(sys.argv[1], "w") as f:
    json.dump(rows, f)
PY
SIZE=$(stat -c %s "$WORK/home/data.json")

cat > "$WORK/home/bench.py" <<'PY'
import json, time
times = []
for _ in range(ROUNDS):
    t = time.perf_counter()
    with open("data.json") as f:
        data = json.load(f)
    hits = [r["id"] for r in data if r["score"] > 50 and "x" in r["tags"] and r["active"]]
    times.append(time.perf_counter() - t)
times.sort()
print(f"{times[len(times) // 2] * 1000:.1f} {len(hits)}")
PY
sed -i "s/ROUNDS/$ROUNDS/" "$WORK/home/bench.py"

native=$(cd "$WORK/home" && python3 bench.py)
sandbox=$("$TOOLSHED" run --workbench "$WORK/home" --files "$WORK/files" "$WORK/home/bench.py" \
  | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["stdout"].strip())')
read -r native_ms native_hits <<<"$native"
read -r sandbox_ms sandbox_hits <<<"$sandbox"
if [ "$native_hits" != "$sandbox_hits" ]; then
  echo "results differ: CPython $native_hits, toolshed $sandbox_hits" >&2
  exit 1
fi
python3 - "$SIZE" "$native_ms" "$sandbox_ms" "$(python3 --version)" <<'PY'
import sys
size, native, sandbox, version = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
print(f"json.load {size / 1e6:.1f} MB + filter, median of rounds: {version} {native:.1f} ms, "
      f"toolshed {sandbox:.1f} ms, ratio {sandbox / native:.2f}x")
PY
