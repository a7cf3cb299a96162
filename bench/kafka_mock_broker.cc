// kafka_mock_broker: librdkafka's mock Kafka cluster (tests/test_util/kafka_mock_cluster.h)
// as a process of its own, the destination of the kafka output's row in the destinations
// benchmark (bench/destinations.py). No Kafka broker is packaged for Debian; the mock keeps
// messages in memory, so what it measures is sluiced's producer path, not a broker's disk.
//
//   kafka_mock_broker --topic logs --partitions 4
//       prints "bootstrap servers: 127.0.0.1:PORT" once the topic exists; each line "count"
//       on stdin is answered with the number of messages the topic's partitions were ever
//       given; exits at the end of stdin.
#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "tests/test_util/kafka_mock_cluster.h"

ABSL_FLAG(std::string, topic, "logs", "the topic to create and count");
ABSL_FLAG(int, partitions, 4, "its partitions");

namespace {

// The sum of the partitions' high watermarks, not of high - low as
// KafkaMockCluster::MessageCount has it: the mock cluster trims a partition's log as it
// grows (raising the low watermark), so what it still holds undercounts a run of millions
// of records, and a new topic starts at offset 0. -1 when a query fails.
int64_t Count(const std::string& bootstraps, const std::string& topic, int partitions) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), error, sizeof(error));
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
  int64_t appended = 0;
  for (int32_t partition = 0; partition < partitions; ++partition) {
    int64_t low = 0;
    int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(consumer, topic.c_str(), partition, &low, &high, 10000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      appended = -1;
      break;
    }
    appended += high;
  }
  rd_kafka_destroy(consumer);
  return appended;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string topic = absl::GetFlag(FLAGS_topic);
  const int partitions = absl::GetFlag(FLAGS_partitions);
  sluice::test_util::KafkaMockCluster kafka;
  kafka.CreateTopic(topic, partitions);
  std::cout << "bootstrap servers: " << kafka.bootstraps() << std::endl;
  for (std::string line; std::getline(std::cin, line);) {
    if (line == "count") std::cout << Count(kafka.bootstraps(), topic, partitions) << std::endl;
  }
  return 0;
}
