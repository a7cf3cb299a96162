#!/usr/bin/env bash
# Finds flaky tests: runs the test command N times while stress-ng keeps two CPUs busy
# beside it (as a shared CI machine does), and prints pass or fail for each run with the
# tests ctest reported failed. Each run's output is kept in a log file for the details.
#
#   tests/flake_check.sh [runs, default 5] [-- command ...]
#   tests/flake_check.sh 5                           # ./test.sh five times
#   tests/flake_check.sh 3 -- ctest --test-dir build-test -j2 --output-on-failure
#
# STRESS_CPUS sets stress-ng's worker count (default 2; 0 runs without load).
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
if [[ "${1:-}" == "--" ]]; then shift; fi
command=("$@")
if ((${#command[@]} == 0)); then command=(./test.sh); fi
cpus=${STRESS_CPUS:-2}
if ((cpus > 0)) && ! command -v stress-ng >/dev/null; then
  echo "stress-ng is not installed (deploy/debian-test-packages.txt lists it)" >&2
  exit 2
fi

logs=$(mktemp -d /tmp/sluice-flake.XXXXXX)
stress_pid=""
stop_stress() {
  if [[ -n "$stress_pid" ]]; then
    kill "$stress_pid" 2>/dev/null
    wait "$stress_pid" 2>/dev/null
    stress_pid=""
  fi
}
trap stop_stress EXIT

load="beside stress-ng --cpu ${cpus}"
if ((cpus == 0)); then load="without load"; fi
echo "command: ${command[*]}; ${runs} runs ${load}; logs in ${logs}"
failed_runs=0
for ((run = 1; run <= runs; run++)); do
  if ((cpus > 0)); then
    stress-ng --cpu "$cpus" --quiet &
    stress_pid=$!
  fi
  log="$logs/run-$run.log"
  start=$SECONDS
  "${command[@]}" >"$log" 2>&1
  rc=$?
  stop_stress
  if ((rc == 0)); then
    echo "run $run: PASS ($((SECONDS - start))s)"
  else
    failed_runs=$((failed_runs + 1))
    echo "run $run: FAIL ($((SECONDS - start))s, exit $rc, $log)"
    # ctest's summary lists each failed test on its own line after this header.
    sed -n '/The following tests FAILED:/,$p' "$log" | grep -E '^\s+[0-9]+ - ' || true
  fi
done
echo "$((runs - failed_runs)) of $runs runs passed"
((failed_runs == 0))
