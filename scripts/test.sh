#!/usr/bin/env bash
# The README's test command: install dependencies, build, install the extractor's npm
# packages, run every test with ctest (the Slurm test runs the real demo study).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# the extractor's npm packages, exactly as locked, for its tests and the Slurm test's demo
(cd src/extract && npm ci --no-audit --no-fund)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600
