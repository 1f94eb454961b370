#!/usr/bin/env bash
# Configure and build salient in ./build (BUILD_DIR overrides; extra args go to cmake).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DSALIENT_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
