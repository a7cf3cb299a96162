// The forward output: sends records on to another Sluice — the next tier, such as an
// aggregator behind the agents — over LogService.PushBatches, with the C++ client library
// (sluice::Client): batching, a bounded buffer, at-least-once resend after a reconnect,
// backoff with jitter, and gRPC load balancing over the next tier's replicas.
//
//   outputs:
//     - type: forward
//       name: aggregator
//       target: "dns:///sluice-aggregator.logging.svc:4317"  # required; any gRPC target
//       load_balancing_policy: round_robin  # pick_first (default) | round_robin
//       batches_per_stream: 1000             # 0 (default): never rotate the stream
//       max_buffered_records: 100000         # taken and not yet acknowledged, at most
//       max_batch_records: 1000
//       max_batch_delay: 5ms
//
// Records go on with their logger, level, time, message, trace ids and fields, the hooks'
// included; the next tier composes and formats them, so this server's pipeline.base_fields
// are not added. The next tier takes every field as ad-hoc, a later one of a key winning,
// so each record's fields are sent weakest layer first — pre-hook fields, the
// application's, post-hook fields — and the field that wins there is the one that wins
// here (FieldComposer). A record no hook touched goes with its fields as they are.
//
// Write() copies the records routed to the output (its level, `loggers` and `match`) into
// the client's buffer: all of them, or none when the buffer has no room for all — then
// UNAVAILABLE, and the pipeline retries with backoff. So a slow or absent next tier fills
// this server's channels and slows its clients down; past the retries the batch is dropped
// for this output and counted. Flush() waits until the next tier acknowledged everything
// taken so far, at the stage its own ingest.ack_on names: with `ack_on: flushed` here, a
// client's ack means the next tier acknowledged the records too. Shutdown() flushes; what
// the next tier has not acknowledged by the deadline is lost, and the error says how much.
//
// A stream to the next tier that fails is logged on stderr (at most every 10 s) with the
// gRPC status; the client reconnects by itself. Thread-safe: the client takes its own lock.
#ifndef SLUICE_SERVER_OUTPUTS_FORWARD_FORWARD_OUTPUT_H_
#define SLUICE_SERVER_OUTPUTS_FORWARD_FORWARD_OUTPUT_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/outputs/output.h"
#include "server/outputs/output_registry.h"
#include "sluice/client.h"

namespace sluice::outputs {

struct ForwardOutputConfig {
  static constexpr uint64_t kMaxBufferedRecords = uint64_t{1} << 24;

  std::string target;
  std::string load_balancing_policy = "pick_first";
  uint64_t batches_per_stream = 0;
  uint64_t max_buffered_records = 100000;
  uint64_t max_batch_records = 1000;
  absl::Duration max_batch_delay = absl::Milliseconds(5);

  // The client's options: these keys, the client's defaults for the rest.
  ClientOptions ToClientOptions() const;

  // Reads and validates an output block (`path` is where it is in the config, e.g.
  // "outputs[0]"); errors name the key path.
  static absl::StatusOr<ForwardOutputConfig> Parse(const YAML::Node& block, absl::string_view path);
};

class ForwardOutput final : public Output {
 public:
  ForwardOutput(std::string id, ForwardOutputConfig config);

  absl::string_view id() const override { return id_; }
  // Creates the client; connecting is lazy, so a next tier that is not up yet is no error.
  absl::Status Start() override;
  absl::Status Write(OutputBatch& batch) override;
  absl::Status Flush(absl::Time deadline) override;
  absl::Status Shutdown(absl::Time deadline) override;

 private:
  // Logs stream failures the client saw since the last report, at most every 10 s.
  void ReportStreamFailures(const ClientStats& stats);

  const std::string id_;
  const ClientOptions client_options_;
  // Created by Start(), destroyed by Shutdown(); Write is not called outside that window.
  std::unique_ptr<Client> client_;

  std::mutex report_mu_;
  uint64_t reported_failures_ ABSL_GUARDED_BY(report_mu_) = 0;
  absl::Time last_report_ ABSL_GUARDED_BY(report_mu_) = absl::InfinitePast();
};

class ForwardOutputFactory final : public OutputFactory {
 public:
  absl::string_view type() const override { return "forward"; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Output>> Create(absl::string_view id, const YAML::Node& config,
                                                 OutputContext& context) const override;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_FORWARD_FORWARD_OUTPUT_H_
