// Scheduler micro-benchmarks: records/s handed from one producer through Submit to the
// workers and into the null output, for 1, 2 and 4 workers and batches of 1, 16 and 256
// records — against the baseline every log library starts from, one queue behind one
// mutex shared by all workers. And what measuring a batch's memory costs per record
// (LogBatchPool::MemoryBytes, which Submit pays once per batch) against protobuf's
// reflection-based SpaceUsedLong.
//
//   build/bin/scheduler_bench --benchmark_min_time=0.5
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "server/common/log_batch_pool.h"
#include "server/outputs/encoding_registry.h"
#include "server/outputs/null/null_output.h"
#include "server/pipeline/pipeline.h"
#include "server/scheduler/scheduler.h"

namespace sluice::bench {
namespace {

constexpr uint32_t kCapacity = 65536;

RecordBatch MakeBatch(int records) {
  RecordBatch batch;
  for (int i = 0; i < records; ++i) batch.records().Add()->set_message("x");
  return batch;
}

// Started: the null output's sender takes what the workers hand it.
std::unique_ptr<pipeline::Pipeline> NullPipeline(int workers, Ledger& ledger) {
  std::vector<pipeline::Pipeline::Destination> destinations;
  destinations.push_back({std::make_unique<outputs::NullOutput>("null/bench"), Level::kTrace});
  auto pipeline =
      std::make_unique<pipeline::Pipeline>(pipeline::PipelineConfig{}, std::move(destinations),
                                           outputs::EncodingRegistry(), workers, ledger, nullptr);
  if (absl::Status status = pipeline->Start(); !status.ok()) {
    std::fprintf(stderr, "pipeline start: %s\n", status.ToString().c_str());
    std::abort();
  }
  return pipeline;
}

void BM_Scheduler(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  const int batch_records = static_cast<int>(state.range(1));
  Ledger ledger;
  auto pipeline = NullPipeline(workers, ledger);
  scheduler::SchedulerConfig config;
  config.workers = static_cast<uint32_t>(workers);
  config.channel_capacity = kCapacity;
  scheduler::Scheduler scheduler(config, *pipeline, ledger, nullptr);
  scheduler.Start();
  for (auto _ : state) {
    std::promise<void> queued;
    if (scheduler.Submit(MakeBatch(batch_records), [&queued] { queued.set_value(); }) ==
        scheduler::SubmitOutcome::kParked) {
      queued.get_future().wait();
    }
  }
  (void)scheduler.Drain(absl::InfiniteFuture());
  state.SetItemsProcessed(state.iterations() * batch_records);
}

// One deque, one mutex, one condition variable, every worker on it.
class SharedQueue {
 public:
  SharedQueue(int workers, pipeline::Pipeline& pipeline) {
    for (int i = 0; i < workers; ++i) {
      threads_.emplace_back([this, i, &pipeline] {
        for (;;) {
          std::unique_lock lock(mu_);
          not_empty_.wait(lock, [this] { return !queue_.empty() || stop_; });
          if (queue_.empty()) return;
          RecordBatch batch = std::move(queue_.front());
          queue_.pop_front();
          depth_ -= batch.size();
          not_full_.notify_one();
          lock.unlock();
          pipeline.Process(static_cast<size_t>(i), batch);
        }
      });
    }
  }
  ~SharedQueue() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    not_empty_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }
  void Push(RecordBatch&& batch) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return depth_ + batch.size() <= kCapacity; });
    depth_ += batch.size();
    queue_.push_back(std::move(batch));
    not_empty_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<RecordBatch> queue_;
  size_t depth_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

void BM_SharedMutexQueue(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  const int batch_records = static_cast<int>(state.range(1));
  Ledger ledger;
  auto pipeline = NullPipeline(workers, ledger);
  {
    SharedQueue queue(workers, *pipeline);
    for (auto _ : state) queue.Push(MakeBatch(batch_records));
  }
  state.SetItemsProcessed(state.iterations() * batch_records);
}

// A record shaped like the load generator's: a logger, a 100-byte message, three fields.
v1::LogBatch TypicalMessage(int records) {
  v1::LogBatch batch;
  for (int i = 0; i < records; ++i) {
    v1::LogRecord* record = batch.add_records();
    record->set_logger("bench.load");
    record->set_message(std::string(100, 'm'));
    for (const char* key : {"user", "request_id", "region"}) {
      v1::Field* field = record->add_fields();
      field->set_key(key);
      field->set_string_value("value-0123456789");
    }
  }
  return batch;
}

void BM_MemoryBytes(benchmark::State& state) {
  const v1::LogBatch batch = TypicalMessage(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(LogBatchPool::MemoryBytes(batch));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_SpaceUsedLong(benchmark::State& state) {
  const v1::LogBatch batch = TypicalMessage(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(batch.SpaceUsedLong());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void Matrix(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgNames({"workers", "batch"});
  for (int workers : {1, 2, 4}) {
    for (int batch : {1, 16, 256}) benchmark->Args({workers, batch});
  }
  benchmark->UseRealTime();
}

BENCHMARK(BM_Scheduler)->Apply(Matrix);
BENCHMARK(BM_SharedMutexQueue)->Apply(Matrix);
BENCHMARK(BM_MemoryBytes)->Arg(256)->ArgName("records");
BENCHMARK(BM_SpaceUsedLong)->Arg(256)->ArgName("records");

}  // namespace
}  // namespace sluice::bench

BENCHMARK_MAIN();
