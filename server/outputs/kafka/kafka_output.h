// The kafka output: produces each record as one message to Apache Kafka with librdkafka's
// idempotent producer (acks=all, enable.idempotence=true).
//
//   outputs:
//     - type: kafka
//       name: events
//       brokers: "kafka-0:9092,kafka-1:9092"  # bootstrap servers, required
//       topic: logs                  # or topic_from (or both: topic is the fallback)
//       topic_from: service.name     # a field naming the record's topic
//       key_from: trace_id           # a field whose value is the message key
//       encoding: json               # json (the `json` line) | otlp_proto (a LogRecord)
//       compression: lz4             # none | gzip | lz4 | zstd
//       properties: { client.id: sluice-edge }  # any other librdkafka setting, as is
//
// Who calls it: the output's sender thread (server/pipeline/output_sender.h), one call at a
// time through SerializedOutput; librdkafka's delivery reports arrive on a poll thread of
// this output's own.
//
// Write() hands every routed record to librdkafka (rd_kafka_producev) and returns: that is
// `written`. It first checks that the whole batch fits in librdkafka's queue (bounded by
// max_queued_messages and max_queued_bytes) and returns UNAVAILABLE when it does not, so
// the sender retries the whole batch later and no batch is ever enqueued in part and then
// again: only Write adds to the queue, one call at a time, so room seen by the check cannot
// shrink before the batch is in. (Remembering how far a batch got would need a key that
// identifies a batch across retries, which OutputBatch does not offer.) A batch larger than
// the empty queue goes in with RD_KAFKA_MSG_F_BLOCK, each message waiting for room, at
// worst until message_timeout frees it. A message librdkafka refuses (too large, the
// producer failed) is counted as a delivery failure, never retried by Sluice.
//
// Flush() waits until a delivery report came back for every message produced so far
// (`flushed`), by its deadline and at most flush_timeout, else DEADLINE_EXCEEDED, which the
// sender retries. librdkafka retries sends itself until message_timeout; what still fails
// is counted in sluice_output_kafka_delivery_failures_total{output,error} (error: the
// librdkafka error name, e.g. `_MSG_TIMED_OUT`) and logged at most every 10 s, and the next
// Flush() is DATA_LOSS, so that under `ack_on: flushed` the batches it covers are reported
// dropped rather than delivered.
//
// Records with the same key go to the same partition (librdkafka's murmur2_random, as the
// Java client's default) and, with the idempotent producer, arrive in the order written,
// once per producer: a restart of Sluice starts a new producer, so delivery across one is
// at-least-once. Start() does not wait for a broker: one that is down delays delivery, not
// start-up. Shutdown() waits for deliveries as Flush() does; what is still undelivered by
// its deadline is purged and counted as failed.
//
// Threading: the poll thread runs librdkafka's callbacks, which touch only the counters
// under reports_mu_; it never takes the SerializedOutput lock.
#ifndef SLUICE_SERVER_OUTPUTS_KAFKA_KAFKA_OUTPUT_H_
#define SLUICE_SERVER_OUTPUTS_KAFKA_KAFKA_OUTPUT_H_

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"
#include "server/outputs/output.h"
#include "server/outputs/output_registry.h"
#include "server/outputs/serialized_output.h"

namespace sluice::outputs {

struct KafkaOutputConfig {
  enum class Encoding { kJson, kOtlpProto };
  enum class Compression { kNone, kGzip, kLz4, kZstd };

  std::string brokers;
  std::string topic;
  std::string topic_from;
  std::string key_from;
  Encoding encoding = Encoding::kJson;
  Compression compression = Compression::kLz4;
  // librdkafka properties as written, validated by librdkafka at creation.
  std::vector<std::pair<std::string, std::string>> properties;
  absl::Duration flush_timeout = absl::Seconds(30);
  absl::Duration message_timeout = absl::Minutes(5);
  int64_t max_queued_messages = 100000;
  int64_t max_queued_bytes = int64_t{64} << 20;

