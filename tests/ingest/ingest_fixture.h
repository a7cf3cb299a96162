// Test support for the ingest services: a real scheduler whose worker hands batches to a
// HoldingProcessor, and an ingest service on 127.0.0.1:0 with a stub to call it. Used by
// log_service_test.cc and otlp_logs_service_test.cc.
#ifndef SLUICE_TESTS_INGEST_INGEST_FIXTURE_H_
#define SLUICE_TESTS_INGEST_INGEST_FIXTURE_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "server/common/delivery.h"
#include "server/common/field_layers.h"
#include "server/common/ledger.h"
#include "server/config/config.h"
#include "server/ingest/ingest_context.h"
#include "server/ingest/ingest_metrics.h"
#include "server/levels/level_table.h"
#include "server/pipeline/hooks/builtin_hooks.h"
#include "server/pipeline/hooks/hook_chain.h"
#include "server/pipeline/hooks/hook_registry.h"
#include "server/scheduler/scheduler.h"

namespace sluice::ingest {

// Stands in for the pipeline: keeps what it is given, can hold the workers back, and can
// report batches lost the way the pipeline reports a failed output.
class HoldingProcessor : public scheduler::BatchProcessor {
 public:
  void Process(size_t, RecordBatch& batch) override {
    std::unique_lock lock(mu_);
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
    batch_sizes_.push_back(batch.size());
    for (const v1::LogRecord& record : batch.records()) records_.push_back(record);
    for (int i = 0; i < batch.records().size(); ++i) {
      layers_.push_back(batch.field_layers().empty()
                            ? FieldLayers::AllAdHoc(batch.records()[i].fields_size())
                            : batch.field_layers()[static_cast<size_t>(i)]);
    }
    changed_.notify_all();
    if (fail_outputs_) {
      const auto records = static_cast<uint32_t>(batch.size());
      lock.unlock();
      batch.Deliver(Delivery{.dropped = records, .reason = DropReason::kOutputFailed});
    }
  }
  // From now on every batch is reported dropped by a failed output.
  void FailOutputs() {
    std::lock_guard lock(mu_);
    fail_outputs_ = true;
  }
  void Hold() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    changed_.notify_all();
  }
  // True once `n` batches have reached the processor, held or not.
  bool AwaitEntered(int n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(30), [this, n] { return entered_ >= n; });
  }
  bool AwaitRecords(size_t n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(30),
                             [this, n] { return records_.size() >= n; });
  }
  std::vector<size_t> batch_sizes() {
    std::lock_guard lock(mu_);
    return batch_sizes_;
  }
  std::vector<v1::LogRecord> records() {
    std::lock_guard lock(mu_);
    return records_;
  }
  // The field layers of records(), one entry per record.
  std::vector<FieldLayers> layers() {
    std::lock_guard lock(mu_);
    return layers_;
  }
  std::vector<std::string> messages() {
    std::lock_guard lock(mu_);
    std::vector<std::string> messages;
    for (const v1::LogRecord& record : records_) messages.push_back(record.message());
    return messages;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  bool fail_outputs_ ABSL_GUARDED_BY(mu_) = false;
  int entered_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<size_t> batch_sizes_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::LogRecord> records_ ABSL_GUARDED_BY(mu_);
  std::vector<FieldLayers> layers_ ABSL_GUARDED_BY(mu_);
};

struct FixtureOptions {
  uint32_t max_batch_records = 512;
  absl::Duration max_batch_delay = absl::Milliseconds(5);
  uint32_t workers = 2;
  uint32_t channel_capacity = 10000;
  scheduler::OverflowPolicy overflow = scheduler::OverflowPolicy::kBlock;
  // The ingest.max_* keys and ingest.ack_on; batching comes from the fields above.
  config::IngestConfig limits;
  // The `hooks.pre` list, YAML ("[{type: sequence}]"); empty for none.
  std::string pre_hooks;
  // Pre-hooks a test made itself (they must outlive the fixture), when `pre_hooks` is
  // empty.
  const pipeline::hooks::HookChain* pre_hook_chain = nullptr;
};

