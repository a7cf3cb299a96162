#!/usr/bin/env bash
# Builds Release, runs the benchmark matrix against the ceiling (noop_sink) and sluiced,
# and writes the results into docs/BENCHMARKS.md (between the bench:begin/end markers).
#   bench/run.sh                 full matrix, 3 runs each (about 6 minutes)
#   RUNS=1 DURATION=3s bench/run.sh   a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh deploy/debian-packages.txt deploy/debian-bench-packages.txt
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF \
  -DSLUICE_ALLOCATOR="${ALLOCATOR:-jemalloc}" >/dev/null
cmake --build build-bench -j2 --target sluiced noop_sink loadgen scheduler_bench client_bench
exec /usr/bin/python3 bench/run_matrix.py --bin build-bench/bin --runs "${RUNS:-3}" \
  --duration "${DURATION:-5s}" --doc docs/BENCHMARKS.md