  // Reads and validates an output block (`path` is where it is, e.g. "outputs[0]");
  // errors name the key path.
  static absl::StatusOr<KafkaOutputConfig> Parse(const YAML::Node& block, absl::string_view path);
};

class KafkaOutput final : public SerializedOutput {
 public:
  // `encoding` is kJsonEncoding or the otlp_proto encoding's id; `metrics`, when not null,
  // gets sluice_output_kafka_delivery_failures_total.
  KafkaOutput(std::string id, KafkaOutputConfig config, EncodingId encoding,
              prometheus::Registry* metrics);
  ~KafkaOutput() override;

  std::optional<EncodingId> encoding() const override { return encoding_; }

 protected:
  // Creates the producer and its poll thread; connecting happens in the background.
  absl::Status StartLocked() override;
  absl::Status WriteLocked(OutputBatch& batch) override;
  absl::Status FlushLocked(absl::Time deadline) override;
  // Waits for outstanding deliveries as Flush does, purges what is left (counted as
  // failures), then stops the poll thread and destroys the producer.
  absl::Status ShutdownLocked(absl::Time deadline) override;

 private:
  // One message of a batch; the value is a view into the batch's lines.
  struct Message {
    std::string topic;
    std::optional<std::string> key;
    absl::string_view value;
  };

  // librdkafka's delivery report callback; `opaque` is the output.
  static void OnDeliveryReport(rd_kafka_t* producer, const rd_kafka_message_t* message,
                               void* opaque);
  static void OnError(rd_kafka_t* producer, int error, const char* reason, void* opaque);

  absl::StatusOr<std::vector<Message>> Messages(OutputBatch& batch);
  // Hands `message` to librdkafka; with `blocking`, waits for room in its queue.
  rd_kafka_resp_err_t Produce(const Message& message, bool blocking)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Counts `count` messages lost with `error` and logs (at most every 10 s).
  void CountFailure(absl::string_view error, absl::string_view detail, int64_t count)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reports_mu_);
  // Waits until no delivery report is outstanding, or `deadline`.
  bool AwaitReports(absl::Time deadline) ABSL_LOCKS_EXCLUDED(reports_mu_);

  const KafkaOutputConfig config_;
  const EncodingId encoding_;
  prometheus::Family<prometheus::Counter>* failures_family_ = nullptr;

  rd_kafka_t* producer_ ABSL_GUARDED_BY(mutex()) = nullptr;
  std::thread poll_thread_;
  std::atomic<bool> stop_polling_ = false;

  mutable absl::Mutex reports_mu_;
  // Messages produced whose delivery report has not come yet, and their value bytes.
  int64_t outstanding_ ABSL_GUARDED_BY(reports_mu_) = 0;
  int64_t outstanding_bytes_ ABSL_GUARDED_BY(reports_mu_) = 0;
  // Failures since the last Flush, and in all.
  int64_t failures_since_flush_ ABSL_GUARDED_BY(reports_mu_) = 0;
  std::string first_failure_since_flush_ ABSL_GUARDED_BY(reports_mu_);
  int64_t failures_ ABSL_GUARDED_BY(reports_mu_) = 0;
  std::map<std::string, prometheus::Counter*> failures_by_error_ ABSL_GUARDED_BY(reports_mu_);
  absl::Time last_failure_log_ ABSL_GUARDED_BY(reports_mu_) = absl::InfinitePast();
  absl::Time last_error_log_ ABSL_GUARDED_BY(reports_mu_) = absl::InfinitePast();
};

class KafkaOutputFactory final : public OutputFactory {
 public:
  absl::string_view type() const override { return "kafka"; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Output>> Create(absl::string_view id, const YAML::Node& config,
                                                 OutputContext& context) const override;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_KAFKA_KAFKA_OUTPUT_H_
