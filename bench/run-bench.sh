#!/usr/bin/env bash
# run-bench.sh - the probe benchmark in one run: salient (1 and 2 ranks), the C Adam loop
# (NeuroX's training in C), and the Python peers (NeuroX's loop in PyTorch, scipy's
# L-BFGS-B, scikit-learn's saga) on the same case files (same data, same train split),
# every peer scored on salient's objective; then one table with the ratios.
#
# Usage: bench/run-bench.sh [--cases LIST] [--lambdas LIST] [--tol T] [--models DIR]
#                           [--data DIR] [--out DIR] [--peers LIST] [--time-limit S]
#   --cases     comma-separated case names (default: every case below)
#   --lambdas   lambda1 = lambda2 values (default 1e-4,1e-5)
#   --models    salient models of the real cases (default out/bench/models: use-lite and
#               use-lite-random, from `salient import` of the extractor's output)
#   --data      their labels (default out/bench/data: pos-coarse.txt, pos-fine.txt)
#   --out       where cases, JSON lines and the table go (default out/bench/run)
#   --peers     Python peers (default neurox,lbfgsb,saga)
# Cases: tiny (synthetic 5000 x 64 x 10, a smoke test of this script), small (20k x 256 x 45), pos (synthetic 100k x 768 x 45), all (20k x 4096 x 45), binary (100k x 768 x 2);
# use-coarse, use-fine, random-coarse, random-fine (real: USE-lite or its random-weights
# copy, all layers, Brown base tags or full tags); use0-coarse, use0-fine (USE-lite's
# embedding layer alone, 256 neurons). To make the real models:
#   node src/extract/brown.js --sentences 2000 --every 28 --out out/bench/data
#   node src/extract/extract-use.js --sentences out/bench/data/sentences.txt \
#        --out out/bench/data/use-lite [--random-weights 1]
#   salient import --format=neurox-hdf5 --model=use-lite --pooling=last \
#        --tokens=out/bench/data/sentences.txt -o out/bench/models/use-lite \
#        out/bench/data/use-lite-layer0.hdf5
set -euo pipefail
cd "$(dirname "$0")/.."
cases=pos,all,binary,use-coarse,use-fine,random-coarse,random-fine
lambdas=1e-4,1e-5 tol=1e-6 models=out/bench/models data=out/bench/data out=out/bench/run
peers=neurox,lbfgsb,saga limit=900
while [ $# -gt 0 ]; do
  case $1 in
    --cases) cases=$2; shift 2 ;;
    --lambdas) lambdas=$2; shift 2 ;;
    --tol) tol=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --peers) peers=$2; shift 2 ;;
    --time-limit) limit=$2; shift 2 ;;
    -h | --help) sed -n 2,23p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-bench: unknown argument '$1' (see --help)" >&2; exit 64 ;;
  esac
done
build=${BUILD_DIR:-build}
cmake --build "$build" --target benchmarks -j2 > /dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1 OPENBLAS_NUM_THREADS=1
mkdir -p "$out"
results=$out/results.jsonl

make_case() { # name -> $out/name.nc (kept between runs)
  local f=$out/$1.nc
  [ -s "$f" ] && return 0
  case $1 in
    tiny) "$build/bench-case" synthetic tiny 5000 64 10 1 -o "$f" ;; # a smoke test of this script
    small) "$build/bench-case" synthetic small 20000 256 45 1 -o "$f" ;;
    pos) "$build/bench-case" synthetic pos 100000 768 45 1 -o "$f" ;;
    all) "$build/bench-case" synthetic all 20000 4096 45 1 -o "$f" ;;
    binary) "$build/bench-case" synthetic binary 100000 768 2 1 -o "$f" ;;
    use-coarse | use-fine | random-coarse | random-fine | use0-coarse | use0-fine)
      local m=use-lite task=pos-${1#*-} layers=all
      [ "${1%%-*}" = random ] && m=use-lite-random
      [ "${1%%-*}" = use0 ] && layers=0
      "$build/bench-case" real "$1" --model="$models/$m" --layers="$layers" \
        --labels="$data/$task.txt" --sentences="$data/sentences.txt" -o "$f" ;;
    *) echo "run-bench: unknown case '$1'" >&2; exit 64 ;;
  esac
}

for c in ${cases//,/ }; do
  make_case "$c"
  for l in ${lambdas//,/ }; do
    echo "== $c lambda $l tol $tol ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))"
    ref=$out/$c-$l.ref.nc
    mpirun -np 2 "$build/bench-probe" "$out/$c.nc" --l1 "$l" --l2 "$l" --tol "$tol" \
      --reference-out "$ref" | tee "$out/$c-$l.salient.log" | grep -v '^JSON ' || true
    grep '^JSON ' "$out/$c-$l.salient.log" | sed 's/^JSON //' >> "$results"
    /usr/bin/python3 bench/peers.py "$out/$c.nc" --l1 "$l" --l2 "$l" --tol "$tol" \
      --peers "$peers" --time-limit "$limit" --reference "$ref" --neurox-threads 1 \
      2> "$out/$c-$l.peers.err" | tee -a "$results" || true
  done
done
/usr/bin/python3 bench/bench-table.py "$results" | tee "$out/table.md"
