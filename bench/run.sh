#!/usr/bin/env bash
# Builds Release, runs the benchmark matrix against the ceiling (noop_sink) and sluiced,
# then the outputs into real destinations (ClickHouse, rsyslogd, librdkafka's mock cluster),
# and writes the results into docs/BENCHMARKS.md (between the bench:begin/end and
# bench-destinations:begin/end markers).
#   bench/run.sh                 full matrix, 3 runs each (about 15 minutes), destinations
#   RUNS=1 DURATION=3s bench/run.sh   a quick look
#   ONLY=destinations bench/run.sh    the destinations alone (about 5 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh deploy/debian-packages.txt deploy/debian-bench-packages.txt
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF \
  -DSLUICE_ALLOCATOR="${ALLOCATOR:-jemalloc}" >/dev/null
cmake --build build-bench -j2 --target sluiced noop_sink loadgen scheduler_bench client_bench \
  kafka_mock_broker
if [[ "${ONLY:-}" != destinations ]]; then
  /usr/bin/python3 bench/run_matrix.py --bin build-bench/bin --runs "${RUNS:-3}" \
    --duration "${DURATION:-5s}" --doc docs/BENCHMARKS.md
fi
exec /usr/bin/python3 bench/destinations.py --bin build-bench/bin --runs "${RUNS:-3}" \
  --duration "${DURATION:-5s}" --doc docs/BENCHMARKS.md
