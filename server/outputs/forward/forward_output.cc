#include "server/outputs/forward/forward_output.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/field_layers.h"
#include "server/config/yaml_reader.h"
#include "sluice/level.h"

namespace sluice::outputs {
namespace {

constexpr absl::Duration kStreamFailureReportInterval = absl::Seconds(10);

// ClientOptions' own bounds are loose; these keep a mistyped value from taking the server
// down (a batch over ingest.max_message_bytes of the next tier, a buffer of all memory).
constexpr uint64_t kMaxBatchRecords = 65536;
constexpr absl::Duration kMaxBatchDelay = absl::Seconds(10);

const config::KeyTable<ForwardOutputConfig>& Keys() {
  using S = ForwardOutputConfig;
  static const config::KeyTable<S>* const table = new config::KeyTable<S>{
      config::StringKey("target", &S::target, config::StringRule::kRequired,
                        "Any gRPC target: `host:port`, `ipv4:10.0.0.1:4317,10.0.0.2:4317`, "
                        "`dns:///sluice-aggregator-headless.ns.svc:4317`."),
      config::ChoiceKey<S, std::string>(
          "load_balancing_policy", &S::load_balancing_policy,
          {{"pick_first", "pick_first"}, {"round_robin", "round_robin"}},
          "`round_robin` keeps a connection to every address the target resolves to and puts "
          "each new stream on the next one; pair it with `batches_per_stream`. With "
          "`round_robin`, gRPC's client-side health checking skips a next-tier replica whose "
          "`sluice.v1.LogService` health is NOT_SERVING (draining, or saturated); see "
          "[SCALING.md](SCALING.md#health-checking-skip-a-replica-before-it-refuses)."),
      config::IntegerKey("batches_per_stream", &S::batches_per_stream, 0, int64_t{1} << 32,
                         "After this many batches a stream is closed (once acknowledged) and a "
                         "new one opened, which `round_robin` gives to the next replica. 0: "
                         "never."),
      config::IntegerKey("max_buffered_records", &S::max_buffered_records, 1,
                         S::kMaxBufferedRecords,
                         "Records taken and not yet acknowledged by the next tier, at most. A "
                         "batch that does not fit is refused whole with UNAVAILABLE, so the "
                         "pipeline retries it with backoff and this server's channels fill: the "
                         "next tier's slowness reaches the clients as backpressure."),
      config::IntegerKey("max_batch_records", &S::max_batch_records, 1, kMaxBatchRecords,
                         "Records per batch sent."),
      config::DurationKey("max_batch_delay", &S::max_batch_delay, absl::ZeroDuration(),
                          kMaxBatchDelay, "How long a record waits for the rest of its batch."),
  };
  return *table;
}

// The next tier takes every field as ad-hoc, a later one of a key winning. So that it picks
// the winner FieldComposer would, the layers go weakest first: pre-hook fields (stored after
// the application's) before the ad-hoc ones, post-hook fields last where they already are.
// A rotation of the field pointers; nothing moves for a record without pre-hook fields, or
// without ad-hoc ones, whose stored order is already that one.
void PutFieldsInStrengthOrder(FieldLayers layers, v1::LogRecord& record) {
  const int size = record.fields_size();
  const int adhoc_end = std::min(layers.adhoc_end, size);
  const int pre_end = std::clamp(layers.pre_end, adhoc_end, size);
  if (adhoc_end == 0 || adhoc_end == pre_end) return;
  auto* fields = record.mutable_fields();
  std::rotate(fields->pointer_begin(), fields->pointer_begin() + adhoc_end,
              fields->pointer_begin() + pre_end);
}

}  // namespace

ClientOptions ForwardOutputConfig::ToClientOptions() const {
  ClientOptions client;
  client.target = target;
  client.load_balancing_policy = load_balancing_policy;
  client.batches_per_stream = batches_per_stream;
  client.max_buffered_records = max_buffered_records;
  client.max_batch_records = max_batch_records;
  client.max_batch_delay = max_batch_delay;
  // Shutdown() flushes with its own deadline first; the destructor need not wait again.
  client.close_timeout = absl::ZeroDuration();
  return client;
}

absl::StatusOr<ForwardOutputConfig> ForwardOutputConfig::Parse(const YAML::Node& block,
                                                               absl::string_view path) {
  ForwardOutputConfig parsed;
  if (absl::Status status = Keys().Read(block, path, parsed, kCommonOutputKeys); !status.ok()) {
    return status;
  }
  return parsed;
}

ForwardOutput::ForwardOutput(std::string id, ForwardOutputConfig config)
    : id_(std::move(id)), client_options_(config.ToClientOptions()) {}

absl::Status ForwardOutput::Start() {
  if (client_ == nullptr) client_ = std::make_unique<Client>(client_options_);
  return absl::OkStatus();
}

absl::Status ForwardOutput::Write(OutputBatch& batch) {
  std::vector<v1::LogRecord> records;
  records.reserve(batch.count());
  const auto& all = batch.records().records();
  for (int i = 0; i < all.size(); ++i) {
    if (!batch.takes(i)) continue;
    v1::LogRecord& record = records.emplace_back(all[i]);
    PutFieldsInStrengthOrder(batch.layers(i), record);
  }
  if (records.empty()) return absl::OkStatus();
  const size_t count = records.size();
  const bool taken = client_->TryLogAll(records);
  const ClientStats stats = client_->stats();
  ReportStreamFailures(stats);
  if (taken) return absl::OkStatus();
  std::string error =
      absl::StrCat(id_, ": ", stats.logged - stats.acked_records, " records wait for ",
                   client_options_.target, ", no room for ", count, " more (max_buffered_records ",
                   client_options_.max_buffered_records, ")");
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
               client_options_.target.c_str(), stats.last_stream_error.ToString().c_str());
  reported_failures_ = stats.stream_failures;
  last_report_ = now;
}

std::vector<config::KeyDoc> ForwardOutputFactory::keys() const { return Keys().docs(); }

std::string ForwardOutputFactory::example_config() const {
  return "{type: forward, target: '${SLUICE_TARGET}'}";
}

absl::StatusOr<std::unique_ptr<Output>> ForwardOutputFactory::Create(absl::string_view id,
                                                                     const YAML::Node& config,
                                                                     OutputContext& context) const {
  absl::StatusOr<ForwardOutputConfig> parsed =
      ForwardOutputConfig::Parse(config, context.config_path);
  if (!parsed.ok()) return parsed.status();
  return std::make_unique<ForwardOutput>(std::string(id), *std::move(parsed));
}

}  // namespace sluice::outputs
