// The otlp output: exports records to any OpenTelemetry receiver — an OTel Collector, a
// vendor's endpoint, another Sluice — over OTLP/gRPC (LogsService/Export).
//
//   outputs:
//     - type: otlp
//       name: collector
//       endpoint: "otel-collector.observability.svc:4317"  # required; any gRPC target
//       compression: gzip                 # gzip (default) | none
//       headers: { api-key: "${file:/run/secrets/vendor-key}" }  # or "${env:NAME}"
//       timeout: 10s                      # per Export call
//       max_request_bytes: 4128768        # a batch larger than this is split
//       resource_keys: [service., host.]  # fields that go to the resource (see below)
//
// Records are encoded on the workers by OtlpRecordEncoder (otlp_record_encoder.h, where the
// mapping is). Write() groups a batch's records by resource and scope — records with the
// same resource attributes share one ResourceLogs, those with the same logger one
// ScopeLogs — and sends the batch as one Export, or as several when it is larger than
// `max_request_bytes` (a receiver's default limit is 4 MiB). It returns once the receiver
// answered, so "written" means the receiver took the records; Flush() has nothing to do.
//
// Retries follow the OTLP specification: CANCELLED, DEADLINE_EXCEEDED, ABORTED,
// OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS are transient (UNAVAILABLE to the sender, which
// retries with its backoff), and so is RESOURCE_EXHAUSTED when the receiver sent a
// google.rpc.RetryInfo; a RetryInfo's delay replaces the sender's backoff for that attempt
// (WithRetryDelay, output.h). Other codes are permanent and drop the batch for this output.
// A batch sent as several requests is resent whole, so the requests a receiver already took
// arrive twice: at-least-once. Records a receiver refused in `partial_success` are counted
// in sluice_output_otlp_rejected_records_total and logged with its error_message (at most
// every 10 s); they are not retried, as the specification asks.
//
// Header values of the form "${env:NAME}" and "${file:PATH}" are read at start-up from the
// environment and from the file (one trailing newline dropped), so secrets stay out of the
// config; header values are never logged. Not thread-safe beyond what SerializedOutput
// gives: one sender thread calls it.
#ifndef SLUICE_SERVER_OUTPUTS_OTLP_OTLP_OUTPUT_H_
#define SLUICE_SERVER_OUTPUTS_OTLP_OTLP_OUTPUT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/generic/generic_stub.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "server/outputs/output.h"
#include "server/outputs/output_registry.h"
#include "server/outputs/serialized_output.h"

namespace sluice::outputs {

struct OtlpOutputConfig {
  enum class Compression { kNone, kGzip };

  static constexpr uint64_t kMinRequestBytes = 4096;
  static constexpr uint64_t kMaxRequestBytes = uint64_t{64} << 20;

  std::string endpoint;
  Compression compression = Compression::kGzip;
  // Name and value, the value as written (a "${env:...}" or "${file:...}" reference, or
  // the value itself).
  std::vector<std::pair<std::string, std::string>> headers;
  absl::Duration timeout = absl::Seconds(10);
  uint64_t max_request_bytes = (uint64_t{4} << 20) - (uint64_t{64} << 10);
  std::vector<std::string> resource_keys = {"service.",   "host.",    "k8s.",   "container.",
                                            "cloud.",     "process.", "os.",    "deployment.",
                                            "telemetry.", "faas.",    "device."};

  // Reads and validates an output block (`path` is where it is in the config, e.g.
  // "outputs[0]"); errors name the key path.
  static absl::StatusOr<OtlpOutputConfig> Parse(const YAML::Node& block, absl::string_view path);
};

// The value of a header as the config gives it: "${env:NAME}" from the environment,
// "${file:PATH}" from the file without one trailing newline, anything else as it is.
// Errors name `path` and the header, never a value.
absl::StatusOr<std::string> ResolveHeaderValue(absl::string_view value, absl::string_view path);

class OtlpOutput final : public SerializedOutput {
 public:
  // `encoding` is the OtlpRecordEncoder's id; `metrics`, when not null, gets
  // sluice_output_otlp_rejected_records_total{output}. `headers` hold resolved values.
  OtlpOutput(std::string id, OtlpOutputConfig config,
             std::vector<std::pair<std::string, std::string>> headers, EncodingId encoding,
             prometheus::Registry* metrics);

  std::optional<EncodingId> encoding() const override { return encoding_; }

 protected:
  // Creates the channel; connecting is lazy, so a receiver that is not up yet is no error.
  absl::Status StartLocked() override;
  absl::Status WriteLocked(OutputBatch& batch) override;
  absl::Status FlushLocked(absl::Time deadline) override;
  absl::Status ShutdownLocked(absl::Time deadline) override;

 private:
  // Sends one serialized ExportLogsServiceRequest and maps the answer (see the top).
  absl::Status Export(std::string request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Counts and logs (at most every 10 s) what a receiver refused in partial_success.
  void OnRejected(int64_t records, absl::string_view message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());

  const OtlpOutputConfig config_;
  const std::vector<std::pair<std::string, std::string>> headers_;
  const EncodingId encoding_;
  prometheus::Counter* rejected_ = nullptr;
  std::unique_ptr<grpc::GenericStub> stub_ ABSL_GUARDED_BY(mutex());
  absl::Time last_rejection_log_ ABSL_GUARDED_BY(mutex()) = absl::InfinitePast();
};

class OtlpOutputFactory final : public OutputFactory {
 public:
  absl::string_view type() const override { return "otlp"; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Output>> Create(absl::string_view id, const YAML::Node& config,
                                                 OutputContext& context) const override;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_OTLP_OTLP_OUTPUT_H_
