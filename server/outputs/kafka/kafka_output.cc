#include "server/outputs/kafka/kafka_output.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/field_layers.h"
#include "server/config/yaml_reader.h"
#include "server/outputs/otlp/otlp_output.h"
#include "server/outputs/otlp/otlp_record_encoder.h"

namespace sluice::outputs {

namespace {

constexpr absl::Duration kLogInterval = absl::Seconds(10);
constexpr absl::Duration kPollInterval = absl::Milliseconds(100);
// After a purge at shutdown librdkafka reports the purged messages at once; this bounds
// the wait for those reports.
constexpr absl::Duration kPurgeReportTimeout = absl::Seconds(1);
constexpr char kOtlpProtoEncoding[] = "otlp_proto";
// A record with no topic (topic_from's field absent and no `topic`) is counted under this.
constexpr char kNoTopicError[] = "no_topic";

// The properties this output sets itself: its guarantees rest on them.
constexpr absl::string_view kReservedProperties[] = {
    "bootstrap.servers",
    "metadata.broker.list",
    "acks",
    "request.required.acks",
    "enable.idempotence",
    "compression.codec",
    "compression.type",
    "message.timeout.ms",
    "delivery.timeout.ms",
    "queue.buffering.max.messages",
    "queue.buffering.max.kbytes",
    "partitioner",
    "enable.gapless.guarantee",
    "transactional.id",
};

const config::KeyTable<KafkaOutputConfig>& Keys() {
  using S = KafkaOutputConfig;
  static const config::KeyTable<S>* const table = new config::KeyTable<S>{
      config::StringKey("brokers", &S::brokers, config::StringRule::kRequired,
                        "Bootstrap brokers, `host:port` separated by commas. A broker that is "
                        "down at start-up delays delivery, not start-up."),
      config::StringKey("topic", &S::topic, config::StringRule::kAny,
                        "The topic records go to; with `topic_from`, the topic of records "
                        "without that field. One of `topic` and `topic_from` is required."),
      config::StringKey("topic_from", &S::topic_from, config::StringRule::kAny,
                        "A field whose value names the record's topic."),
      config::StringKey("key_from", &S::key_from, config::StringRule::kAny,
                        "A field whose value is the message key: records with the same key go "
                        "to the same partition, in order. Without it (or the field) no key."),
      config::ChoiceKey<S, S::Encoding>(
          "encoding", &S::encoding,
          {{"json", S::Encoding::kJson}, {"otlp_proto", S::Encoding::kOtlpProto}},
          "The message value: the record's `json` line without its newline, or "
          "(`otlp_proto`) a serialized OTLP `ExportLogsServiceRequest` holding the record "
          "with its resource and scope, as the otlp output maps it: the wire form of "
          "`LogsData` that the OpenTelemetry Collector's Kafka receiver reads as `otlp_proto`."),
      config::ChoiceKey<S, S::Compression>("compression", &S::compression,
                                           {{"none", S::Compression::kNone},
                                            {"gzip", S::Compression::kGzip},
                                            {"lz4", S::Compression::kLz4},
                                            {"zstd", S::Compression::kZstd}},
                                           "How message batches are compressed on the wire."),
      config::StringMapKey(
          "properties", &S::properties, false,
          "librdkafka settings passed as they are (`client.id`, `security.protocol`, "
          "`linger.ms`, ...). Those this output sets itself are refused: brokers, acks, "
          "idempotence, compression, timeouts, queue bounds and the partitioner."),
      config::DurationKey("flush_timeout", &S::flush_timeout, absl::Milliseconds(100),
                          absl::Minutes(10),
                          "The longest a flush (and shutdown) waits for delivery reports; "
                          "a flush that times out is retried."),
      config::DurationKey("message_timeout", &S::message_timeout, absl::Seconds(1), absl::Hours(1),
                          "How long librdkafka retries a message before it counts as failed "
                          "(`message.timeout.ms`)."),
      config::IntegerKey("max_queued_messages", &S::max_queued_messages, 1, 10000000,
                         "Messages librdkafka holds until their delivery is reported; a batch "
                         "that does not fit is retried later (`queue.buffering.max.messages`)."),
      config::IntegerKey("max_queued_bytes", &S::max_queued_bytes, int64_t{1} << 20,
                         int64_t{2} << 30,
                         "Value bytes librdkafka holds until their delivery is reported "
                         "(`queue.buffering.max.kbytes`)."),
  };
  return *table;
}

bool IsReserved(absl::string_view property) {
  for (absl::string_view reserved : kReservedProperties) {
    if (property == reserved) return true;
  }
  return false;
}

absl::string_view CompressionName(KafkaOutputConfig::Compression compression) {
  switch (compression) {
    case KafkaOutputConfig::Compression::kNone:
      return "none";
    case KafkaOutputConfig::Compression::kGzip:
      return "gzip";
    case KafkaOutputConfig::Compression::kLz4:
      return "lz4";
    case KafkaOutputConfig::Compression::kZstd:
      return "zstd";
  }
  return "none";
}

// Sets `name` on `conf`; the error names `path` and says what librdkafka said.
absl::Status SetProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value,
                         absl::string_view path) {
  char error[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error)) !=
      RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", error));
  }
  return absl::OkStatus();
}

