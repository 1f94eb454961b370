#!/usr/bin/env bash
# The README's main command: the real demo study on the Brown Corpus, from a fresh Debian 12
# machine to the tables and plots, with 2 MPI ranks:
#   1. scripts/install-deps.sh (Debian packages, Node.js and npm included)
#   2. scripts/build.sh
#   3. npm ci in src/extract (skipped when node_modules matches package-lock.json)
#   4. node brown.js: the sentences and their labels (upos, suffix, fine POS)
#   5. activations of USE-lite, of its random-weights copy (seed 1) and of GloVe, as
#      NeuroX-format HDF5 files (src/extract)
#   6. salient import of each into shards (mpirun -np 2)
#   7. mpirun -np 2 salient run jobs/brown-demo.cfg -o DIR/study (the report, tables and
#      plots, is written at the end of the run)
# Stages 4-6 whose output is complete are skipped (a stamp in DIR/.stages records the command
# that made it); `salient run` resumes a study by itself. The study starts afresh when the
# models or the job's settings changed since it began (the old one is moved to
# DIR/study.previous).
# Output in DIR: data/ (sentences, labels, HDF5), models/, study/ (results.nc, tables/,
# plots/, journal.tsv), timings.tsv (seconds per stage, with the load average).
# Exit status: that of `salient run` (0 done, 3 units failed, 75 interrupted: run again to
# resume), 64 usage error, or that of the first stage that failed.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/demo.sh [--out DIR]

Installs, builds, extracts real activations (USE-lite, its random-weights copy, GloVe) for
Brown Corpus sentences, imports them and runs the study jobs/brown-demo.cfg with 2 MPI ranks.
  --out DIR   output folder (default out/brown-demo); the study's results are in DIR/study
  -h, --help  this help
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
default_out=$root/out/brown-demo
out=$default_out
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --out)
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "demo: --out needs a folder" >&2; exit 64; }
      out=$2; shift 2 ;;
    --out=*) out=${1#*=}; [ -n "$out" ] || { echo "demo: --out needs a folder" >&2; exit 64; }; shift ;;
    *) echo "demo: unknown argument '$1' (see --help)" >&2; exit 64 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$root"

# The sentence selection (see the head of jobs/brown-demo.cfg for how it was sized):
# every 95th sentence of the corpus, so that all 15 genres are in, up to 600 sentences.
sentences=600 every=95 random_seed=1

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1 OMPI_MCA_mpi_yield_when_idle=1
stamps=$out/.stages
mkdir -p "$stamps" "$out/data" "$out/models"
timings=$out/timings.tsv
[ -f "$timings" ] || printf 'date\tstage\tseconds\tload_average\n' > "$timings"
t_all=$(date +%s.%N)

# Seconds since $1, one decimal.
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
load() { cut -d' ' -f1 /proc/loadavg; }
# Record and print a stage's time: NAME START.
took() {
  local s
  s=$(since "$2")
  printf '%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$s" "$(load)" >> "$timings"
  echo "demo: $1: $s s (load $(load))"
}

