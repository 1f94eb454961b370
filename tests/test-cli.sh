#!/usr/bin/env bash
# test-cli.sh - the salient command end to end: help, version and usage errors (alone and
# under mpirun), import of every NeuroX format, inspect, and clean failures.
# Usage: test-cli.sh SALIENT MAKE_NEUROX_FIXTURE MPIEXEC WORKDIR CHECK_PROBE_FILE
set -u
salient=$1 fixture=$2 mpiexec=$3 work=$4 checkprobe=$5
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
passed=0 failed=0

check() { # check NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name"; fi
}
run() { # run OUTFILE CMD...: run, capture stdout+stderr, set $rc
  local out=$1; shift
  "$@" >"$out" 2>&1; rc=$?
}
has() { grep -q -- "$2" "$1" || { echo "  '$2' not in $1:"; sed 's/^/    /' "$1" | head -20; return 1; }; }
count() { grep -c -- "$2" "$1"; }

# --- help, version, usage -------------------------------------------------------
run help.txt "$salient" --help
check "--help exits 0" test $rc -eq 0
check "--help lists import" has help.txt "import"
check "--help lists inspect" has help.txt "inspect"
run version.txt "$salient" --version
check "--version" has version.txt "^salient [0-9]"
run ihelp.txt "$salient" import --help
check "import --help exits 0" test $rc -eq 0
check "import --help explains --format" has ihelp.txt "--format=FORMAT"
check "import --help explains --tokens" has ihelp.txt "--tokens"
run none.txt "$salient"
check "no command is a usage error" test $rc -eq 64
run unknown.txt "$salient" frobnicate
check "unknown command exits 64" test $rc -eq 64
check "unknown command named" has unknown.txt "frobnicate"
run noformat.txt "$salient" import --model=m -o out in.hdf5
check "import without --format exits 64" test $rc -eq 64
check "missing --format named" has noformat.txt "format"
run badshard.txt "$salient" import --format=neurox-json --model=m --shard-sentences=0 -o out x
check "bad --shard-sentences exits 64" test $rc -eq 64

run mpihelp.txt "$mpiexec" -np 2 "$salient" --help
check "mpirun -np 2 --help exits 0" test $rc -eq 0
check "help printed once under mpirun" test "$(count mpihelp.txt 'Commands:')" -eq 1
run mpiusage.txt "$mpiexec" -np 2 "$salient" import --model=m
check "usage error under mpirun exits 64" test $rc -eq 64
check "usage message printed once" test "$(count mpiusage.txt 'is required')" -eq 1
check "no rank left improperly" bash -c "! grep -qi 'without calling\|improperly\|MPI_ABORT\|signal' mpiusage.txt"

# --- fixtures -------------------------------------------------------------------
"$fixture" hdf5 acts.hdf5 >/dev/null && "$fixture" hdf5 acts16.hdf5 --float16 >/dev/null &&
  "$fixture" layers split >/dev/null && "$fixture" json acts.jsonl >/dev/null &&
  "$fixture" sentences sentences.txt >/dev/null && "$fixture" hdf5-nan nan.hdf5 >/dev/null ||
  { echo "FAIL: could not make fixtures"; exit 1; }
ntok=$(wc -w < sentences.txt)
nsent=$(wc -l < sentences.txt)

# --- import and inspect, under mpirun with 2 ranks -------------------------------
run imp1.txt "$mpiexec" -np 2 "$salient" import --format=neurox-hdf5 --model=fix \
  --tokens=sentences.txt --shard-sentences=5 --architecture=test -o models/fix acts.hdf5
check "import hdf5 under mpirun" test $rc -eq 0
check "import reports its counts once" test "$(count imp1.txt "$nsent sentences, $ntok tokens")" -eq 1
run ins1.txt "$mpiexec" -np 2 "$salient" inspect models/fix
check "inspect exits 0" test $rc -eq 0
check "inspect names the model" has ins1.txt "^model  *fix"
check "inspect counts sentences" has ins1.txt "^sentences  *$nsent\$"
check "inspect counts tokens" has ins1.txt "^tokens  *$ntok\$"
check "inspect counts shards" has ins1.txt "^shards  *3\$"
check "inspect prints one row per layer" test "$(grep -cE '^ +[0-9]+ +[0-9]+ ' ins1.txt)" -eq 3
check "ncdump reads a shard" bash -c "ncdump -h models/fix/shard-00000.nc | grep -q 'float layer_0(token, neuron_0)'"

run imp2.txt "$salient" import --format=neurox-hdf5 --model=split -o models/split split-layer0.hdf5
check "per-layer import" test $rc -eq 0
run ins2.txt "$salient" inspect models/split
check "per-layer widths differ" has ins2.txt "layers  *3 (16 neurons"
run imp3.txt "$salient" import --format=neurox-json --model=js --tokens=sentences.txt -o models/js acts.jsonl
check "json import" test $rc -eq 0
run imp4.txt "$salient" import --format=neurox-hdf5 --model=f16 -o models/f16 acts16.hdf5
check "float16 import" test $rc -eq 0
check "float16 equals float32" bash -c "'$salient' inspect models/f16 | tail -n 3 > a; '$salient' inspect models/fix | tail -n 3 > b; cmp -s a b"

