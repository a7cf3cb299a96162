// Formatting micro-benchmarks: what a worker pays to turn one batch into lines, per
// encoding, through FormattedBatch as the pipeline does (one pass per encoding; a second
// request for the same lines is free; outputs routed alike share one pass). Records look like
// application logs: a logger, a message of about 60 bytes, two base fields and four ad-hoc fields
// of mixed types, all in the same second, as most records of a batch are.
//
//   build-bench/bin/format_bench --benchmark_min_time=1
#include <string>

#include "bench/bench_records.h"
#include "benchmark/benchmark.h"
#include "server/common/record_batch.h"
#include "server/outputs/encoding_registry.h"
#include "server/pipeline/field_composer.h"
#include "server/pipeline/formatted_batch.h"
#include "server/pipeline/hooks/record_match.h"
#include "server/pipeline/pipeline_config.h"
#include "server/pipeline/record_formatter.h"

namespace sluice::bench {
namespace {

RecordBatch MakeBatch() {
  RecordBatch batch;
  AppendBenchRecords(batch, /*odd_every=*/10, v1::LEVEL_WARN);
  return batch;
}

pipeline::PipelineConfig BenchConfig() {
  pipeline::PipelineConfig config;
  config.base_fields = {{"service", "checkout"}, {"region", "eu-west-1"}};
  return config;
}

template <outputs::EncodingId kEncoding>
void BM_FormatBatch(benchmark::State& state) {
  const RecordBatch batch = MakeBatch();
  const pipeline::PipelineConfig config = BenchConfig();
  pipeline::FieldComposer composer(config);
  outputs::EncodingRegistry encodings;
  pipeline::RecordFormatter formatter(composer, encodings);
  size_t bytes = 0;
  for (auto _ : state) {
    pipeline::FormattedBatch formatted(batch, formatter);
    const absl::string_view lines = formatted.Lines(kEncoding, formatted.Select(Level::kTrace));
    benchmark::DoNotOptimize(lines.data());
    bytes += lines.size();
  }
  state.SetItemsProcessed(state.iterations() * kBatchRecords);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_FormatBatch<outputs::kTextEncoding>)->Name("BM_FormatBatch/text");
BENCHMARK(BM_FormatBatch<outputs::kJsonEncoding>)->Name("BM_FormatBatch/json");

// Two outputs, one per encoding, as a file (JSON) and a console (text) output configured
// together get them.
void BM_FormatBatchBothEncodings(benchmark::State& state) {
  const RecordBatch batch = MakeBatch();
  const pipeline::PipelineConfig config = BenchConfig();
  pipeline::FieldComposer composer(config);
  outputs::EncodingRegistry encodings;
  pipeline::RecordFormatter formatter(composer, encodings);
  for (auto _ : state) {
    pipeline::FormattedBatch formatted(batch, formatter);
    benchmark::DoNotOptimize(
        formatted.Lines(outputs::kTextEncoding, formatted.Select(Level::kTrace)).data());
    benchmark::DoNotOptimize(
        formatted.Lines(outputs::kJsonEncoding, formatted.Select(Level::kInfo)).data());
  }
  state.SetItemsProcessed(state.iterations() * kBatchRecords);
}
BENCHMARK(BM_FormatBatchBothEncodings);

// Two outputs with the same route (`match: {retried: "true"}`, half the records), as
// an archive and a pager of one team might be: one mask and one formatting pass between
// them, the second Select finding the first's mask.
void BM_FormatBatchSharedRoute(benchmark::State& state) {
  const RecordBatch batch = MakeBatch();
  const pipeline::PipelineConfig config = BenchConfig();
  pipeline::FieldComposer composer(config);
  outputs::EncodingRegistry encodings;
  pipeline::RecordFormatter formatter(composer, encodings);
  const absl::StatusOr<pipeline::hooks::RecordMatch> route =
      pipeline::hooks::RecordMatch::Create({}, {{"retried", "true"}}, "outputs[0].match");
  if (!route.ok()) {
    state.SkipWithError(std::string(route.status().message()).c_str());
    return;
  }
  for (auto _ : state) {
    pipeline::FormattedBatch formatted(batch, formatter);
    for (int output = 0; output < 2; ++output) {
      pipeline::FormattedBatch::View view(formatted, formatted.Select(Level::kTrace, *route));
      benchmark::DoNotOptimize(view.Lines(outputs::kJsonEncoding).data());
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatchRecords);
}
BENCHMARK(BM_FormatBatchSharedRoute);

}  // namespace
}  // namespace sluice::bench

BENCHMARK_MAIN();
