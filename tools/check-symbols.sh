#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Asserts the shared libcairn exports only cairn_* symbols (the library builds with
# -fvisibility=hidden and marks its API CAIRN_API). Usage: tools/check-symbols.sh BUILD_DIR
set -euo pipefail
lib=$(ls "${1:-build/ci}"/libcairn.so.* 2>/dev/null | head -n 1)
[ -n "$lib" ] || { echo "check-symbols: no libcairn.so in ${1:-build/ci}" >&2; exit 1; }
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRV]$/ {print $3}' | grep -v '^cairn_' || true)
if [ -n "$bad" ]; then
  echo "check-symbols: $lib exports symbols outside the cairn_ prefix:" >&2
  echo "$bad" | head -n 20 >&2
  exit 1
fi
echo "check-symbols: ok ($(nm -D --defined-only "$lib" | grep -c ' cairn_') cairn_ symbols)" >&2
