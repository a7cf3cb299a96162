// The kafka output (server/outputs/kafka/kafka_output.h): its config errors, and against
// librdkafka's mock cluster what arrives on the topics, in which order, what Flush waits
// for, and what broker errors, timeouts and a full queue do.
#include "server/outputs/kafka/kafka_output.h"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/logs/v1/logs.pb.h"
#include "prometheus/registry.h"
#include "tests/outputs/output_test_util.h"
#include "tests/test_util/eventually.h"
#include "tests/test_util/kafka_mock_cluster.h"

namespace sluice::outputs {
namespace {

using test_util::ConsumedMessage;
using test_util::KafkaMockCluster;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int16_t kProduceApiKey = 0;

absl::Status CreateError(const std::string& yaml) {
  KafkaOutputFactory factory;
  absl::StatusOr<std::unique_ptr<Output>> output = CreateFromYaml(factory, yaml);
  return output.status();
}

TEST(KafkaOutputConfigTest, BrokersAreRequired) {
  const absl::Status status = CreateError("{type: kafka, topic: logs}");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              StartsWith("outputs[0]: missing required key `brokers`"));
}

TEST(KafkaOutputConfigTest, TopicOrTopicFromIsRequired) {
  const absl::Status status = CreateError("{type: kafka, brokers: 'localhost:9092'}");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              StartsWith("outputs[0]: one of `topic` and `topic_from`"));
}

TEST(KafkaOutputConfigTest, PropertiesTheOutputSetsAreRefused) {
  const absl::Status status = CreateError(
      "{type: kafka, brokers: 'localhost:9092', topic: logs, "
      "properties: {enable.idempotence: 'false'}}");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              StartsWith("outputs[0].properties[\"enable.idempotence\"]: set by the kafka output"));
}

TEST(KafkaOutputConfigTest, PropertiesLibrdkafkaRefusesNameTheKey) {
  const absl::Status unknown = CreateError(
      "{type: kafka, brokers: 'localhost:9092', topic: logs, properties: {no.such.thing: x}}");
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.message()),
              StartsWith("outputs[0].properties[\"no.such.thing\"]: "));
  const absl::Status bad_value = CreateError(
      "{type: kafka, brokers: 'localhost:9092', topic: logs, properties: {linger.ms: soon}}");
  EXPECT_THAT(std::string(bad_value.message()),
              StartsWith("outputs[0].properties[\"linger.ms\"]: "));
}

TEST(KafkaOutputConfigTest, UnknownCompressionNamesTheKey) {
  const absl::Status status =
      CreateError("{type: kafka, brokers: 'localhost:9092', topic: logs, compression: brotli}");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("outputs[0].compression: "));
}

TEST(KafkaOutputConfigTest, ValidBlockIsCreated) {
  KafkaOutputFactory factory;
  EXPECT_TRUE(CreateFromYaml(factory,
                             "{type: kafka, brokers: 'a:9092,b:9092', topic_from: svc, "
                             "key_from: user, compression: zstd, message_timeout: 10s, "
                             "properties: {client.id: sluice, linger.ms: '20'}}")
                  .ok());
}

// An output on a mock cluster, with its metrics and encodings.
class KafkaOutputTest : public ::testing::Test {
 protected:
  std::unique_ptr<Output> Create(const std::string& options) {
    const std::string yaml =
        absl::StrCat("{type: kafka, name: k, brokers: '", kafka_.bootstraps(), "', ", options, "}");
    config::OutputConfig config = OutputConfigFromYaml(yaml);
    OutputContext context{
        .config_path = config.key_path, .encodings = encodings_, .metrics = &metrics_};
    absl::StatusOr<std::unique_ptr<Output>> output =
        KafkaOutputFactory().Create(config.id(), config.options, context);
    EXPECT_TRUE(output.ok()) << output.status();
    if (!output.ok()) return nullptr;
    EXPECT_TRUE((*output)->Start().ok());
    return *std::move(output);
  }

