#!/usr/bin/env bash
# bench-study.sh - the scheduler's own cost: a study of 2,000 tiny units (the bundled demo
# model under 25 names x 20 tasks x 4 units each), layer-wise probes only, so that the
# units take milliseconds and rank 0's bookkeeping shows. Prints what `salient run`
# reports: rank 0's milliseconds per unit and the workers' idle share.
# Usage: bench/bench-study.sh [RANKS] (default 2), from the repository, after a build.
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=${1:-2}
salient=${BUILD_DIR:-build}/salient
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1 OPENBLAS_NUM_THREADS=1
"$salient" import --format=neurox-hdf5 --model=tiny -q -o "$work/tiny" jobs/demo/data/demo-layer0.hdf5
{
  echo 'study = "bench"; models = ('
  for m in $(seq 1 25); do echo "{ name = \"m$m\"; shards = \"$work/tiny\"; },"; done | sed '$ s/,$//'
  echo '); tasks = ('
  for t in $(seq 1 20); do echo "{ name = \"t$t\"; labels = \"$PWD/jobs/demo/data/labels.txt\"; },"; done | sed '$ s/,$//'
  echo '); split = { train = 0.6; dev = 0.2; test = 0.2; seed = 1; };'
  echo 'probe = { l1 = 1e-2; l2 = 1e-2; tol = 1e-4; };'
  echo 'analyses = { run = ["layerwise"]; };'
} > "$work/bench.cfg"
start=$(date +%s.%N)
mpirun -np "$ranks" "$salient" run "$work/bench.cfg" -o "$work/out" | tail -3
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" 'BEGIN { printf "wall %.1f s for 2000 units on %s ranks: %.2f ms per unit\n", b - a, "'"$ranks"'", (b - a) * 1000 / 2000 }'
