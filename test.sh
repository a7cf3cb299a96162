#!/usr/bin/env bash
# The test command: installs missing Debian packages, builds everything with warnings as
# errors, and runs the whole test suite through ctest — then the concurrency-heavy tests
# (label `tsan`: scheduler, ingest, levels, admin, client, pipeline) again under ThreadSanitizer, the
# whole suite (e2e included, on ASan-built sluiced and sluice) under AddressSanitizer +
# UndefinedBehaviorSanitizer, and each libFuzzer target (tests/fuzz/) for a bounded time.
# The first ctest run includes suite_runs_every_test_file, which fails when a
# tests/**/*_test.{cc,py,mjs} is in no test target and run by no test.
# .ci/run calls exactly this. Arguments go to the first ctest run
# (e.g. ./test.sh -R Scheduler). SLUICE_FUZZ_SECONDS: each fuzzer's time (30; 0 skips them).
set -euo pipefail
cd "$(dirname "$0")"
deploy/install-deps.sh deploy/debian-packages.txt deploy/debian-test-packages.txt

cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_WERROR=ON >/dev/null
cmake --build build-test -j2
ctest --test-dir build-test --output-on-failure -j2 --timeout 600 "$@"

echo "== ThreadSanitizer: tests labelled tsan"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_SANITIZE=thread >/dev/null
cmake --build build-tsan -j2 --target scheduler_test ingest_test levels_test admin_test client_test pipeline_test
TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build-tsan --output-on-failure -j2 --timeout 600 -L tsan

echo "== AddressSanitizer + UndefinedBehaviorSanitizer: the whole suite"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_SANITIZE=address >/dev/null
cmake --build build-asan -j2
# The e2e tests start this build's own sluiced and sluice (their paths come from CMake).
ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1" \
  ctest --test-dir build-asan --output-on-failure -j2 --timeout 600

fuzz_seconds=${SLUICE_FUZZ_SECONDS:-30}
if ((fuzz_seconds > 0)); then
  echo "== libFuzzer: each target for ${fuzz_seconds}s"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSLUICE_FUZZ=ON -DSLUICE_WERROR=OFF >/dev/null
  cmake --build build-fuzz -j2 --target native_request_fuzzer otlp_request_fuzzer config_fuzzer
  tests/fuzz/run_fuzzers.sh build-fuzz "$fuzz_seconds"
fi
