// KafkaMockCluster: librdkafka's mock Kafka cluster (rdkafka_mock.h) in the test process,
// its brokers listening on 127.0.0.1 ports the kernel picks, and a consumer that reads a
// topic back. The kafka output's unit tests, the conformance suite (as ${KAFKA_BROKERS})
// and the kafka end-to-end test produce to it.
//
// The cluster runs on a thread of librdkafka's own; error injection (push_request_errors,
// broker_set_down) goes through cluster(). Header-only; link librdkafka. Thread-compatible.
#ifndef SLUICE_TESTS_TEST_UTIL_KAFKA_MOCK_CLUSTER_H_
#define SLUICE_TESTS_TEST_UTIL_KAFKA_MOCK_CLUSTER_H_

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sluice::test_util {

// One message read back.
struct ConsumedMessage {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::optional<std::string> key;
  std::string value;
};

class KafkaMockCluster {
 public:
  explicit KafkaMockCluster(int brokers = 1) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // The handle only hosts the cluster: it has no brokers of its own to complain about.
    rd_kafka_conf_set(conf, "log_level", "0", error, sizeof(error));
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
    cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  ~KafkaMockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(handle_);
  }
  KafkaMockCluster(const KafkaMockCluster&) = delete;
  KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;

  // "127.0.0.1:<port>,...": the bootstrap servers.
  const std::string& bootstraps() const { return bootstraps_; }
  rd_kafka_mock_cluster_t* cluster() { return cluster_; }

  void CreateTopic(const std::string& topic, int partitions) {
    rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  }

  // Reads `topic` (its `partitions`, from the beginning) until `count` messages came or
  // `timeout` passed, and returns what came, in offset order within each partition.
  std::vector<ConsumedMessage> Consume(const std::string& topic, int partitions, size_t count,
                                       absl::Duration timeout = absl::Seconds(30)) {
    rd_kafka_t* consumer = NewConsumer();
    rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
    for (int32_t partition = 0; partition < partitions; ++partition) {
      rd_kafka_topic_partition_list_add(assignment, topic.c_str(), partition)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(consumer, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);

    std::vector<ConsumedMessage> messages;
    const absl::Time deadline = absl::Now() + timeout;
    while (messages.size() < count && absl::Now() < deadline) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 100);
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ConsumedMessage consumed;
        consumed.topic = rd_kafka_topic_name(message->rkt);
        consumed.partition = message->partition;
        consumed.offset = message->offset;
        if (message->key != nullptr) {
          consumed.key = std::string(static_cast<const char*>(message->key), message->key_len);
        }
        consumed.value = std::string(static_cast<const char*>(message->payload), message->len);
        messages.push_back(std::move(consumed));
      }
      rd_kafka_message_destroy(message);
    }
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    return messages;
  }

  // How many messages `topic`'s `partitions` hold, from their watermarks: what Consume
  // cannot tell, that nothing more than it read is there. -1 when a query fails.
  int64_t MessageCount(const std::string& topic, int partitions) {
    rd_kafka_t* consumer = NewConsumer();
    int64_t total = 0;
    for (int32_t partition = 0; partition < partitions; ++partition) {
      int64_t low = 0;
      int64_t high = 0;
      if (rd_kafka_query_watermark_offsets(consumer, topic.c_str(), partition, &low, &high,
                                           10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        total = -1;
        break;
      }
      total += high - low;
    }
    rd_kafka_destroy(consumer);
    return total;
  }

 private:
  rd_kafka_t* NewConsumer() const {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), error, sizeof(error));
    rd_kafka_conf_set(conf, "group.id", "sluice-test", error, sizeof(error));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", error, sizeof(error));
    return rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
  }

  rd_kafka_t* handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstraps_;
};

}  // namespace sluice::test_util

#endif  // SLUICE_TESTS_TEST_UTIL_KAFKA_MOCK_CLUSTER_H_
