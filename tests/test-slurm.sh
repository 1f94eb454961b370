#!/usr/bin/env bash
# test-slurm.sh - the batch scripts on a real single-node Slurm (munged, slurmctld, slurmd,
# all private to a temporary folder): slurm/nightly.sbatch runs the nightly reproduction and
# passes; scripts/nightly.sh against a reference with one figure perturbed exits 1 naming it;
# slurm/study.sbatch saves on SIGTERM, requeues itself and completes the study, and a plain
# scancel is not requeued.
# Usage: test-slurm.sh SALIENT MAKE_STUDY_FIXTURE
# By default the nightly runs the real demo (scripts/demo.sh) against results/brown-demo;
# SALIENT_SLURM_TEST_QUICK=1 runs it on the synthetic study of make-study-fixture instead
# (seconds), as does a checkout without results/brown-demo/results.nc (said loudly).
# SALIENT_SLURM_TEST_OUT=DIR keeps the demo's output there (reused by the next run);
# SALIENT_SLURM_TEST_KEEP=1 keeps the temporary folder. Needs root and the Slurm packages
# (scripts/install-deps.sh): without them it is skipped (77), unless CI=true (then it fails).
set -u
salient=$(realpath "$1") fixture=$(realpath "$2")
root=$(cd "$(dirname "$0")/.." && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1 OMPI_MCA_mpi_yield_when_idle=1
export SALIENT=$salient BUILD_DIR=$(dirname "$salient")
t_start=$(date +%s)

# ---- prerequisites: root and the Slurm and NetCDF tools ----
missing=()
[ "$(id -u)" -eq 0 ] || missing+=("root")
for c in munged munge slurmctld slurmd sbatch scontrol scancel sinfo runuser ncdump ncgen; do
  command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || missing+=("$c")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: test-slurm needs ${missing[*]} (scripts/install-deps.sh installs the packages)"
    exit 1
  fi
  echo "SKIP: test-slurm needs ${missing[*]} (scripts/install-deps.sh installs the packages)"
  exit 77
fi
PATH=$PATH:/usr/sbin

passed=0 failed=0
check() {
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name"; fi
}

# ---- a private Slurm in a temporary folder, stopped on every exit ----
tmp=$(mktemp -d "${TMPDIR:-/tmp}/salient-slurm.XXXXXX") || exit 1
chmod 755 "$tmp" # munged runs as the munge user and must reach its folder
submitted=()
stop_pidfile() { # stop the daemon of pid file $1: TERM, then KILL after 10 s
  local pid
  [ -s "$1" ] || return 0
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
}
cleanup() {
  local rc=$?
  trap - EXIT
  if [ -s "$tmp/slurmctld.pid" ] && [ "${#submitted[@]}" -gt 0 ]; then
    scancel "${submitted[@]}" 2>/dev/null
    for _ in $(seq 100); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  stop_pidfile "$tmp/slurmd.pid"
  stop_pidfile "$tmp/slurmctld.pid"
  stop_pidfile "$tmp/munge/munged.pid"
  if [ "$rc" -ne 0 ]; then
    for f in "$tmp"/log/*.log "$tmp"/munge/*.log; do
      [ -f "$f" ] && { echo "---- last lines of $f"; tail -n 15 "$f"; }
    done
  fi
  if [ "${SALIENT_SLURM_TEST_KEEP:-0}" = 1 ]; then
    echo "test-slurm: kept $tmp"
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# munge: a key and a daemon of our own, on our own socket
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log" "$tmp/out"
chown munge:munge "$tmp/munge" && chmod 755 "$tmp/munge" || exit 1
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none &&
  chown munge:munge "$tmp/munge/munge.key" && chmod 400 "$tmp/munge/munge.key" || exit 1
socket=$tmp/munge/munge.socket
runuser -u munge -- munged --socket="$socket" --key-file="$tmp/munge/munge.key" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munge/munged.log" \
  --seed-file="$tmp/munge/munged.seed" || { echo "FAIL: munged did not start"; exit 1; }
munge -n -S "$socket" | unmunge -S "$socket" >/dev/null || { echo "FAIL: munge round trip"; exit 1; }

# two free ports for slurmctld and slurmd (another Slurm may be running here)
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=6817
while listening "$port" || listening $((port + 1)); do port=$((port + 2)); done

export SLURM_CONF=$tmp/slurm.conf
cat > "$SLURM_CONF" <<EOF
ClusterName=salienttest
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job may start again after this many seconds (default 120)
AuthInfo=socket=$socket,cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=3600
# start a requeued job as soon as it is eligible, not at the next minute's pass
SchedulerParameters=sched_interval=2,bf_interval=1
SlurmdParameters=config_overrides
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
NodeName=localhost CPUs=2 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld || { echo "FAIL: slurmctld did not start"; exit 1; }
slurmd -N localhost || { echo "FAIL: slurmd did not start"; exit 1; }
for _ in $(seq 300); do
  [ "$(sinfo -h -n localhost -o %T 2>/dev/null)" = idle ] && break
  sleep 0.1
done
check "the node is idle" test "$(sinfo -h -n localhost -o %T 2>/dev/null)" = idle
[ "$failed" -eq 0 ] || exit 1
echo "test-slurm: Slurm up on ports $port-$((port + 1)) after $(($(date +%s) - t_start)) s"

# A job's field $2 (JobState, ExitCode, Restarts, ...) from scontrol.
job_field() { scontrol show job -o "$1" 2>/dev/null | grep -o "\b$2=[^ ]*" | head -n 1 | cut -d= -f2; }
# Wait up to $2 s for job $1 to end; print its final state.
wait_job() {
  local state="" end=$(($(date +%s) + $2))
  while [ "$(date +%s)" -lt "$end" ]; do
    state=$(job_field "$1" JobState)
    case $state in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED)
        break ;;
    esac
    sleep 1
  done
  echo "$state"
}
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }

# ---- the nightly: the real demo, or the synthetic study in quick mode ----
quick=${SALIENT_SLURM_TEST_QUICK:-0}
reference=$root/results/brown-demo
if [ "$quick" != 1 ] && [ ! -f "$reference/results.nc" ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAIL: $reference/results.nc is missing: CI runs the real demo against it"
    exit 1
  fi
  echo "test-slurm: NOTE: $reference/results.nc is not there: the nightly runs the" \
    "synthetic study (quick mode) instead of the real demo"
  quick=1
fi
nightly_args=()
if [ "$quick" = 1 ]; then
  # scripts/demo.sh's interface (--out DIR, the study in DIR/study, a finished study reused)
  # on make-study-fixture's synthetic study
  cat > "$tmp/quick-demo.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
[ "\$1" = --out ] || exit 64
mkdir -p "\$2"
[ -f "\$2/fixture/study.cfg" ] || "$fixture" "\$2/fixture" >/dev/null
mpirun -np 2 "$salient" run "\$2/fixture/study.cfg" -o "\$2/study"
EOF
  chmod +x "$tmp/quick-demo.sh"
  out=$tmp/out/quick
  reference=$tmp/reference
  "$fixture" "$tmp/ref-fixture" >/dev/null && "$salient" run "$tmp/ref-fixture/study.cfg" \
    -o "$reference" > "$tmp/reference.log" 2>&1 # on one rank, outside Slurm
  check "quick: the reference study ran" test -f "$reference/results.nc"
  nightly_args=(--job-cmd "$tmp/quick-demo.sh")
  nightly_wait=300
  echo "test-slurm: quick mode: the nightly runs the synthetic study"
else
  out=${SALIENT_SLURM_TEST_OUT:-$tmp/out/brown-demo}
  nightly_wait=${SALIENT_SLURM_TEST_WAIT:-3300}
  echo "test-slurm: full mode: the nightly runs scripts/demo.sh --out $out"
fi
nightly_args+=(--out "$out" --reference "$reference")

t0=$(date +%s)
jid=$(cd "$root" && sbatch --parsable --output="$tmp/nightly-%j.out" slurm/nightly.sbatch \
  "${nightly_args[@]}")
[ -n "$jid" ] && submitted+=("$jid")
state=$(wait_job "$jid" "$nightly_wait")
t_nightly=$(($(date +%s) - t0))
log=$tmp/nightly-$jid.out
echo "test-slurm: nightly job $jid: $state, exit $(job_field "$jid" ExitCode) after $t_nightly s"
check "nightly job: COMPLETED" test "$state" = COMPLETED
check "nightly job: exit code 0" test "$(job_field "$jid" ExitCode)" = 0:0
check "nightly job: the compare passed" grep -q "^nightly: PASS" "$log"
check "nightly job: no figure drifts" grep -q "compared [0-9]* figures of [0-9]* units: 0 drift.* 0 units missing" "$log"
if [ "$state" != COMPLETED ] || ! grep -q "^nightly: PASS" "$log"; then
  echo "---- last lines of the nightly job's log"
  tail -n 30 "$log"
fi

# ---- the nightly again, outside Slurm, against a reference with one figure perturbed ----
mkdir -p "$tmp/perturbed"
ref_nc=$reference
[ -d "$reference" ] && ref_nc=$reference/results.nc
ncdump -p 9,17 "$ref_nc" | awk -v mark="$tmp/perturbed/unit" '
  /^group: / { group = $2 }
  !done && group != "" && /^[ \t]*:oracle_test = / {
    sub(/= [^ ;]+/, "= 0.123456"); done = 1; print group > mark }
  { print }' > "$tmp/perturbed.cdl"
ncgen -4 -o "$tmp/perturbed/results.nc" "$tmp/perturbed.cdl"
unit=$(sed 's/__/\//g' "$tmp/perturbed/unit" 2>/dev/null)
check "a figure was perturbed" test -n "$unit"
before=$(lines "$out/study/journal.tsv")
"$root/scripts/nightly.sh" "${nightly_args[@]}" --reference "$tmp/perturbed" > "$tmp/drift.log" 2>&1
rc=$?
check "perturbed reference: exit 1" test "$rc" -eq 1
check "perturbed reference: the figure is named" \
  grep -q "^drift  $unit  *oracle_test  *[^ ]*  reference 0.123456" "$tmp/drift.log"
check "perturbed reference: only that figure" test "$(grep -c '^drift' "$tmp/drift.log")" -eq 1
check "perturbed reference: the summary says so" grep -q "^nightly: DRIFT" "$tmp/drift.log"
check "perturbed reference: nothing recomputed" test "$(lines "$out/study/journal.tsv")" -eq "$before"
[ "$rc" -eq 1 ] || tail -n 30 "$tmp/drift.log"

# the nightly's other exit codes (instant: no study runs)
nightly() { "$root/scripts/nightly.sh" "$@" > "$tmp/codes.log" 2>&1; echo $?; }
check "nightly: a failed run exits 2" test "$(nightly --job-cmd false --out "$tmp/out/none" \
  --reference "$reference")" -eq 2
check "nightly: an interrupted run exits 75" test "$(nightly --job-cmd 'sh -c "exit 75"' \
  --out "$tmp/out/none" --reference "$reference")" -eq 75
check "nightly: a run without results exits 4" test "$(nightly --job-cmd true \
  --out "$tmp/out/none" --reference "$reference")" -eq 4
check "nightly: no reference exits 4" test "$(nightly --job-cmd true --out "$out" \
  --reference "$tmp/no-such-reference")" -eq 4
check "nightly: a bad tolerance exits 64" test "$(nightly --rtol x)" -eq 64

# ---- slurm/study.sbatch: SIGTERM saves, the job requeues itself and completes ----
# The synthetic study with a 10-value lambda grid at a tight tolerance: about 10 s.
"$fixture" "$tmp/rq" >/dev/null
cat > "$tmp/rq/slow.cfg" <<EOF
study = "requeue";
models = (
  { name = "m-base"; shards = "m-base"; architecture = "synthetic"; },
  { name = "m-ft"; shards = "m-ft"; architecture = "synthetic"; base = "m-base"; },
  { name = "m-other"; shards = "m-other"; architecture = "other"; }
);
tasks = ( { name = "A"; labels = "A.txt"; }, { name = "B"; labels = "B.txt"; },
          { name = "C"; labels = "C.txt"; } );
split = { train = 0.6; dev = 0.2; test = 0.2; seed = 3; };
probe = { l1 = [1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]; l2 = 1e-3; tol = 1e-9; };
analyses = { run = ["layerwise", "minimal", "ablation", "control", "redundancy"]; };
EOF
t0=$(date +%s)
jid=$(cd "$tmp/rq" && sbatch --parsable --output="$tmp/study-%j.out" "$root/slurm/study.sbatch" \
  slow.cfg study)
[ -n "$jid" ] && submitted+=("$jid")
for _ in $(seq 600); do [ "$(lines "$tmp/rq/study/journal.tsv")" -ge 3 ] && break; sleep 0.1; done
scancel --signal=TERM --batch "$jid" # what --signal=B:TERM@SECS does before the time limit
for _ in $(seq 300); do [ "$(job_field "$jid" Restarts)" = 1 ] && break; sleep 0.1; done
saved=$(grep -c '^ok' "$tmp/rq/study/journal.tsv")
check "study job: requeued after SIGTERM" test "$(job_field "$jid" Restarts)" = 1
state=$(wait_job "$jid" 180)
log=$tmp/study-$jid.out
units=$(sed -n 's/^study requeue: \([0-9]*\) units, 0 done before.*/\1/p' "$log" | head -n 1)
check "study job: stopped midway" test "$saved" -ge 3 -a "$saved" -lt "${units:-0}"
echo "test-slurm: study job $jid: $state after $(($(date +%s) - t0)) s, requeued after $saved units"
check "study job: COMPLETED after the restart" test "$state" = COMPLETED
check "study job: exit code 0" test "$(job_field "$jid" ExitCode)" = 0:0
check "study job: salient exited 75 on SIGTERM" grep -q "salient run exited 75" "$log"
check "study job: the restart resumed" grep -q "[0-9]* done now, [1-9][0-9]* done before, 0 failed" "$log"
check "study job: every unit done" test "$(grep -c '^ok' "$tmp/rq/study/journal.tsv")" -eq "${units:-0}"
check "study job: results written" test -f "$tmp/rq/study/results.nc"
[ "$state" = COMPLETED ] || tail -n 30 "$log"

# a plain scancel ends a study job for good: it is not requeued
jid=$(cd "$tmp/rq" && sbatch --parsable --output="$tmp/study-%j.out" "$root/slurm/study.sbatch" \
  slow.cfg study2)
[ -n "$jid" ] && submitted+=("$jid")
for _ in $(seq 600); do [ "$(lines "$tmp/rq/study2/journal.tsv")" -ge 1 ] && break; sleep 0.1; done
scancel "$jid"
state=$(wait_job "$jid" 60)
sleep 2
check "scancel: the job is CANCELLED" test "$(job_field "$jid" JobState)" = CANCELLED
check "scancel: not requeued" test "$(job_field "$jid" Restarts)" = 0

echo "test-slurm: $passed passed, $failed failed ($(($(date +%s) - t_start)) s; nightly job $t_nightly s)"
[ "$failed" -eq 0 ]
