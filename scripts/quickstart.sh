#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The quickstart: installs what is missing, builds cairn, and runs the workflow on the bundled
# data into an embedded SQLite store under ./quickstart-out (override with CAIRN_QUICKSTART_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
echo "== building cairn" >&2
cmake --preset ci >/dev/null
cmake --build --preset ci -j2 >/dev/null
exec ./scripts/quickstart-run.sh build/ci