// A librdkafka configuration with every setting of `config`; null with `*status` set when
// librdkafka refuses one. Errors name the key under `path`.
rd_kafka_conf_t* NewConf(const KafkaOutputConfig& config, absl::string_view path,
                         absl::Status* status) {
  struct Setting {
    absl::string_view key;  // the output's key it comes from
    std::string property;
    std::string value;
  };
  const Setting ours[] = {
      {"brokers", "bootstrap.servers", config.brokers},
      {"compression", "compression.codec", std::string(CompressionName(config.compression))},
      {"message_timeout", "message.timeout.ms",
       absl::StrCat(absl::ToInt64Milliseconds(config.message_timeout))},
      {"max_queued_messages", "queue.buffering.max.messages",
       absl::StrCat(config.max_queued_messages)},
      {"max_queued_bytes", "queue.buffering.max.kbytes",
       absl::StrCat((config.max_queued_bytes + 1023) / 1024)},
      {"type", "enable.idempotence", "true"},
      {"type", "acks", "all"},
      {"type", "partitioner", "murmur2_random"},
  };
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  *status = absl::OkStatus();
  for (const Setting& setting : ours) {
    *status =
        SetProperty(conf, setting.property, setting.value, absl::StrCat(path, ".", setting.key));
    if (!status->ok()) break;
  }
  for (const auto& [name, value] : config.properties) {
    if (!status->ok()) break;
    *status = SetProperty(conf, name, value,
                          config::ChildPath(config::ChildPath(path, "properties"), name));
  }
  if (!status->ok()) {
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  return conf;
}

// The text of the field with `key` that the record shows, or nullopt without one.
std::optional<std::string> FieldText(const v1::LogRecord& record, absl::string_view key,
                                     FieldLayers layers) {
  const int index = ShownFieldIndex(record, key, layers);
  if (index < 0) return std::nullopt;
  const v1::Field& field = record.fields(index);
  switch (field.value_case()) {
    case v1::Field::kStringValue:
      return field.string_value();
    case v1::Field::kIntValue:
      return absl::StrCat(field.int_value());
    case v1::Field::kDoubleValue:
      return absl::StrCat(field.double_value());
    case v1::Field::kBoolValue:
      return field.bool_value() ? "true" : "false";
    case v1::Field::kBytesValue:
      return field.bytes_value();
    case v1::Field::VALUE_NOT_SET:
      break;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<KafkaOutputConfig> KafkaOutputConfig::Parse(const YAML::Node& block,
                                                           absl::string_view path) {
  KafkaOutputConfig parsed;
  if (absl::Status status = Keys().Read(block, path, parsed, kCommonOutputKeys); !status.ok()) {
    return status;
  }
  if (parsed.topic.empty() && parsed.topic_from.empty()) {
    return config::KeyError(path, "one of `topic` and `topic_from` is required");
  }
  for (const auto& [name, value] : parsed.properties) {
    if (IsReserved(name)) {
      return config::KeyError(config::ChildPath(config::ChildPath(path, "properties"), name),
                              "set by the kafka output itself; use its own key, if it has one");
    }
  }
  // librdkafka validates names and values; the configuration is built again at Start.
  absl::Status status;
  rd_kafka_conf_t* conf = NewConf(parsed, path, &status);
  if (conf != nullptr) rd_kafka_conf_destroy(conf);
  if (!status.ok()) return status;
  return parsed;
}

KafkaOutput::KafkaOutput(std::string id, KafkaOutputConfig config, EncodingId encoding,
                         prometheus::Registry* metrics)
    : SerializedOutput(id), config_(std::move(config)), encoding_(encoding) {
  if (metrics != nullptr) {
    failures_family_ = &prometheus::BuildCounter()
                            .Name("sluice_output_kafka_delivery_failures_total")
                            .Help(
                                "Messages a kafka output lost after librdkafka's retries, "
                                "by librdkafka error name.")
                            .Register(*metrics);
  }
}

KafkaOutput::~KafkaOutput() {
  // Shutdown() normally did this; a producer still here was started and never shut down.
  stop_polling_ = true;
  if (poll_thread_.joinable()) poll_thread_.join();
  absl::MutexLock lock(&mutex());
  if (producer_ != nullptr) rd_kafka_destroy(producer_);
}

void KafkaOutput::OnDeliveryReport(rd_kafka_t* /*producer*/, const rd_kafka_message_t* message,
                                   void* opaque) {
  auto* output = static_cast<KafkaOutput*>(opaque);
  absl::MutexLock lock(&output->reports_mu_);
  --output->outstanding_;
  output->outstanding_bytes_ -= static_cast<int64_t>(message->len);
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    output->CountFailure(rd_kafka_err2name(message->err), rd_kafka_err2str(message->err), 1);
  }
}

void KafkaOutput::OnError(rd_kafka_t* /*producer*/, int error, const char* reason, void* opaque) {
  auto* output = static_cast<KafkaOutput*>(opaque);
  absl::MutexLock lock(&output->reports_mu_);
  // Brokers down are reported again and again while they stay down.
  const absl::Time now = absl::Now();
  if (now - output->last_error_log_ < kLogInterval) return;
  output->last_error_log_ = now;
  std::fprintf(stderr, "%s: %s: %s\n", std::string(output->id()).c_str(),
               rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(error)), reason);
}

void KafkaOutput::CountFailure(absl::string_view error, absl::string_view detail, int64_t count) {
  const std::string name(error);
  failures_ += count;
  failures_since_flush_ += count;
  if (first_failure_since_flush_.empty())
    first_failure_since_flush_ = absl::StrCat(name, ": ", detail);
  if (failures_family_ != nullptr) {
    prometheus::Counter*& counter = failures_by_error_[name];
    if (counter == nullptr)
      counter = &failures_family_->Add({{"output", std::string(id())}, {"error", name}});
    counter->Increment(static_cast<double>(count));
  }
  const absl::Time now = absl::Now();
  if (now - last_failure_log_ < kLogInterval) return;
  last_failure_log_ = now;
  std::fprintf(stderr, "%s: %lld messages not delivered: %s: %s (%lld in all)\n",
               std::string(id()).c_str(), static_cast<long long>(count), name.c_str(),
               std::string(detail).c_str(), static_cast<long long>(failures_));
}

absl::Status KafkaOutput::StartLocked() {
  absl::Status status;
  rd_kafka_conf_t* conf = NewConf(config_, id(), &status);
  if (conf == nullptr) return status;
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaOutput::OnDeliveryReport);
  rd_kafka_conf_set_error_cb(conf, &KafkaOutput::OnError);
  char error[512];
  producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (producer_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat(id(), ": cannot create the producer: ", error));
  }
  stop_polling_ = false;
  poll_thread_ = std::thread([this, producer = producer_] {
    while (!stop_polling_) rd_kafka_poll(producer, absl::ToInt64Milliseconds(kPollInterval));
  });
  return absl::OkStatus();
}