# stage NAME [DEP...] -- COMMAND...: run COMMAND unless the stamp of NAME records the same
# command and is newer than the stamps of the stages DEP; write the stamp after success.
# The command is recorded with the repository's path and the salient executable's left out,
# so that another BUILD_DIR or a moved checkout does not redo the stages.
stage() {
  local name=$1 deps=() fresh=1
  shift
  while [ "$1" != -- ]; do deps+=("$stamps/$1"); shift; done
  shift
  local stamp=$stamps/$name key="$*"
  key=${key//"$salient"/salient}
  key=${key//"$root/"/}
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
    for d in "${deps[@]}"; do
      [ "$d" -nt "$stamp" ] && fresh=0
    done
  else
    fresh=0
  fi
  if [ "$fresh" = 1 ]; then
    echo "demo: $name: complete, skipped"
    return 0
  fi
  rm -f "$stamp"
  local t0
  t0=$(date +%s.%N)
  echo "demo: $name: $key"
  "$@"
  printf '%s\n' "$key" > "$stamp.tmp" && mv "$stamp.tmp" "$stamp"
  took "$name" "$t0"
}

t0=$(date +%s.%N); scripts/install-deps.sh; took install-deps "$t0"
t0=$(date +%s.%N); scripts/build.sh; took build "$t0"
salient=$root/${BUILD_DIR:-build}/salient
case ${BUILD_DIR:-} in /*) salient=$BUILD_DIR/salient ;; esac

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 18 ] || ! command -v npm >/dev/null; then
  echo "demo: the extractor needs Node.js >= 18 and npm (found node major version" \
    "$node_major): scripts/install-deps.sh installs Debian's nodejs and npm" >&2
  exit 69
fi

# npm ci unless node_modules holds exactly what package-lock.json pins (npm's own record of
# the installed tree, node_modules/.package-lock.json, is compared with it).
ext=$root/src/extract
t0=$(date +%s.%N)
if (cd "$ext" && node -e '
  const want = require("./package-lock.json").packages;
  const have = require("./node_modules/.package-lock.json").packages;
  for (const [k, v] of Object.entries(want))
    if (k !== "" && (!have[k] || have[k].version !== v.version || have[k].integrity !== v.integrity))
      process.exit(1);' 2>/dev/null); then
  echo "demo: npm ci: node_modules is current, skipped"
else
  (cd "$ext" && npm ci --no-audit --no-fund)
  took "npm ci" "$t0"
fi

data=$out/data models=$out/models
stage brown -- node "$ext/brown.js" --sentences "$sentences" --every "$every" --out "$data"
stage use-lite brown -- node "$ext/extract-use.js" --sentences "$data/sentences.txt" \
  --out "$data/use-lite"
stage use-lite-random brown -- node "$ext/extract-use.js" --sentences "$data/sentences.txt" \
  --out "$data/use-lite-random" --random-weights "$random_seed"
stage glove brown -- node "$ext/extract-glove.js" --sentences "$data/sentences.txt" \
  --out "$data/glove" --fallback
for m in use-lite use-lite-random; do
  stage "import-$m" "$m" -- mpirun -np 2 "$salient" import --format=neurox-hdf5 --model="$m" \
    --architecture=transformer --pooling=last --tokens="$data/sentences.txt" --force \
    -o "$models/$m" "$data/$m-layer0.hdf5"
done
stage import-glove glove -- mpirun -np 2 "$salient" import --format=neurox-hdf5 --model=glove \
  --architecture=glove --pooling=none --tokens="$data/sentences.txt" --force \
  -o "$models/glove" "$data/glove.hdf5"

# The job: jobs/brown-demo.cfg names its data as ../out/brown-demo/...; for another DIR a copy
# of it in DIR names the same files relative to DIR.
job=$root/jobs/brown-demo.cfg
if [ "$out" != "$default_out" ]; then
  sed 's#"\.\./out/brown-demo/#"#g' "$job" > "$out/brown-demo.cfg.tmp"
  mv "$out/brown-demo.cfg.tmp" "$out/brown-demo.cfg"
  job=$out/brown-demo.cfg
fi

# A study begun on other models or another job (comment lines aside) starts afresh (the old
# one is kept as DIR/study.previous); otherwise it resumes.
inputs=$({ stat -c '%n %Y' "$stamps"/import-*; cat "$stamps"/import-*
  grep -v '^[[:space:]]*#' "$job"; } | sha256sum | cut -d' ' -f1)
if [ -d "$out/study" ] && [ "$(cat "$stamps/study" 2>/dev/null)" != "$inputs" ]; then
  echo "demo: the models or the job changed since $out/study was begun: starting it afresh" \
    "(the old one is now $out/study.previous)"
  rm -rf "$out/study.previous"
  mv "$out/study" "$out/study.previous"
fi
printf '%s\n' "$inputs" > "$stamps/study"

t0=$(date +%s.%N)
echo "demo: study: mpirun -np 2 $salient run $job -o $out/study"
rc=0
mpirun -np 2 "$salient" run "$job" -o "$out/study" || rc=$?
took "salient run (exit $rc)" "$t0"
took total "$t_all"
echo "demo: results in $out/study: results.nc, tables/ (layerwise, cross-architecture, ... as" \
  ".md, .csv, .tex), plots/; stage times in $timings"
exit "$rc"
