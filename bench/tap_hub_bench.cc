// What the live tap costs a worker per batch (TapHub::Offer, as Pipeline::Process calls it
// after the post-hooks), on bench_records.h's batch of 256 records: with no tap open (the
// check every batch pays), with a tap whose filter takes none of the records, with a tap of
// every record whose reader never reads (its buffer full), and with one whose reader takes
// everything (the copies, the buffer and the reader's Next, without gRPC). CPU time only;
// bench/tap_bench.py has ingest records/s of a real sluiced beside a tap.
#include <memory>
#include <vector>

#include "bench/bench_records.h"
#include "benchmark/benchmark.h"
#include "server/pipeline/field_composer.h"
#include "server/pipeline/tap_hub.h"

namespace sluice::pipeline {
namespace {

// Reads when told to; OnReady (a worker found it idle) only notes the right to read.
class BenchReader : public TapReader {
 public:
  void OnReady() override {}
};

RecordBatch BenchBatch() {
  RecordBatch batch;
  bench::AppendBenchRecords(batch, 5, v1::LEVEL_DEBUG);
  return batch;
}

void Offer(benchmark::State& state, TapHub& hub, const RecordBatch& batch,
           const FieldComposer& composer, Tap* drain) {
  v1::LogRecord record;
  for (auto _ : state) {
    if (hub.active()) hub.Offer(batch, {}, composer);
    if (drain != nullptr) {
      while (drain->Next(&record) == Tap::NextResult::kRecord) benchmark::DoNotOptimize(record);
    }
  }
  state.SetItemsProcessed(state.iterations() * batch.size());
}

void BM_NoTapOpen(benchmark::State& state) {
  const FieldComposer composer(PipelineConfig{});
  TapHub hub(nullptr, 4);
  Offer(state, hub, BenchBatch(), composer, nullptr);
}
BENCHMARK(BM_NoTapOpen);

void BM_FilteredTapTakingNone(benchmark::State& state) {
  const FieldComposer composer(PipelineConfig{});
  TapHub hub(nullptr, 4);
  BenchReader reader;
  v1::TapRequest request;
  request.set_logger_prefix("billing");
  auto tap = hub.Open(*TapFilter::FromRequest(request), reader);
  Offer(state, hub, BenchBatch(), composer, nullptr);
}
BENCHMARK(BM_FilteredTapTakingNone);

void BM_TapOfEveryRecordNeverRead(benchmark::State& state) {
  const FieldComposer composer(PipelineConfig{});
  TapHub hub(nullptr, 4);
  BenchReader reader;
  auto tap = hub.Open(TapFilter{}, reader);
  const RecordBatch batch = BenchBatch();
  // Fill the buffer first: from then on every record is lost.
  for (int i = 0; i < 8; ++i) hub.Offer(batch, {}, composer);
  Offer(state, hub, batch, composer, nullptr);
}
BENCHMARK(BM_TapOfEveryRecordNeverRead);

void BM_TapOfEveryRecordReadAll(benchmark::State& state) {
  const FieldComposer composer(PipelineConfig{});
  TapHub hub(nullptr, 4);
  BenchReader reader;
  auto tap = hub.Open(TapFilter{}, reader);
  Offer(state, hub, BenchBatch(), composer, tap->get());
}
BENCHMARK(BM_TapOfEveryRecordReadAll);

}  // namespace
}  // namespace sluice::pipeline

BENCHMARK_MAIN();