  // The value of sluice_output_kafka_delivery_failures_total for `error`, 0 without one.
  double Failures(absl::string_view error) {
    for (const prometheus::MetricFamily& family : metrics_.Collect()) {
      if (family.name != "sluice_output_kafka_delivery_failures_total") continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        for (const prometheus::ClientMetric::Label& label : metric.label) {
          if (label.name == "error" && label.value == error) return metric.counter.value;
        }
      }
    }
    return 0;
  }

  static absl::Time In(absl::Duration duration) { return absl::Now() + duration; }

  KafkaMockCluster kafka_;
  EncodingRegistry encodings_;
  prometheus::Registry metrics_;
};

// The messages' values, e.g. {"m":"a"} for the fake batch's record "a".
std::vector<std::string> Values(const std::vector<ConsumedMessage>& messages) {
  std::vector<std::string> values;
  for (const ConsumedMessage& message : messages) values.push_back(message.value);
  return values;
}

std::string Json(absl::string_view text) { return absl::StrCat("{\"m\":\"", text, "\"}"); }

TEST_F(KafkaOutputTest, RoutedRecordsArriveWithTheirJsonLineAndKey) {
  kafka_.CreateTopic("logs", 1);
  std::unique_ptr<Output> output = Create("topic: logs, key_from: user");
  ASSERT_NE(output, nullptr);
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "a").AddField("user", "alice");
  batch.Add(Level::kDebug, "not routed").AddField("user", "bob");
  batch.Add(Level::kWarn, "b");
  ASSERT_TRUE(output->Write(batch.RouteAtLeast(Level::kInfo)).ok());
  ASSERT_TRUE(output->Flush(In(absl::Seconds(10))).ok());

  const std::vector<ConsumedMessage> messages = kafka_.Consume("logs", 1, 2);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].value, Json("a"));
  EXPECT_EQ(messages[0].key, "alice");
  EXPECT_EQ(messages[1].value, Json("b"));
  EXPECT_EQ(messages[1].key, std::nullopt);
  EXPECT_EQ(kafka_.MessageCount("logs", 1), 2);
  EXPECT_TRUE(output->Shutdown(In(absl::Seconds(10))).ok());
}

TEST_F(KafkaOutputTest, TopicFromRoutesEachRecordAndFallsBackToTopic) {
  for (const char* topic : {"alpha", "beta", "rest"}) kafka_.CreateTopic(topic, 1);
  std::unique_ptr<Output> output = Create("topic: rest, topic_from: svc");
  ASSERT_NE(output, nullptr);
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "to-alpha").AddField("svc", "alpha");
  batch.Add(Level::kInfo, "to-beta").AddField("svc", "beta");
  batch.Add(Level::kInfo, "to-rest");
  batch.Add(Level::kInfo, "empty-to-rest").AddField("svc", "");
  ASSERT_TRUE(output->Write(batch).ok());
  ASSERT_TRUE(output->Flush(In(absl::Seconds(10))).ok());

  EXPECT_THAT(Values(kafka_.Consume("alpha", 1, 1)), ::testing::ElementsAre(Json("to-alpha")));
  EXPECT_THAT(Values(kafka_.Consume("beta", 1, 1)), ::testing::ElementsAre(Json("to-beta")));
  EXPECT_THAT(Values(kafka_.Consume("rest", 1, 2)),
              ::testing::ElementsAre(Json("to-rest"), Json("empty-to-rest")));
  EXPECT_EQ(kafka_.MessageCount("rest", 1), 2);
  EXPECT_TRUE(output->Shutdown(In(absl::Seconds(10))).ok());
}

