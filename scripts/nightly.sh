#!/usr/bin/env bash
# The nightly reproduction run: run the demo study, then compare every figure of its results
# with the committed reference, and say in one line whether the study reproduced.
set -uo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/nightly.sh [--out DIR] [--reference DIR] [--rtol X] [--atol Y] [--job-cmd CMD]

Runs the demo study (scripts/demo.sh --out DIR; it reuses data and a finished study already
in DIR), then `salient compare DIR/study REFERENCE`, and prints a summary.

  --out DIR        the demo's output folder; the study is DIR/study (default out/brown-demo)
  --reference DIR  the reference results: a folder holding results.nc, or the file itself
                   (default results/brown-demo)
  --rtol X         relative tolerance of the compare (default 1e-3)
  --atol Y         absolute tolerance of the compare (default 1e-3: one test token of the
                   demo's ~1,500 is 6.5e-4 of accuracy; probes are solved to a violation
                   of 1e-4, so another BLAS or CPU moves weights at about that size; on the
                   same machine the figures are bit-identical)
  --job-cmd CMD    run CMD instead of scripts/demo.sh: a shell command that is given
                   `--out DIR` as further arguments and leaves its study in DIR/study, exiting
                   as `salient run` does (also: environment SALIENT_NIGHTLY_JOB_CMD)
  -h, --help       this help

Relative paths given as options are taken from the current folder; the defaults and CMD run
from the repository root. The compare uses $SALIENT, else ${BUILD_DIR:-build}/salient.

Exit status:
  0   reproduced: every figure matches the reference within tolerance
  1   figures drift or units are missing on either side (salient compare's list is on stdout)
  2   the run failed (the demo or CMD exited non-zero, e.g. 3 when units failed: the compare
      is still shown when there are results)
  4   the comparison could not be made (no results.nc in DIR/study, an unreadable reference,
      no salient executable)
  64  usage error
  75  the run was interrupted (SIGTERM/SIGINT) and can be resumed: run the nightly again
EOF
}

die_usage() {
  echo "nightly: $1 (see --help)" >&2
  exit 64
}

# An absolute form of path $1, taken from the current folder.
absolute() {
  case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/$1" ;;
  esac
}

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/out/brown-demo"
reference="$root/results/brown-demo"
job_cmd=${SALIENT_NIGHTLY_JOB_CMD:-scripts/demo.sh}
tolerances=(--rtol 1e-3 --atol 1e-3)
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --out | --reference | --rtol | --atol | --job-cmd)
      [ $# -ge 2 ] || die_usage "$1 needs a value"
      case $1 in
        --out) out=$(absolute "$2") ;;
        --reference) reference=$(absolute "$2") ;;
        --rtol | --atol)
          [[ $2 =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$ ]] ||
            die_usage "$1 '$2' is not a number >= 0"
          tolerances+=("$1" "$2") ;;
        --job-cmd) job_cmd=$2 ;;
      esac
      shift 2 ;;
    --out=* | --reference=* | --rtol=* | --atol=* | --job-cmd=*)
      set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
    *) die_usage "unknown argument '$1'" ;;
  esac
done
[ -n "$job_cmd" ] || die_usage "--job-cmd is empty"
cd "$root" || exit 4
if [ ! -e "$reference" ]; then # before a run that may take hours
  echo "nightly: FAILED: no reference at $reference (exit 4)"
  exit 4
fi

started=$(date +%s)
elapsed() {
  local s=$(($(date +%s) - started))
  printf '%dh%02dm%02ds' $((s / 3600)) $((s % 3600 / 60)) $((s % 60))
}
summary() {
  echo "nightly: $*"
}

echo "nightly: $(date -u +%Y-%m-%dT%H:%M:%SZ) run: $job_cmd --out $out"
bash -c "$job_cmd"' "$@"' nightly-job --out "$out"
run_rc=$?
summary "run exited $run_rc after $(elapsed)"
if [ "$run_rc" -eq 75 ]; then
  summary "INTERRUPTED: the run stopped on a signal and saved its work; run the nightly again to resume (exit 75)"
  exit 75
fi

study="$out/study"
salient=${SALIENT:-${BUILD_DIR:-build}/salient} # relative to the repository root
compare_rc=none
if [ -f "$study/results.nc" ] && [ -x "$salient" ]; then
  echo "nightly: compare: salient compare $study $reference ${tolerances[*]}"
  "$salient" compare "$study" "$reference" "${tolerances[@]}"
  compare_rc=$?
fi

if [ "$run_rc" -ne 0 ]; then
  summary "FAILED: the run exited $run_rc (compare: $compare_rc) (exit 2)"
  exit 2
fi
if [ "$compare_rc" = none ]; then
  [ -f "$study/results.nc" ] || summary "FAILED: the run left no $study/results.nc (exit 4)"
  [ -x "$salient" ] || summary "FAILED: no salient executable at $salient: set SALIENT (exit 4)"
  exit 4
fi
case $compare_rc in
  0) summary "PASS: $study reproduces $reference ($(elapsed))"; exit 0 ;;
  1) summary "DRIFT: $study differs from $reference: the figures and units listed above (exit 1)"; exit 1 ;;
  *) summary "FAILED: salient compare exited $compare_rc: it could not read the results or the reference (exit 4)"; exit 4 ;;
esac
