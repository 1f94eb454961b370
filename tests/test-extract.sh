#!/usr/bin/env bash
# test-extract.sh - the extractor's own tests (src/extract, `node --test`): TensorFlow.js
# intermediate tensors equal the extracted activations before pooling, pooling, the
# tokenizer, GloVe lookup, NeuroX HDF5 writing, the Brown tasks. Needs Node >= 18 and
# src/extract/node_modules (scripts/test.sh runs `npm ci` first): without them it is skipped
# (77), unless CI=true (then it fails).
# Usage: test-extract.sh SOURCE_DIR
set -u
ext=$1/src/extract
if ! command -v node >/dev/null 2>&1 || [ ! -d "$ext/node_modules" ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: test-extract needs node and $ext/node_modules (npm ci)"
    exit 1
  fi
  echo "SKIP: test-extract needs node and $ext/node_modules (cd src/extract && npm ci)"
  exit 77
fi
cd "$ext" && node --test