TEST_F(KafkaOutputTest, RecordWithoutTopicIsCountedAndTheFlushReportsTheLoss) {
  kafka_.CreateTopic("alpha", 1);
  std::unique_ptr<Output> output = Create("topic_from: svc");
  ASSERT_NE(output, nullptr);
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "to-alpha").AddField("svc", "alpha");
  batch.Add(Level::kInfo, "nowhere");
  ASSERT_TRUE(output->Write(batch).ok());
  const absl::Status flushed = output->Flush(In(absl::Seconds(10)));
  EXPECT_EQ(flushed.code(), absl::StatusCode::kDataLoss) << flushed;
  EXPECT_EQ(Failures("no_topic"), 1);
  EXPECT_THAT(Values(kafka_.Consume("alpha", 1, 1)), ::testing::ElementsAre(Json("to-alpha")));
  // The loss was reported once: the next flush covers nothing lost.
  EXPECT_TRUE(output->Flush(In(absl::Seconds(10))).ok());
  EXPECT_TRUE(output->Shutdown(In(absl::Seconds(10))).ok());
}

TEST_F(KafkaOutputTest, RecordsOfOneKeyShareAPartitionInTheOrderWritten) {
  constexpr int kPartitions = 4;
  constexpr int kBatches = 10;
  constexpr int kPerBatch = 20;
  kafka_.CreateTopic("logs", kPartitions);
  std::unique_ptr<Output> output = Create("topic: logs, key_from: user");
  ASSERT_NE(output, nullptr);
  for (int b = 0; b < kBatches; ++b) {
    FakeOutputBatch batch;
    for (int i = 0; i < kPerBatch; ++i) {
      const int n = b * kPerBatch + i;
      batch.Add(Level::kInfo, absl::StrCat(n)).AddField("user", absl::StrCat("user-", n % 7));
    }
    ASSERT_TRUE(output->Write(batch).ok());
  }
  ASSERT_TRUE(output->Flush(In(absl::Seconds(10))).ok());

  const std::vector<ConsumedMessage> messages =
      kafka_.Consume("logs", kPartitions, kBatches * kPerBatch);
  ASSERT_EQ(messages.size(), static_cast<size_t>(kBatches * kPerBatch));
  std::map<std::string, int32_t> partition_of;
  std::map<std::string, int> last_of;
  std::set<int32_t> partitions;
  for (const ConsumedMessage& message : messages) {
    ASSERT_TRUE(message.key.has_value());
    absl::string_view value = message.value;
    int n = -1;
    ASSERT_TRUE(absl::ConsumePrefix(&value, "{\"m\":\"") && absl::ConsumeSuffix(&value, "\"}") &&
                absl::SimpleAtoi(value, &n))
        << message.value;
    auto [partition, added] = partition_of.try_emplace(*message.key, message.partition);
    EXPECT_EQ(partition->second, message.partition) << *message.key;
    auto [last, first] = last_of.try_emplace(*message.key, n);
    if (!first) {
      EXPECT_GT(n, last->second) << *message.key;
    }
    last->second = n;
    partitions.insert(message.partition);
  }
  EXPECT_EQ(partition_of.size(), 7u);
  EXPECT_GT(partitions.size(), 1u) << "keys spread over the partitions";
  EXPECT_EQ(kafka_.MessageCount("logs", kPartitions), kBatches * kPerBatch);
  EXPECT_TRUE(output->Shutdown(In(absl::Seconds(10))).ok());
}

TEST_F(KafkaOutputTest, FlushWaitsForTheDeliveryReports) {
  kafka_.CreateTopic("logs", 1);
  std::unique_ptr<Output> output = Create("topic: logs");
  ASSERT_NE(output, nullptr);
  // Every answer of the broker takes a second: a flush shorter than that cannot see one.
  rd_kafka_mock_broker_set_rtt(kafka_.cluster(), -1, 1000);
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "a").Add(Level::kInfo, "b");
  ASSERT_TRUE(output->Write(batch).ok());
  EXPECT_EQ(output->Flush(In(absl::Milliseconds(100))).code(), absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(output->Flush(In(absl::Seconds(20))).ok());
  rd_kafka_mock_broker_set_rtt(kafka_.cluster(), -1, 0);
  // Flushed means in the log: the messages are there without waiting.
  EXPECT_EQ(kafka_.MessageCount("logs", 1), 2);
  EXPECT_TRUE(output->Shutdown(In(absl::Seconds(10))).ok());
}

