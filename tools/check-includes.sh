#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Enforces the module seams: the CLI and the servers see only include/cairn and src/base,
# never libcairn's internals; base sees nothing of cairn's semantics.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
if grep -rnE '#include "(lib/|core/|store/|formats/|tracking/|runner/|learn/|eval/|hpo/|registry/)' src/cli src/server 2>/dev/null; then
  echo "check-includes: src/cli and src/server may include only cairn/*.h and base/*.h" >&2
  status=1
fi
if grep -rnE '#include "(lib/|core/|store/|formats/|tracking/|runner/|learn/|eval/)' src/base 2>/dev/null; then
  echo "check-includes: src/base must not depend on libcairn modules" >&2
  status=1
fi
missing=$(grep -L 'base/banned.h\|"banned.h"' $(find src -name '*.c') || true)
if [ -n "$missing" ]; then
  echo "check-includes: these files do not include base/banned.h last:" >&2
  echo "$missing" >&2
  status=1
fi
[ $status = 0 ] && echo "check-includes: ok" >&2
exit $status
