#!/usr/bin/env bash
# Runs each libFuzzer target of a SLUICE_FUZZ=ON build for a bounded time, starting from
# a scratch copy of its seed corpus (tests/fuzz/corpus/<target>/ is never written to).
# Fails on the first target that finds a crash, a leak, a timeout or an out-of-memory,
# printing the input (base64) so that CI's log is enough to turn it into a regression test.
# Usage: tests/fuzz/run_fuzzers.sh <build dir> [seconds per target, default 30]
set -euo pipefail
build=$(realpath "$1")
seconds=${2:-30}
cd "$(dirname "$0")"
scratch=$(mktemp -d /tmp/sluice-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

for target in native_request otlp_request config; do
  binary="$build/fuzz/${target}_fuzzer"
  mkdir -p "$scratch/$target/corpus" "$scratch/$target/artifacts"
  cp corpus/"$target"/* "$scratch/$target/corpus/"
  echo "-- ${target}_fuzzer: ${seconds}s"
  dict=()
  if [[ -f "$target.dict" ]]; then dict=(-dict="$PWD/$target.dict"); fi
  # -timeout: one input taking this long is a finding (a hang); -rss_limit_mb bounds
  # memory, as CI's 2-core machine is shared.
  if ! "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 "${dict[@]}" -artifact_prefix="$scratch/$target/artifacts/" \
      "$scratch/$target/corpus" >"$scratch/$target/log" 2>&1; then
    tail -n 80 "$scratch/$target/log"
    for artifact in "$scratch/$target/artifacts"/*; do
      [[ -f "$artifact" ]] || continue
      echo "== $(basename "$artifact") (base64):"
      base64 -w 100 "$artifact"
    done
    echo "${target}_fuzzer found a failure; reproduce with: $binary <input file>" >&2
    exit 1
  fi
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^Done' "$scratch/$target/log" || true
  echo "   corpus: $(ls "$scratch/$target/corpus" | wc -l) inputs"
done
