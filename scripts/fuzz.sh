#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target for a fixed time (CI does, after the sanitizer suite).
# Builds the `fuzz` preset (clang, libFuzzer + ASan + UBSan), runs each fuzz/fuzz_<name>.c for
# FUZZ_SECONDS (default 10) seeded from fuzz/corpus/<name>/, two targets at a time, then merges
# the inputs that found new coverage back into fuzz/corpus/<name>/ (commit them: they replay as
# tests from then on). A crash fails the script and leaves its input in build/fuzz/crashes/.
# Usage: scripts/fuzz.sh [TARGET...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-10}

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j2 >/dev/null
build=build/fuzz
mkdir -p "$build/crashes"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    targets+=("${name#fuzz_}")
  done
fi

run_one() {
  local name=$1 new
  new=$(mktemp -d)
  mkdir -p "fuzz/corpus/$name"
  if ! "$build/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=0 -artifact_prefix="$build/crashes/$name-" \
      "$new" "fuzz/corpus/$name" >"$build/fuzz_$name.log" 2>&1; then
    echo "fuzz: $name: FAILED (log: $build/fuzz_$name.log, input in $build/crashes/)" >&2
    tail -30 "$build/fuzz_$name.log" >&2
    rm -rf "$new"
    return 1
  fi
  local before after
  before=$(find "fuzz/corpus/$name" -type f | wc -l)
  "$build/fuzz_$name" -merge=1 "fuzz/corpus/$name" "$new" >>"$build/fuzz_$name.log" 2>&1
  after=$(find "fuzz/corpus/$name" -type f | wc -l)
  rm -rf "$new"
  echo "fuzz: $name: ok for ${seconds}s; corpus $before -> $after" >&2
}

status=0
pids=()
for name in "${targets[@]}"; do
  run_one "$name" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