absl::StatusOr<std::vector<KafkaOutput::Message>> KafkaOutput::Messages(OutputBatch& batch) {
  const RecordBatch& records = batch.records();
  absl::string_view lines = batch.Lines(encoding_);
  std::vector<Message> messages;
  messages.reserve(batch.count());
  for (int i = 0; i < records.records().size(); ++i) {
    if (!batch.takes(i)) continue;
    Message message;
    if (encoding_ == kJsonEncoding) {
      const size_t end = lines.find('\n');
      if (end == absl::string_view::npos) {
        return absl::InternalError(absl::StrCat(id(), ": fewer lines than records"));
      }
      message.value = lines.substr(0, end);
      lines.remove_prefix(end + 1);
    } else {
      const std::optional<absl::string_view> request = NextLengthPrefixed(&lines);
      if (!request.has_value()) {
        return absl::InternalError(absl::StrCat(id(), ": a torn record frame"));
      }
      message.value = *request;
    }
    const v1::LogRecord& record = records.records()[i];
    if (!config_.topic_from.empty()) {
      message.topic = FieldText(record, config_.topic_from, batch.layers(i)).value_or("");
    }
    if (message.topic.empty()) message.topic = config_.topic;
    if (!config_.key_from.empty()) {
      message.key = FieldText(record, config_.key_from, batch.layers(i));
    }
    messages.push_back(std::move(message));
  }
  return messages;
}

