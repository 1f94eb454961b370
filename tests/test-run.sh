#!/usr/bin/env bash
# test-run.sh - `salient run` end to end on a synthetic study (3 models, one fine-tuned
# from another, 4 layers, 3 tasks, all analyses): the same results on 1, 2 and 4 ranks and
# on a worker group (a unit over --memory-per-rank spans ranks), cross-model units,
# resume, SIGKILL of every rank midway, SIGTERM, a corrupted shard, and the report's
# tables and plots.
# Usage: test-run.sh SALIENT MAKE_STUDY_FIXTURE MPIEXEC WORKDIR
set -u
salient=$1 fixture=$2 mpiexec=$3 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
passed=0 failed=0
check() {
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name"; fi
}
# the results without run-specific bits: every group, attribute and value
results() { ncdump "$1/results.nc" | sed '1d'; }
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
# a PNG: the 8-byte signature; an SVG: XML with an <svg> root, complete (well-formed
# where xmllint is installed)
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
is_svg() {
  head -c 64 "$1" | grep -q '^<?xml' && grep -q '<svg' "$1" && tail -c 16 "$1" | grep -q '</svg>' &&
    { ! command -v xmllint >/dev/null || xmllint --noout "$1" 2>/dev/null; }
}
# SVG text as PLplot's svg device writes it (each character as &#xNN;), or plain
svg_has() {
  local s=$2 enc="" i
  for ((i = 0; i < ${#s}; i++)); do enc+=$(printf '&#x%x;' "'${s:i:1}"); done
  grep -qF -e "$enc" -e "$s" "$1"
}
# a group attribute of the results: attr DIR GROUP NAME
attr() { ncdump -h "$1/results.nc" | sed -n "/^group: $2 {/,/} \/\/ group $2\$/p" |
         sed -n "s/^.*:$3 = \([0-9.e+-]*\)L* ;/\1/p"; }

"$fixture" study >/dev/null || { echo "FAIL: fixture"; exit 1; }
job=study/study.cfg
units=48

"$salient" run "$job" -o r1 > r1.log 2>&1; rc=$?
check "1 rank: exit 0" test $rc -eq 0
check "1 rank: all units" grep -q "$units units: $units done now" r1.log
"$mpiexec" -np 2 "$salient" run "$job" -o r2 > r2.log 2>&1; rc=$?
check "2 ranks: exit 0" test $rc -eq 0
"$mpiexec" -np 4 "$salient" run "$job" -o r4 > r4.log 2>&1; rc=$?
check "4 ranks: exit 0" test $rc -eq 0
check "4 ranks: all compute (rank 0 too)" grep -q "4 ranks (4 computing)" r4.log
# units over 2 MiB (the selection's, 2400 tokens x 64 neurons) need a group of ranks
"$mpiexec" -np 4 "$salient" run "$job" -o rg --memory-per-rank=2M > rg.log 2>&1; rc=$?
check "worker groups: exit 0" test $rc -eq 0
check "worker groups: formed" grep -q "1 group of [23] ranks for units over 2 MiB" rg.log
"$salient" run "$job" -o rn --memory-per-rank=100k > rn.log 2>&1; rc=$?
check "units too big for the run: exit 3" test $rc -eq 3
check "units too big for the run: say why" grep -q "needs about .* ranks of .*more ranks or a larger --memory-per-rank" rn/journal.tsv
results r1 > res1.txt
check "results have every unit" test "$(grep -c '^group: ' res1.txt)" -eq $units
check "2 ranks give the same results" bash -c "results() { ncdump \$1/results.nc | sed 1d; }; results r2 | cmp -s - res1.txt"
check "4 ranks give the same results" bash -c "results() { ncdump \$1/results.nc | sed 1d; }; results r4 | cmp -s - res1.txt"
check "the fine-tuned model is recorded" grep -q "m-ft" res1.txt
check "progress lines" grep -q "^\[$units/$units\]" r1.log
"$salient" run "$job" -o rp --progress=log --progress-every=0.01 > rp.log 2>&1
check "periodic progress lines" grep -q "^progress: [0-9]*/$units units done, [0-9]* running, 0 failed | elapsed [0-9]*s, ETA" rp.log
"$salient" run "$job" -o rbar --progress=bar > rbar.log 2>&1
check "a progress bar" grep -q "\[#*\.*\] $units/$units units done" rbar.log
# cross-model: the 12 neurons whose label-driven part the models share rank first
top=$(ncdump -v maxcorr_rank -g m-base__all__crossmodel r1/results.nc | sed -n '/maxcorr_rank =/,/;/p' |
      tr -c '0-9' ' ' | xargs -n1 | head -12 | sort -n | xargs)
check "cross-model: the shared neurons have the highest MaxCorr ($top)" test "$top" = "0 1 2 3 4 5 52 53 54 55 56 57"
check "cross-model table" grep -q "^| m-base | 64 | 0\.[0-9]* | 0\.[0-9]* | L0 0\.[0-9]*, L1" r1/tables/cross-model.md

# resume: nothing is recomputed
"$salient" run "$job" -o r1 > resume.log 2>&1; rc=$?
check "resume: exit 0" test $rc -eq 0
check "resume: nothing recomputed" grep -q "0 done now, $units done before" resume.log
check "resume: same results" bash -c "ncdump r1/results.nc | sed 1d | cmp -s - res1.txt"

# SIGKILL every rank midway, then the same command again
setsid "$mpiexec" -np 2 "$salient" run "$job" -o rk > rk1.log 2>&1 &
pid=$!
for i in $(seq 1 300); do [ "$(lines rk/journal.tsv)" -ge 8 ] && break; sleep 0.05; done
kill -KILL -- -"$pid" 2>/dev/null
pkill -KILL -f -- "-o rk\$" 2>/dev/null  # every rank, wherever its process group is
wait "$pid" 2>/dev/null
for i in $(seq 1 100); do pgrep -f -- "-o rk\$" >/dev/null || break; sleep 0.05; done
before=$(grep -c '^ok' rk/journal.tsv)
check "killed midway" test "$before" -ge 8 -a "$before" -lt $units
"$mpiexec" -np 2 "$salient" run "$job" -o rk > rk2.log 2>&1; rc=$?
check "after SIGKILL: exit 0" test $rc -eq 0
check "after SIGKILL: finished units not recomputed" grep -q "$((units - before)) done now, $before done before" rk2.log
check "after SIGKILL: results equal an uninterrupted run's" bash -c "ncdump rk/results.nc | sed 1d | cmp -s - res1.txt"

# SIGTERM to every rank, as Slurm's srun --signal does: a clean, quick, resumable exit
"$mpiexec" -np 2 "$salient" run "$job" -o rt > rt.log 2>&1 &
pid=$!
for i in $(seq 1 300); do [ "$(lines rt/journal.tsv)" -ge 5 ] && break; sleep 0.05; done
t0=$(date +%s.%N)
pkill -TERM -f -- "^$salient run $job -o rt\$"  # the ranks, not mpirun
wait "$pid"; rc=$?
t1=$(date +%s.%N)
check "SIGTERM: exit 75 (resumable)" test $rc -eq 75
check "SIGTERM: within 5 s" awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 5) }'
check "SIGTERM: says how to resume" grep -q "resume" rt.log
"$salient" run "$job" -o rt > rt2.log 2>&1; rc=$?
check "after SIGTERM: resumes to the end" test $rc -eq 0

# two runs on one folder: the second is refused, the first is not disturbed
"$salient" run "$job" -o rl > rl1.log 2>&1 &
pid=$!
for i in $(seq 1 300); do [ -f rl/lock ] && [ "$(lines rl/journal.tsv)" -ge 1 ] && break; sleep 0.01; done
kill -STOP "$pid" # hold the first run (and its lock) still: the whole study takes ~2 s
"$salient" run "$job" -o rl > rl2.log 2>&1; rc=$?
kill -CONT "$pid"
check "a second run on the same folder is refused" test $rc -ne 0
check "the refusal names the lock" grep -q "in use by another salient run" rl2.log
wait "$pid"; rc=$?
check "the first run completes" test $rc -eq 0

# one model's shard corrupted: its units fail, the others complete
cp -r study broken
head -c 3000 study/m-other/shard-00001.nc > broken/m-other/shard-00001.nc
"$salient" run broken/study.cfg -o rb > rb.log 2>&1; rc=$?
check "corrupt shard: exit 3" test $rc -eq 3
check "corrupt shard: its units failed" test "$(grep -c '^failed	m-other/' rb/journal.tsv)" -eq 16
check "corrupt shard: the cross-model units that need it failed" test "$(grep -c '^failed	.*/crossmodel' rb/journal.tsv)" -eq 3
check "corrupt shard: the message names the shard" grep -q "shard-00001.nc" rb/journal.tsv
check "corrupt shard: every other unit completed" test "$(grep -c '^ok' rb/journal.tsv)" -eq 30
check "corrupt shard: results mark the failed units" bash -c "ncdump rb/results.nc | grep -q '\"failed\"'"

# the tables: written at the end of a run, and by salient report; failed cells marked
check "run wrote the layer-wise table" test -s r1/tables/layerwise.md
# the majority-class baseline: three equally likely classes, so about a third of the test tokens
check "majority-class baseline near 1/3" awk -F'|' '$2 ~ /m-base/ && $3 ~ / A / { v = $(NF - 1) + 0; ok = v > 0.25 && v < 0.42 } END { exit !ok }' r1/tables/layerwise.md
for f in layerwise cross-architecture fine-tuning; do
  for e in csv md tex; do check "table $f.$e" test -s "r1/tables/$f.$e"; done
done
check "A is best found in layer 0" grep -q "^| A | best layer | [0-9.]* (L0)" r1/tables/cross-architecture.md
check "B is best found in layer 3" grep -q "^| B | best layer | [0-9.]* (L3)" r1/tables/cross-architecture.md
check "the fine-tuned model sits beside its base" grep -q "m-ft vs m-base" r1/tables/fine-tuning.md
"$salient" report rb > rep.log 2>&1; rc=$?
check "report of a run with failed units: exit 0" test $rc -eq 0
check "failed cells are marked" grep -q "| m-other | A | failed" rb/tables/layerwise.md

# the plots: per task a heat map and the curves, as PNG and SVG, of the right data
for t in A B C; do
  for k in layers curves; do
    check "plot $k-$t.png is a PNG" is_png "r1/plots/$k-$t.png"
    check "plot $k-$t.svg is an SVG" is_svg "r1/plots/$k-$t.svg"
    check "plot $k-$t.svg names its task" svg_has "r1/plots/$k-$t.svg" "task $t"
    for m in m-base m-ft m-other; do
      check "plot $k-$t.svg names $m" svg_has "r1/plots/$k-$t.svg" "$m"
    done
  done
done
check "no plot of the cross-model units" test ! -e r1/plots/layers-crossmodel.png
k=$(attr r1 m-ft__all__A k_min) d=$(attr r1 m-ft__all__A neurons)
check "the curves give m-ft's minimal set ($k of $d)" \
  svg_has r1/plots/curves-A.svg "m-ft (minimal set $k of $d)"
check "the heat map gives m-ft's minimal set" \
  svg_has r1/plots/layers-A.svg "minimal set $k of $d"
check "failed units are marked in the heat map" svg_has rb/plots/layers-A.svg "failed"
check "failed units are marked in the curves' legend" svg_has rb/plots/curves-A.svg "m-other: failed"
# one model, one layer, one task still plots
cat > study/single.cfg <<'EOF_CFG'
study = "single";
models = ( { name = "m-base"; shards = "m-base"; architecture = "synthetic"; layers = 0; } );
tasks = ( { name = "A"; labels = "A.txt"; } );
split = { train = 0.6; dev = 0.2; test = 0.2; seed = 3; };
probe = { l1 = 1e-3; l2 = 1e-3; tol = 1e-6; };
analyses = { run = ["layerwise", "minimal"]; };
EOF_CFG
"$salient" run study/single.cfg -o rsingle > rsingle.log 2>&1; rc=$?
check "one model, one layer: exit 0" test $rc -eq 0
check "one model, one layer: heat map" is_png rsingle/plots/layers-A.png
check "one model, one layer: curves" svg_has rsingle/plots/curves-A.svg "m-base (minimal set"
# a plot that cannot be written: a clear error naming the file, no crash
mkdir -p rplot-err/plots/layers-B.png && cp r1/results.nc rplot-err/
"$salient" report rplot-err > rplot-err.log 2>&1; rc=$?
check "unwritable plot: exit 74 (I/O error)" test $rc -eq 74
check "unwritable plot: the error names the file" grep -q "plots/layers-B.png" rplot-err.log

# salient compare: the runs agree; a perturbed figure and missing units are caught
"$salient" compare r2 r1 > c21.log 2>&1; rc=$?
check "compare 2 ranks vs 1: exit 0" test $rc -eq 0
check "compare counts figures" grep -q "0 drift" c21.log
"$salient" compare r4 r1 > c41.log 2>&1; rc=$?
check "compare 4 ranks vs 1: exit 0" test $rc -eq 0
"$salient" compare --rtol 1e-6 rg r1 > cg1.log 2>&1; rc=$?
check "compare worker groups vs 1 rank: exit 0" test $rc -eq 0
mkdir -p pert
ncdump r1/results.nc | awk '!done && /:oracle_test = / { sub(/= [^ ;]+/, "= 0.123456"); done = 1 } { print }' > pert.cdl
ncgen -4 -o pert/results.nc pert.cdl
"$salient" compare r1 pert > cp.log 2>&1; rc=$?
check "compare a perturbed figure: exit 1" test $rc -eq 1
check "compare names the drifting figure" grep -q "drift .*oracle_test .*0.123456" cp.log
"$salient" compare rb r1 > cb.log 2>&1; rc=$?
check "compare with failed units: exit 1" test $rc -eq 1
check "compare lists the missing units" test "$(grep -c '^missing' cb.log)" -eq 18

echo "test-run: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
