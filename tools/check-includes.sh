#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Enforces the module seams. The build already stops src/cli and src/server from reaching
# libcairn's internals (their include path holds only include/ and base/; the test build/seam
# proves it); this check keeps the libcairn modules' own dependencies pointing one way:
#   base <- core <- {formats, store, data, eval} <- {tracking, learn} <- {runner, train, ...}
# A module may include its own headers, the internal headers of the modules listed for it below,
# and the public headers (cairn/*.h) of the same set.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0

# module: the modules (besides itself, base and core) whose headers it may include.
declare -A allowed=(
  [core]=""
  [formats]=""
  [store]="formats tracking registry logged_model auth hpo"
  [data]="formats"
  [eval]="data"
  [learn]="formats data"
  [tracking]="formats store logged_model"
  [runner]="formats tracking"
  [train]="formats data learn eval tracking store runner drift"
  [hpo]="formats data learn eval tracking store runner"
  [registry]="formats store tracking data learn eval train drift"
  [auth]="store tracking registry"
  [drift]="formats data eval learn"
  [automl]="formats data learn eval tracking store runner train hpo drift"
  [robust]="formats data learn eval"
  [explain]="formats data learn eval tracking store train"
  [pipeline]="formats data learn eval tracking store runner train hpo registry drift"
)
# Public headers named after the module they declare (cairn/<module>.h); cairn.h is core.
for dir in src/lib/*/; do
  m=$(basename "$dir")
  if [ -z "${allowed[$m]+set}" ]; then
    echo "check-includes: module '$m' has no row in tools/check-includes.sh; add one" >&2
    status=1
    continue
  fi
  ok=" $m core base cairn ${allowed[$m]} "
  while IFS=: read -r file line inc; do
    dep=${inc#*\"}
    dep=${dep%%/*}
    if [ "$dep" = cairn ]; then
      dep=${inc#*\"cairn/}
      dep=${dep%%.h*}
    fi
    case "$ok" in *" $dep "*) ;; *)
      echo "check-includes: $file:$line: module '$m' may not include '$dep' ($inc)" >&2
      status=1 ;;
    esac
  done < <(grep -rnoE '#include "[a-z_]+/[a-z_]+(\.h)?' "$dir" || true)
done

if grep -rnE '#include "(lib/|core/|store/|formats/|tracking/|runner/|learn/|data/|eval/|train/)' src/base 2>/dev/null; then
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