// The pre-hook chain of `list` (a `hooks.pre` YAML list), made with the built-in types.
inline std::unique_ptr<pipeline::hooks::HookChain> PreHookChain(const std::string& list,
                                                                prometheus::Registry* registry) {
  absl::StatusOr<config::Config> parsed = config::ParseConfig("hooks: {pre: " + list + "}");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return nullptr;
  pipeline::hooks::HookRegistry types;
  pipeline::hooks::RegisterBuiltinHooks(types);
  auto hooks = types.CreateAll(pipeline::hooks::HookPhase::kPre, parsed->hooks.pre);
  EXPECT_TRUE(hooks.ok()) << hooks.status();
  if (!hooks.ok()) return nullptr;
  return std::make_unique<pipeline::hooks::HookChain>(std::move(*hooks), registry);
}

// `Service` (constructed from an IngestContext) on 127.0.0.1:0 over a real scheduler;
// `Api` is its generated service class, whose Stub the fixture offers.
template <typename Service, typename Api>
class IngestFixture {
 public:
  explicit IngestFixture(const FixtureOptions& options)
      : ingest_config_(options.limits), levels_(config::LevelsConfig{}), metrics_(registry_) {
    ingest_config_.max_batch_records = options.max_batch_records;
    ingest_config_.max_batch_delay = options.max_batch_delay;
    scheduler_config_.workers = options.workers;
    scheduler_config_.channel_capacity = options.channel_capacity;
    scheduler_config_.overflow = options.overflow;
    scheduler_ =
        std::make_unique<scheduler::Scheduler>(scheduler_config_, processor_, ledger_, nullptr);
    scheduler_->Start();
    if (!options.pre_hooks.empty()) pre_hooks_ = PreHookChain(options.pre_hooks, &registry_);
    context_ = std::unique_ptr<IngestContext>(
        new IngestContext{ingest_config_, *scheduler_, levels_, ledger_, metrics_, intake_,
                          pre_hooks_ != nullptr ? pre_hooks_.get() : options.pre_hook_chain});
    service_ = std::make_unique<Service>(*context_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.SetMaxReceiveMessageSize(static_cast<int>(ingest_config_.max_message_bytes));
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = Api::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  ~IngestFixture() {
    processor_.Release();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    scheduler_->Stop();
  }

  typename Api::Stub& stub() { return *stub_; }
  HoldingProcessor& processor() { return processor_; }
  scheduler::Scheduler& scheduler() { return *scheduler_; }
  levels::LevelTable& levels() { return levels_; }
  Intake& intake() { return intake_; }
  Ledger& ledger() { return ledger_; }
  IngestContext& context() { return *context_; }
  prometheus::Registry& registry() { return registry_; }

 private:
  prometheus::Registry registry_;
  config::IngestConfig ingest_config_;
  scheduler::SchedulerConfig scheduler_config_;
  HoldingProcessor processor_;
  Ledger ledger_;
  levels::LevelTable levels_;
  IngestMetrics metrics_;
  Intake intake_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::unique_ptr<pipeline::hooks::HookChain> pre_hooks_;
  std::unique_ptr<IngestContext> context_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<typename Api::Stub> stub_;
};

}  // namespace sluice::ingest

// The sum of counter `name` over its label sets with `label_name`="label_value" in
// `registry`; -1 if there is none.
inline double CounterValue(prometheus::Registry& registry, const std::string& name,
                           const std::string& label_name, const std::string& label_value) {
  double sum = -1;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        if (label.name == label_name && label.value == label_value) {
          sum = (sum < 0 ? 0 : sum) + metric.counter.value;
        }
      }
    }
  }
  return sum;
}

// The grpc-retry-pushback-ms trailer of a finished call; empty if there is none.
inline std::string RetryPushback(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find("grpc-retry-pushback-ms");
  return it == trailers.end() ? "" : std::string(it->second.data(), it->second.size());
}

#endif  // SLUICE_TESTS_INGEST_INGEST_FIXTURE_H_
