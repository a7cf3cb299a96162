#include "server/outputs/forward/forward_output.h"

#include <cstdio>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/level.h"
#include "server/outputs/output_options.h"

namespace sluice::outputs {
namespace {

constexpr absl::Duration kStreamFailureReportInterval = absl::Seconds(10);

// ClientOptions' own bounds are loose; these keep a mistyped value from taking the server
// down (a batch over ingest.max_message_bytes of the next tier, a buffer of all memory).
constexpr uint64_t kMaxBatchRecords = 65536;
constexpr absl::Duration kMaxBatchDelay = absl::Seconds(10);

}  // namespace

absl::StatusOr<ForwardOutputConfig> ForwardOutputConfig::Parse(const config::OutputConfig& config) {
  absl::StatusOr<OutputOptions> options = OutputOptions::Create(
      config, {"target", "load_balancing_policy", "batches_per_stream", "max_buffered_records",
               "max_batch_records", "max_batch_delay"});
  if (!options.ok()) return options.status();
  ForwardOutputConfig parsed;
  ClientOptions& client = parsed.client;
  std::string policy = "pick_first";
  uint64_t batches_per_stream = client.batches_per_stream;
  uint64_t max_buffered_records = client.max_buffered_records;
  uint64_t max_batch_records = client.max_batch_records;
  absl::Status status = options->GetRequiredString("target", &client.target);
  if (status.ok()) {
    status = options->GetChoice<std::string>(
        "load_balancing_policy", {{"pick_first", "pick_first"}, {"round_robin", "round_robin"}},
        &policy);
  }
  if (status.ok()) {
    status = options->GetUint64("batches_per_stream", 0, uint64_t{1} << 32, &batches_per_stream);
  }
  if (status.ok()) {
    status =
        options->GetUint64("max_buffered_records", 1, kMaxBufferedRecords, &max_buffered_records);
  }
  if (status.ok()) {
    status = options->GetUint64("max_batch_records", 1, kMaxBatchRecords, &max_batch_records);
  }
  if (status.ok()) {
    status = options->GetDuration("max_batch_delay", absl::ZeroDuration(), kMaxBatchDelay,
                                  &client.max_batch_delay);
  }
  if (!status.ok()) return status;
  client.load_balancing_policy = policy;
  client.batches_per_stream = batches_per_stream;
  client.max_buffered_records = max_buffered_records;
  client.max_batch_records = max_batch_records;
  // Shutdown() flushes with its own deadline first; the destructor need not wait again.
  client.close_timeout = absl::ZeroDuration();
  return parsed;
}

ForwardOutput::ForwardOutput(std::string id, ForwardOutputConfig config)
    : id_(std::move(id)), config_(std::move(config)) {}

absl::Status ForwardOutput::Start() {
  if (client_ == nullptr) client_ = std::make_unique<Client>(config_.client);
  return absl::OkStatus();
}

absl::Status ForwardOutput::Write(OutputBatch& batch, Level min_level) {
  std::vector<v1::LogRecord> records;
  records.reserve(batch.CountAtLeast(min_level));
  for (const v1::LogRecord& record : batch.records().records()) {
    if (RecordLevel(record) >= min_level) records.push_back(record);
  }
  if (records.empty()) return absl::OkStatus();
  const size_t count = records.size();
  const bool taken = client_->TryLogAll(records);
  const ClientStats stats = client_->stats();
  ReportStreamFailures(stats);
  if (taken) return absl::OkStatus();
  std::string error =
      absl::StrCat(id_, ": ", stats.logged - stats.acked_records, " records wait for ",
                   config_.client.target, ", no room for ", count, " more (max_buffered_records ",
                   config_.client.max_buffered_records, ")");
  if (!stats.last_stream_error.ok()) {
    absl::StrAppend(&error, "; last stream error: ", stats.last_stream_error.ToString());
  }
  return absl::UnavailableError(error);
}

absl::Status ForwardOutput::Flush(absl::Time deadline) {
  if (client_ == nullptr) return absl::OkStatus();
  const absl::Status flushed = client_->Flush(deadline);
  ReportStreamFailures(client_->stats());
  if (flushed.ok()) return flushed;
  return absl::Status(flushed.code(), absl::StrCat(id_, ": ", flushed.message()));
}

absl::Status ForwardOutput::Shutdown(absl::Time deadline) {
  if (client_ == nullptr) return absl::OkStatus();
  const absl::Status flushed = Flush(deadline);
  client_.reset();
  return flushed;
}

void ForwardOutput::ReportStreamFailures(const ClientStats& stats) {
  std::lock_guard lock(report_mu_);
  if (stats.stream_failures == reported_failures_) return;
  const absl::Time now = absl::Now();
  if (now - last_report_ < kStreamFailureReportInterval) return;
  std::fprintf(stderr, "sluiced: %s: %llu stream(s) to %s failed; last: %s\n", id_.c_str(),
               static_cast<unsigned long long>(stats.stream_failures - reported_failures_),
               config_.client.target.c_str(), stats.last_stream_error.ToString().c_str());
  reported_failures_ = stats.stream_failures;
  last_report_ = now;
}

absl::StatusOr<std::unique_ptr<Output>> ForwardOutputFactory::Create(
    const config::OutputConfig& config) const {
  absl::StatusOr<ForwardOutputConfig> parsed = ForwardOutputConfig::Parse(config);
  if (!parsed.ok()) return parsed.status();
  return std::make_unique<ForwardOutput>(config.id(), *std::move(parsed));
}

}  // namespace sluice::outputs
