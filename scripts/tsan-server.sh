#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ThreadSanitizer run of `cairn server` under concurrent load: builds the `tsan` preset (the
# cairn binary and cairn-loadgen only) and runs the server's load test (mixed log-metric,
# log-batch and search over keep-alive connections, then every point counted), the group
# commit test (good and bad log requests at once, kill -9 after the answers), the REST suite,
# the auth suite and the background summarizer against the TSan build. Any data race TSan
# reports fails the script.
# Usage: scripts/tsan-server.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j2 --target cairn cairn_loadgen >/dev/null
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
export TSAN_OPTIONS="halt_on_error=0 log_path=$logs/tsan"
export CAIRN_BIN=$PWD/build/tsan/cairn CAIRN_SOURCE_DIR=$PWD CAIRN_BUILD_DIR=$PWD/build/tsan
export PYTHONDONTWRITEBYTECODE=1
for t in test_server_load test_server_group test_rest test_rest_auth test_summarize; do
  echo "== tsan: $t" >&2
  if ! /usr/bin/python3 "tests/e2e/$t.py" >"$logs/$t.out" 2>&1; then
    cat "$logs/$t.out"
    if compgen -G "$logs/tsan.*" >/dev/null; then cat "$logs"/tsan.* >&2; fi
    exit 1
  fi
done
if compgen -G "$logs/tsan.*" >/dev/null; then
  cat "$logs"/tsan.* >&2
  echo "tsan: data races reported (above)" >&2
  exit 1
fi
echo "== tsan: no data race in the server under load" >&2
