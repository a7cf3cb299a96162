// End-to-end tests of the kafka output (server/outputs/kafka/) on a real sluiced, producing
// to librdkafka's mock cluster (tests/test_util/kafka_mock_cluster.h), which this test
// process runs on 127.0.0.1 and reads back with a consumer:
//
// - records logged with sluice::Client arrive on the topic exactly once each, as their JSON
//   line, keyed by a field, the records of one key on one partition;
// - with `ingest.ack_on: flushed`, an acknowledged record is already in the topic.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "sluice/client.h"
#include "tests/e2e/sluiced_process.h"
#include "tests/test_util/kafka_mock_cluster.h"

namespace sluice::e2e {
namespace {

using test_util::ConsumedMessage;
using test_util::KafkaMockCluster;

constexpr int kPartitions = 3;

std::string SluicedConfig(const KafkaMockCluster& kafka, absl::string_view ack_on) {
  return absl::StrCat("ingest: { ack_on: ", ack_on, R"( }
outputs:
  - { type: kafka, name: events, brokers: ")",
                      kafka.bootstraps(), R"(", topic: logs, key_from: order }
)");
}

ClientOptions Options(const std::string& target) {
  ClientOptions options;
  options.target = target;
  options.max_buffered_records = 1 << 20;
  return options;
}

// Logs "rec-<i>" with field order=<i % 10> for i in [0, count).
void LogRecords(Client& client, int count) {
  for (int i = 0; i < count; ++i) {
    client.Log(v1::LEVEL_INFO, "checkout", absl::StrCat("rec-", i), {{"order", i % 10}});
  }
}

// Checks that `messages` are exactly rec-0 .. rec-<count-1>, once each, keyed by their
// order, and that the records of one key share a partition.
void ExpectRecordsOnce(const std::vector<ConsumedMessage>& messages, int count) {
  std::map<int, int> seen;
  std::map<std::string, int32_t> partition_of_key;
  for (const ConsumedMessage& message : messages) {
    const size_t at = message.value.find("\"rec-");
    ASSERT_NE(at, std::string::npos) << message.value;
    const size_t end = message.value.find('"', at + 1);
    int index = -1;
    ASSERT_TRUE(absl::SimpleAtoi(message.value.substr(at + 5, end - at - 5), &index))
        << message.value;
    ++seen[index];
    EXPECT_TRUE(absl::StrContains(message.value, "\"checkout\"")) << message.value;
    EXPECT_TRUE(absl::StrContains(message.value, absl::StrCat("\"order\":", index % 10)))
        << message.value;
    EXPECT_FALSE(absl::StrContains(message.value, "\n"));
    ASSERT_TRUE(message.key.has_value());
    EXPECT_EQ(*message.key, absl::StrCat(index % 10));
    const auto [partition, added] = partition_of_key.try_emplace(*message.key, message.partition);
    EXPECT_EQ(partition->second, message.partition) << "key " << *message.key;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(count));
  for (const auto& [index, times] : seen) EXPECT_EQ(times, 1) << "rec-" << index;
}

TEST(KafkaOutputE2eTest, RecordsArriveOnTheTopicOnceEach) {
  KafkaMockCluster kafka;
  kafka.CreateTopic("logs", kPartitions);
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(SluicedConfig(kafka, "written"));
  ASSERT_TRUE(server.ok()) << server.status();

  constexpr int kCount = 2000;
  Client client(Options((*server)->ingest_target()));
  LogRecords(client, kCount);
  ASSERT_TRUE(client.Flush(absl::Now() + kAwaitTimeout).ok());
  const std::vector<ConsumedMessage> messages =
      kafka.Consume("logs", kPartitions, kCount, kAwaitTimeout);
  ASSERT_EQ(messages.size(), static_cast<size_t>(kCount)) << (*server)->Stderr();
  ASSERT_TRUE((*server)->Terminate().ok());
  EXPECT_EQ(*(*server)->WaitForExit(), 0) << (*server)->Stderr();
  EXPECT_EQ(kafka.MessageCount("logs", kPartitions), kCount);
  ExpectRecordsOnce(messages, kCount);
}

TEST(KafkaOutputE2eTest, AckOnFlushedComesAfterDelivery) {
  KafkaMockCluster kafka;
  kafka.CreateTopic("logs", kPartitions);
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(SluicedConfig(kafka, "flushed"));
  ASSERT_TRUE(server.ok()) << server.status();

  constexpr int kCount = 500;
  Client client(Options((*server)->ingest_target()));
  LogRecords(client, kCount);
  ASSERT_TRUE(client.Flush(absl::Now() + kAwaitTimeout).ok());
  // Acknowledged as flushed: every record is in the topic already, no waiting.
  EXPECT_EQ(kafka.MessageCount("logs", kPartitions), kCount);
  ExpectRecordsOnce(kafka.Consume("logs", kPartitions, kCount, kAwaitTimeout), kCount);
  ASSERT_TRUE((*server)->Terminate().ok());
  EXPECT_EQ(*(*server)->WaitForExit(), 0) << (*server)->Stderr();
}

}  // namespace
}  // namespace sluice::e2e