absl::Status KafkaOutput::WriteLocked(OutputBatch& batch) {
  absl::StatusOr<std::vector<Message>> messages = Messages(batch);
  if (!messages.ok()) return messages.status();
  int64_t bytes = 0;
  for (const Message& message : *messages) bytes += static_cast<int64_t>(message.value.size());
  const int64_t count = static_cast<int64_t>(messages->size());

  bool blocking = false;
  {
    absl::MutexLock lock(&reports_mu_);
    const int64_t queued = std::max<int64_t>(outstanding_, rd_kafka_outq_len(producer_));
    const bool fits = queued + count <= config_.max_queued_messages &&
                      outstanding_bytes_ + bytes <= config_.max_queued_bytes;
    if (!fits && queued > 0) {
      return absl::UnavailableError(absl::StrCat(
          id(), ": librdkafka's queue is full (", queued, " messages, ", outstanding_bytes_,
          " bytes await delivery; the batch has ", count, " messages, ", bytes, " bytes)"));
    }
    blocking = !fits;
    outstanding_ += count;
    outstanding_bytes_ += bytes;
  }

  for (const Message& message : *messages) {
    if (message.topic.empty()) {
      // Not handed over: no delivery report will come for it.
      absl::MutexLock lock(&reports_mu_);
      --outstanding_;
      outstanding_bytes_ -= static_cast<int64_t>(message.value.size());
      CountFailure(kNoTopicError, "the record has no topic field and the output no `topic`", 1);
      continue;
    }
    rd_kafka_resp_err_t error = Produce(message, blocking);
    // The check above saw room that librdkafka frees a moment after the delivery report
    // (it destroys the message after the callback): wait for it rather than lose the record.
    if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL) error = Produce(message, true);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    absl::MutexLock lock(&reports_mu_);
    --outstanding_;
    outstanding_bytes_ -= static_cast<int64_t>(message.value.size());
    CountFailure(rd_kafka_err2name(error), rd_kafka_err2str(error), 1);
  }
  return absl::OkStatus();
}

