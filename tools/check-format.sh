#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Checks that every C source and header follows .clang-format (clang-format 14).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format is missing (scripts/install-deps.sh)" >&2; exit 1; }
bad=0
for f in $(git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'tests/unit/*.c' 'tests/unit/*.h' \
                        'fuzz/*.c' 'bench/*.c' 'examples/*.c' 'tools/*.c' 2>/dev/null); do
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "check-format: $f differs from .clang-format (run: clang-format -i $f)" >&2
    bad=1
  fi
done
[ $bad = 0 ] && echo "check-format: ok" >&2
exit $bad