TEST_F(KafkaOutputTest, RetriableBrokerErrorsAreRetriedByLibrdkafkaAndDelivered) {
  kafka_.CreateTopic("logs", 1);
  std::unique_ptr<Output> output = Create("topic: logs");
  ASSERT_NE(output, nullptr);
  rd_kafka_mock_push_request_errors(
      kafka_.cluster(), kProduceApiKey, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  FakeOutputBatch batch;
  for (int i = 0; i < 10; ++i) batch.Add(Level::kInfo, absl::StrCat("r", i));
  ASSERT_TRUE(output->Write(batch).ok());
  const absl::Status flushed = output->Flush(In(absl::Seconds(20)));
  ASSERT_TRUE(flushed.ok()) << flushed;

  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i) expected.push_back(Json(absl::StrCat("r", i)));
  EXPECT_EQ(Values(kafka_.Consume("logs", 1, 10)), expected);
  EXPECT_EQ(kafka_.MessageCount("logs", 1), 10) << "retries must not duplicate";
  EXPECT_TRUE(output->Shutdown(In(absl::Seconds(10))).ok());
}

TEST_F(KafkaOutputTest, MessagesTimedOutWithTheBrokerDownAreCountedAsFailures) {
  kafka_.CreateTopic("logs", 1);
  ASSERT_EQ(rd_kafka_mock_broker_set_down(kafka_.cluster(), -1), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::unique_ptr<Output> output = Create("topic: logs, message_timeout: 1s");
  ASSERT_NE(output, nullptr);
  FakeOutputBatch batch;
  for (int i = 0; i < 5; ++i) batch.Add(Level::kInfo, absl::StrCat("r", i));
  ASSERT_TRUE(output->Write(batch).ok());

  const absl::Status flushed = output->Flush(In(absl::Seconds(20)));
  EXPECT_EQ(flushed.code(), absl::StatusCode::kDataLoss) << flushed;
  EXPECT_THAT(std::string(flushed.message()), HasSubstr("_MSG_TIMED_OUT"));
  EXPECT_EQ(Failures("_MSG_TIMED_OUT"), 5);
  EXPECT_TRUE(output->Shutdown(In(absl::Seconds(10))).ok());
}

TEST_F(KafkaOutputTest, StartSucceedsWithoutABrokerAndFlushTimesOut) {
  KafkaOutputFactory factory;
  // Port 1 on loopback: nothing listens there.
  absl::StatusOr<std::unique_ptr<Output>> output =
      CreateFromYaml(factory, "{type: kafka, brokers: '127.0.0.1:1', topic: logs}");
  ASSERT_TRUE(output.ok()) << output.status();
  ASSERT_TRUE((*output)->Start().ok());
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "a");
  EXPECT_TRUE((*output)->Write(batch).ok());
  EXPECT_EQ((*output)->Flush(In(absl::Milliseconds(200))).code(),
            absl::StatusCode::kDeadlineExceeded);
  // Shutdown gives up by its deadline, with the message undelivered.
  const absl::Time start = absl::Now();
  EXPECT_FALSE((*output)->Shutdown(In(absl::Milliseconds(500))).ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(KafkaOutputTest, FullQueueIsUnavailableAndTheRetriedBatchArrivesOnce) {
  kafka_.CreateTopic("logs", 1);
  ASSERT_EQ(rd_kafka_mock_broker_set_down(kafka_.cluster(), -1), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::unique_ptr<Output> output = Create("topic: logs, max_queued_messages: 10");
  ASSERT_NE(output, nullptr);
  FakeOutputBatch first;
  FakeOutputBatch second;
  for (int i = 0; i < 6; ++i) {
    first.Add(Level::kInfo, absl::StrCat("first-", i));
    second.Add(Level::kInfo, absl::StrCat("second-", i));
  }
  ASSERT_TRUE(output->Write(first).ok());
  const absl::Status full = output->Write(second);
  EXPECT_EQ(full.code(), absl::StatusCode::kUnavailable) << full;
  EXPECT_EQ(output->Write(second).code(), absl::StatusCode::kUnavailable);

  // The sender's retries, once the broker is back and the first batch delivered.
  ASSERT_EQ(rd_kafka_mock_broker_set_up(kafka_.cluster(), -1), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_TRUE(test_util::Eventually([&] { return output->Write(second).ok(); }));
  ASSERT_TRUE(output->Flush(In(absl::Seconds(20))).ok());

  std::vector<std::string> expected;
  for (int i = 0; i < 6; ++i) expected.push_back(Json(absl::StrCat("first-", i)));
  for (int i = 0; i < 6; ++i) expected.push_back(Json(absl::StrCat("second-", i)));
  EXPECT_EQ(Values(kafka_.Consume("logs", 1, 12)), expected);
  EXPECT_EQ(kafka_.MessageCount("logs", 1), 12);
  EXPECT_TRUE(output->Shutdown(In(absl::Seconds(10))).ok());
}

TEST_F(KafkaOutputTest, BatchLargerThanTheQueueGoesInWhenTheQueueIsEmpty) {
  kafka_.CreateTopic("logs", 1);
  std::unique_ptr<Output> output = Create("topic: logs, max_queued_messages: 4");
  ASSERT_NE(output, nullptr);
  FakeOutputBatch batch;
  for (int i = 0; i < 10; ++i) batch.Add(Level::kInfo, absl::StrCat("r", i));
  ASSERT_TRUE(output->Write(batch).ok());
  ASSERT_TRUE(output->Flush(In(absl::Seconds(20))).ok());
  EXPECT_EQ(Values(kafka_.Consume("logs", 1, 10)).size(), 10u);
  EXPECT_EQ(kafka_.MessageCount("logs", 1), 10);
  EXPECT_TRUE(output->Shutdown(In(absl::Seconds(10))).ok());
}

TEST_F(KafkaOutputTest, OtlpProtoValuesAreExportRequestsOfOneRecord) {
  kafka_.CreateTopic("logs", 1);
  std::unique_ptr<Output> output = Create("topic: logs, encoding: otlp_proto");
  ASSERT_NE(output, nullptr);
  ASSERT_TRUE(output->encoding().has_value());
  EXPECT_NE(*output->encoding(), kJsonEncoding);
  FakeOutputBatch batch;
  batch.EncodeWith(encodings_).Add(Level::kWarn, "hello");
  ASSERT_TRUE(output->Write(batch).ok());
  ASSERT_TRUE(output->Flush(In(absl::Seconds(10))).ok());

  const std::vector<ConsumedMessage> messages = kafka_.Consume("logs", 1, 1);
  ASSERT_EQ(messages.size(), 1u);
  // As the OpenTelemetry Collector's Kafka exporter writes otlp_proto: the record with its
  // resource and scope, so that a kafka receiver reads it back whole.
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(messages[0].value));
  ASSERT_EQ(request.resource_logs_size(), 1);
  ASSERT_EQ(request.resource_logs(0).scope_logs_size(), 1);
  ASSERT_EQ(request.resource_logs(0).scope_logs(0).log_records_size(), 1);
  const opentelemetry::proto::logs::v1::LogRecord& record =
      request.resource_logs(0).scope_logs(0).log_records(0);
  EXPECT_EQ(record.body().string_value(), "hello");
  EXPECT_EQ(record.severity_text(), "WARN");
  EXPECT_TRUE(output->Shutdown(In(absl::Seconds(10))).ok());
}

TEST(KafkaMockClusterTest, BrokersListenOnLoopbackOnly) {
  KafkaMockCluster kafka(3);
  for (absl::string_view broker : absl::StrSplit(kafka.bootstraps(), ',')) {
    EXPECT_THAT(std::string(broker), StartsWith("127.0.0.1:"));
  }
}

}  // namespace
}  // namespace sluice::outputs