rd_kafka_resp_err_t KafkaOutput::Produce(const Message& message, bool blocking) {
  const int flags = RD_KAFKA_MSG_F_COPY | (blocking ? RD_KAFKA_MSG_F_BLOCK : 0);
  return rd_kafka_producev(
      producer_, RD_KAFKA_V_TOPIC(message.topic.c_str()), RD_KAFKA_V_MSGFLAGS(flags),
      RD_KAFKA_V_VALUE(const_cast<char*>(message.value.data()), message.value.size()),
      RD_KAFKA_V_KEY(message.key.has_value() ? message.key->data() : nullptr,
                     message.key.has_value() ? message.key->size() : 0),
      RD_KAFKA_V_END);
}

bool KafkaOutput::AwaitReports(absl::Time deadline) {
  absl::MutexLock lock(&reports_mu_);
  const auto done = [this]()
                        ABSL_EXCLUSIVE_LOCKS_REQUIRED(reports_mu_) { return outstanding_ == 0; };
  return reports_mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
}

absl::Status KafkaOutput::FlushLocked(absl::Time deadline) {
  if (!AwaitReports(std::min(deadline, absl::Now() + config_.flush_timeout))) {
    absl::MutexLock lock(&reports_mu_);
    return absl::DeadlineExceededError(absl::StrCat(
        id(), ": ", outstanding_, " messages await their delivery report from ", config_.brokers));
  }
  absl::MutexLock lock(&reports_mu_);
  if (failures_since_flush_ == 0) return absl::OkStatus();
  absl::Status lost = absl::DataLossError(absl::StrCat(
      id(), ": ", failures_since_flush_,
      " messages failed delivery since the last flush, the first: ", first_failure_since_flush_));
  failures_since_flush_ = 0;
  first_failure_since_flush_.clear();
  return lost;
}

absl::Status KafkaOutput::ShutdownLocked(absl::Time deadline) {
  absl::Status status;
  if (!AwaitReports(std::min(deadline, absl::Now() + config_.flush_timeout))) {
    rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    AwaitReports(absl::Now() + kPurgeReportTimeout);
    absl::MutexLock lock(&reports_mu_);
    status =
        absl::DeadlineExceededError(absl::StrCat(id(), ": shut down with messages undelivered (",
                                                 failures_since_flush_, " since the last flush)"));
  }
  // The poll thread never takes mutex(), so joining it here cannot deadlock.
  stop_polling_ = true;
  poll_thread_.join();
  rd_kafka_destroy(producer_);
  producer_ = nullptr;
  return status;
}

std::vector<config::KeyDoc> KafkaOutputFactory::keys() const { return Keys().docs(); }

std::string KafkaOutputFactory::example_config() const {
  return "{type: kafka, brokers: '${KAFKA_BROKERS}', topic: logs}";
}

absl::StatusOr<std::unique_ptr<Output>> KafkaOutputFactory::Create(absl::string_view id,
                                                                   const YAML::Node& config,
                                                                   OutputContext& context) const {
  absl::StatusOr<KafkaOutputConfig> parsed = KafkaOutputConfig::Parse(config, context.config_path);
  if (!parsed.ok()) return parsed.status();
  EncodingId encoding = kJsonEncoding;
  if (parsed->encoding == KafkaOutputConfig::Encoding::kOtlpProto) {
    absl::StatusOr<EncodingId> otlp = context.encodings.FindOrAdd(kOtlpProtoEncoding, [] {
      return std::make_unique<OtlpRecordEncoder>(OtlpOutputConfig{}.resource_keys,
                                                 OtlpFraming::kRequests);
    });
    if (!otlp.ok()) return otlp.status();
    encoding = *otlp;
  }
  return std::make_unique<KafkaOutput>(std::string(id), *std::move(parsed), encoding,
                                       context.metrics);
}

}  // namespace sluice::outputs
