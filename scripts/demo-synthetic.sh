#!/usr/bin/env bash
# The seconds-long smoke demo (the README's main command, scripts/demo.sh, runs the real
# Brown Corpus study): install dependencies, build, and run the bundled synthetic study on
# this machine with 2 MPI ranks: import the bundled NeuroX-format activations
# (jobs/demo/data: a per-layer HDF5 export with layer widths 4, 6, 6 and a JSON-lines
# export of the same sentences), inspect them, and run jobs/demo.cfg with `salient run`.
# Output: out/demo/ (models, inspect.txt, study/ with results.nc and the journal).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1
salient=${BUILD_DIR:-build}/salient
data=jobs/demo/data
out=out/demo
mkdir -p "$out"
mpirun -np 2 "$salient" import --format=neurox-hdf5 --model=demo-layers --architecture=synthetic \
  --tokens="$data/sentences.txt" --force -o "$out/models/demo-layers" "$data/demo-layer0.hdf5"
mpirun -np 2 "$salient" import --format=neurox-json --model=demo-json --architecture=synthetic \
  --tokens="$data/sentences.txt" --force -o "$out/models/demo-json" "$data/demo.jsonl"
mpirun -np 2 "$salient" inspect "$out/models/demo-layers" "$out/models/demo-json" | tee "$out/inspect.txt"
rm -rf "$out/study"
mpirun -np 2 "$salient" run jobs/demo.cfg -o "$out/study"
