#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test: installs what is missing, builds the `ci` preset and runs unit, fuzz-corpus,
# end-to-end and PostgreSQL tests (the PostgreSQL ones start a private throwaway server), then
# builds the `asan` preset (AddressSanitizer + UBSan) and runs the whole suite again under it,
# then runs the server under ThreadSanitizer with concurrent load (scripts/tsan-server.sh),
# then every libFuzzer target for CAIRN_FUZZ_SECONDS (default 5; 0 skips) through
# scripts/fuzz.sh. --no-asan skips the sanitizer runs and the fuzzing.
# Usage: scripts/test.sh [--no-asan] [ctest -R regex]
set -euo pipefail
cd "$(dirname "$0")/.."

asan=1
if [ "${1:-}" = "--no-asan" ]; then asan=0; shift; fi
filter=()
[ $# -gt 0 ] && filter=(-R "$1")

./scripts/install-deps.sh

run_preset() {
  local preset=$1
  echo "== $preset: configure and build" >&2
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j2
  echo "== $preset: tests" >&2
  ctest --preset "$preset" "${filter[@]}"
}

run_preset ci
if [ $asan = 1 ]; then
  run_preset asan
  echo "== tsan: the server under concurrent load" >&2
  ./scripts/tsan-server.sh
  if [ "${CAIRN_FUZZ_SECONDS:-5}" != 0 ]; then
    echo "== fuzz: every target for ${CAIRN_FUZZ_SECONDS:-5}s" >&2
    FUZZ_SECONDS=${CAIRN_FUZZ_SECONDS:-5} ./scripts/fuzz.sh
  fi
fi
tools/check-symbols.sh build/ci
tools/check-includes.sh
tools/check-format.sh
echo "== all tests passed" >&2
