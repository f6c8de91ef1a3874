#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs every Debian 12 package cairn's build, tests, benchmarks and quickstart need.
# Idempotent and quiet when everything is already there. Run as root (or with sudo).
set -euo pipefail

PACKAGES=(
  # build
  build-essential gcc make cmake ninja-build pkg-config
  libsqlite3-dev libpq-dev libmicrohttpd-dev libjansson-dev libyaml-dev
  libcurl4-openssl-dev libopenblas-dev libxgboost-dev libssl-dev
  # libsvm: no pkg-config file, CMakeLists.txt finds svm.h and libsvm.so by hand
  libsvm-dev
  # tests: sanitizers and fuzzing, a throwaway PostgreSQL, Python references
  clang clang-format libclang-rt-14-dev postgresql git procps sqlite3 mount
  python3 python3-numpy python3-scipy python3-sklearn python3-xgboost python3-optuna
  # pictures checked in tests (SVG to PNG)
  librsvg2-bin
  # promtool, which checks cairn serve's /metrics
  prometheus
  # the web UI's browser tests and benchmark (headless, driven by playwright-core from npm)
  chromium
)
# The web UI is bundled at build time with node and npm (web/package-lock.json); a machine that
# has them already (nodesource's nodejs includes npm) keeps its own.
if ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-deps: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts a PostgreSQL cluster on install; the tests start their own private server.
