#!/usr/bin/env bash
# The README's test command: install dependencies, build, install the extractor's npm
# packages, run every test with ctest (the Slurm test runs the real demo study; the extract
# test is the extractor's `npm test`, i.e. `node --test` in src/extract).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# The extractor's npm packages, exactly as locked, for its tests and the Slurm test's demo:
# npm ci, unless node_modules already holds what package-lock.json pins (npm's record of the
# installed tree, node_modules/.package-lock.json, is compared with it). npm ci empties
# node_modules first, which would pull it from under an extraction running meanwhile.
if (cd src/extract && node -e '
  const want = require("./package-lock.json").packages;
  const have = require("./node_modules/.package-lock.json").packages;
  for (const [k, v] of Object.entries(want))
    if (k !== "" && (!have[k] || have[k].version !== v.version || have[k].integrity !== v.integrity))
      process.exit(1);' 2>/dev/null); then
  echo "test: src/extract/node_modules is current (npm ci skipped)"
else
  (cd src/extract && npm ci --no-audit --no-fund)
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cd "${BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600