# --- failures are clean ------------------------------------------------------------
run nan.txt "$salient" import --format=neurox-hdf5 --model=nan -o models/nan nan.hdf5
check "NaN import exits 65" test $rc -eq 65
check "NaN named" has nan.txt "NaN"
check "failed import leaves nothing" test ! -e models/nan
check "no temporary folder left" bash -c "! ls models | grep -q partial"
run exists.txt "$salient" import --format=neurox-hdf5 --model=fix -o models/fix acts.hdf5
check "existing output exits 73" test $rc -eq 73
run force.txt "$salient" import --format=neurox-hdf5 --model=fix2 --force --shard-sentences=5 -o models/fix acts.hdf5
check "--force replaces" has <("$salient" inspect models/fix) "^model  *fix2"
sed '3s/^[^ ]*/CHANGED/' sentences.txt > wrong.txt
run wrong.txt.out "$salient" import --format=neurox-hdf5 --model=w --tokens=wrong.txt -o models/w acts.hdf5
check "misaligned tokens exit 65" test $rc -eq 65
check "misalignment names file:line" has wrong.txt.out "wrong.txt:3"
run missing.txt "$salient" import --format=neurox-hdf5 --model=x -o models/x nothere.hdf5
check "missing input exits 74" test $rc -eq 74
check "missing input named" has missing.txt "nothere.hdf5"
run notmodel.txt "$salient" inspect .
check "inspect of a non-model exits 65" test $rc -eq 65
cp -r models/fix models/cut && head -c 2000 models/fix/shard-00001.nc > models/cut/shard-00001.nc
run cut.txt "$mpiexec" -np 2 "$salient" inspect models/cut
check "inspect of a truncated shard fails" test $rc -ne 0
check "truncated shard named" has cut.txt "shard-00001.nc"

# --- probe ---------------------------------------------------------------------------
"$fixture" labels labels.txt >/dev/null || { echo "FAIL: could not make labels"; exit 1; }
objective() { sed -n 's/^objective \([^ ]*\).*/\1/p' "$1"; }
run pr1.txt "$salient" probe --model=models/split --labels=labels.txt --l1=1e-2 --l2=1e-2 --tol=1e-8 -o probe1.nc
check "probe on 1 rank" test $rc -eq 0
check "probe reports accuracy" has pr1.txt "^train .*accuracy"
check "probe reports optimality" has pr1.txt "optimality violation"
run pr2.txt "$mpiexec" -np 2 "$salient" probe --model=models/split --labels=labels.txt --l1=1e-2 --l2=1e-2 --tol=1e-8 -o probe2.nc
check "probe on 2 ranks" test $rc -eq 0
run pr3.txt "$mpiexec" -np 3 "$salient" probe --model=models/split --layers=0,2 --labels=labels.txt --sentences=sentences.txt --l1=1e-2 --l2=1e-2
check "probe on 3 ranks, two layers, with --sentences" test $rc -eq 0
check "same objective on 1 and 2 ranks" awk -v a="$(objective pr1.txt)" -v b="$(objective pr2.txt)" \
  'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-8 * (a < 0 ? -a : a)) }'
check "probe file has weights" bash -c "ncdump -h probe1.nc | grep -q 'double weight(class, neuron)'"
check "probe file has the split" bash -c "ncdump -h probe1.nc | grep -q 'byte split(sentence)'"
check "probe file has lambdas" bash -c "ncdump -h probe1.nc | grep -q ':lambda1 = 0.01'"
check "objective recomputed from the probe file" "$checkprobe" models/split labels.txt probe2.nc
run prneg.txt "$salient" probe --model=models/split --labels=labels.txt --l1=-1
check "negative lambda exits 64" test $rc -eq 64
check "negative lambda named" has prneg.txt "lambda1"
awk '{ for (i = 1; i <= NF; i++) $i = "X"; print }' labels.txt > one-class.txt
run prone.txt "$salient" probe --model=models/split --labels=one-class.txt
check "one class exits 65" test $rc -eq 65
check "one class named" has prone.txt "class"
run prsplit.txt "$salient" probe --model=models/split --labels=labels.txt --split=0.99,0.01,0
check "empty split exits 64" test $rc -eq 64
check "empty split named" has prsplit.txt "dev split is empty"
run prwords.txt "$salient" probe --model=models/split --labels=labels.txt --sentences=wrong.txt
check "labels for other words exit 65" test $rc -eq 65
check "other words named by file:line" has prwords.txt "wrong.txt:3"
head -n 5 labels.txt > short-labels.txt
run prshort.txt "$mpiexec" -np 2 "$salient" probe --model=models/split --labels=short-labels.txt
check "labels for fewer sentences fail" test $rc -eq 65
check "the count is named" has prshort.txt "short-labels.txt has 5 lines"

echo "test-cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
