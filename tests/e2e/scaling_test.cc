// Scaling out, end to end: three real sluiced replicas, each writing its own file, and one
// sluice::Client spreading its records over them with gRPC's round_robin policy and stream
// rotation (ClientOptions::batches_per_stream), as docs/SCALING.md describes. The records
// carry a unique `id` field; the union of the three files must hold every id the client
// logged. Duplicates are allowed (delivery is at-least-once) and counted. A replica is
// stopped mid-run with SIGTERM (it drains) and, with acks that wait for the flush, with
// SIGKILL (it does not); a draining replica is skipped through gRPC health checking.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "sluice/client.h"
#include "sluice/v1/admin.grpc.pb.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

constexpr int kReplicas = 3;

// Two workers per replica: three replicas and the client share the 2-core test machine.
constexpr char kReplicaConfig[] = R"(
scheduler:
  workers: 2
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 50ms }
)";

// Acks wait until the file output handed the records to the kernel; the output itself
// would hold them for an hour (or until 256 KiB gathered).
constexpr char kFlushedAckConfig[] = R"(
ingest:
  ack_on: flushed
scheduler:
  workers: 2
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 1h }
)";

constexpr char kActivePushBatchesStreams[] = R"(sluice_ingest_streams_active{rpc="PushBatches"})";

#define ASSERT_STARTED(server) ASSERT_TRUE((server).ok()) << (server).status()

// Three replicas, started one after the other.
class ScalingTest : public ::testing::Test {
 protected:
  virtual const char* ReplicaConfig() const { return kReplicaConfig; }

  void SetUp() override {
    for (int i = 0; i < kReplicas; ++i) {
      absl::StatusOr<std::unique_ptr<SluicedProcess>> replica =
          SluicedProcess::Start(ReplicaConfig());
      ASSERT_STARTED(replica);
      replicas_.push_back(std::move(*replica));
    }
  }

  // One gRPC target naming every replica, as a headless Service's DNS name would.
  std::string Target() const {
    std::vector<std::string> addresses;
    for (const auto& replica : replicas_) addresses.push_back(replica->ingest_target());
    return absl::StrCat("ipv4:", absl::StrJoin(addresses, ","));
  }

  ClientOptions RoundRobinOptions() const {
    ClientOptions options;
    options.target = Target();
    options.load_balancing_policy = "round_robin";
    options.max_batch_records = 100;
    // Batches are sealed only when full (or flushed), so the tests know how many there are.
    options.max_batch_delay = absl::Hours(1);
    // Never drop: every id logged must arrive.
    options.max_buffered_records = 1000000;
    return options;
  }

  // SIGTERM to replica `i`, once: a second signal would make it exit without draining.
  void Terminate(int i) {
    if (terminated_[i]) return;
    terminated_[i] = true;
    EXPECT_TRUE(replicas_[i]->Terminate().ok());
  }

  // Drains replica `i` through its AdminService: it closes intake and its health for
  // sluice.v1.LogService turns NOT_SERVING before the call returns.
  void Drain(int i) {
    auto admin = v1::AdminService::NewStub(
        grpc::CreateChannel(replicas_[i]->admin_target(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kAwaitTimeout));
    v1::DrainRequest request;
    request.set_timeout_ms(10000);
    v1::DrainResponse response;
    const grpc::Status status = admin->Drain(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // SIGKILL to replica `i`, which is then reaped; it is not stopped again.
  void Kill(int i) {
    terminated_[i] = true;
    killed_[i] = true;
    EXPECT_TRUE(replicas_[i]->Kill().ok());
    EXPECT_FALSE(replicas_[i]->WaitForExit().ok()) << "a signal ends it";
  }

  // The replica that holds the client's only open stream, or -1.
  int StreamHolder() const {
    int holder = -1;
    const bool found = Await([&] {
      int holders = 0;
      for (int i = 0; i < kReplicas; ++i) {
        absl::StatusOr<std::string> metrics = replicas_[i]->ScrapeMetrics();
        if (metrics.ok() && MetricValue(*metrics, kActivePushBatchesStreams) == 1) {
          holder = i;
          ++holders;
        }
      }
      return holders == 1;
    });
    return found ? holder : -1;
  }

  // The `id` of every record in replica `i`'s file; a line without one fails the test.
  std::vector<int64_t> Ids(int i) const {
    std::vector<int64_t> ids;
    for (const std::string& line : ReadLines(replicas_[i]->path("records.log"))) {
      rapidjson::Document record;
      record.Parse(line.data(), line.size());
      if (record.HasParseError() || !record.IsObject() || !record.HasMember("id") ||
          !record["id"].IsInt64()) {
        ADD_FAILURE() << "not a JSON record with an integer id: " << line;
        continue;
      }
      ids.push_back(record["id"].GetInt64());
    }
    return ids;
  }

  // Stops every replica still running, then checks that the union of their files holds
  // each id in [0, logged); returns how many records each replica wrote.
  std::vector<size_t> StopAllAndCheckEveryIdArrived(int64_t logged) {
    // All at once: each takes a moment to exit after draining.
    for (int i = 0; i < kReplicas; ++i) Terminate(i);
    for (int i = 0; i < kReplicas; ++i) {
      if (killed_[i]) continue;
      const auto& replica = replicas_[i];
      const absl::StatusOr<int> exit_code = replica->WaitForExit();
      EXPECT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << replica->Stderr();
      if (exit_code.ok()) {
        EXPECT_EQ(*exit_code, 0) << replica->Stderr();
      }
    }
    absl::flat_hash_map<int64_t, int> seen;
    std::vector<size_t> shares;
    for (int i = 0; i < kReplicas; ++i) {
      const std::vector<int64_t> ids = Ids(i);
      shares.push_back(ids.size());
      for (int64_t id : ids) ++seen[id];
    }
    size_t missing = 0;
    size_t duplicates = 0;
    for (int64_t id = 0; id < logged; ++id) {
      auto it = seen.find(id);
      if (it == seen.end()) {
        if (++missing <= 5) ADD_FAILURE() << "id " << id << " is in no replica's file";
        continue;
      }
      duplicates += static_cast<size_t>(it->second - 1);
    }
    EXPECT_EQ(missing, 0u) << "of " << logged << " ids";
    EXPECT_EQ(seen.size(), static_cast<size_t>(logged)) << "ids nobody logged were written";
    RecordProperty("duplicates", static_cast<int>(duplicates));
    std::printf("records per replica: %s; duplicates: %zu\n", absl::StrJoin(shares, ", ").c_str(),
                duplicates);
    return shares;
  }

  // One client logs ids [0, records), flushes and is closed; `stats` are its last counters.
  static void LogIdsAndFlush(const ClientOptions& options, int64_t records, ClientStats& stats) {
    Client client(options);
    LogIds(client, 0, records);
    const absl::Status flushed = client.Flush(absl::Now() + kAwaitTimeout);
    ASSERT_TRUE(flushed.ok()) << flushed;
    stats = client.stats();
  }

  static void LogIds(Client& client, int64_t first, int64_t end) {
    for (int64_t id = first; id < end; ++id) {
      client.Log(v1::LEVEL_INFO, "scale", absl::StrCat("record ", id), {{"id", id}});
    }
  }

  std::vector<std::unique_ptr<SluicedProcess>> replicas_;
  bool terminated_[kReplicas] = {};
  bool killed_[kReplicas] = {};
};

class FlushedAckScalingTest : public ScalingTest {
 protected:
  const char* ReplicaConfig() const override { return kFlushedAckConfig; }
};

TEST_F(ScalingTest, RoundRobinWithStreamRotationGivesEveryReplicaAShare) {
  constexpr int64_t kRecords = 30000;
  ClientOptions options = RoundRobinOptions();
  // 300 batches, 60 streams.
  options.batches_per_stream = 5;
  ClientStats stats;
  ASSERT_NO_FATAL_FAILURE(LogIdsAndFlush(options, kRecords, stats));
  EXPECT_EQ(stats.logged, static_cast<uint64_t>(kRecords));
  EXPECT_EQ(stats.dropped_buffer_full, 0u);
  EXPECT_EQ(stats.acked_records, static_cast<uint64_t>(kRecords));
  EXPECT_GE(stats.streams_opened, 60u);

  const std::vector<size_t> shares = StopAllAndCheckEveryIdArrived(kRecords);
  for (int i = 0; i < kReplicas; ++i) EXPECT_GT(shares[i], 0u) << "replica " << i;
}

TEST_F(ScalingTest, RoundRobinGivesADrainingReplicaNoStreams) {
  // Replica 0 still accepts connections, but refuses every call with UNAVAILABLE; only its
  // health status tells a client beforehand.
  Drain(0);
  constexpr int64_t kRecords = 30000;
  ClientOptions options = RoundRobinOptions();
  options.batches_per_stream = 5;
  ClientStats stats;
  ASSERT_NO_FATAL_FAILURE(LogIdsAndFlush(options, kRecords, stats));
  EXPECT_EQ(stats.stream_failures, 0u) << stats.last_stream_error;
  EXPECT_EQ(stats.acked_records, static_cast<uint64_t>(kRecords));
  EXPECT_GE(stats.streams_opened, 60u);

  const std::vector<size_t> shares = StopAllAndCheckEveryIdArrived(kRecords);
  EXPECT_EQ(shares[0], 0u) << "the draining replica wrote records";
  EXPECT_GT(shares[1], 0u);
  EXPECT_GT(shares[2], 0u);
}

TEST_F(ScalingTest, StoppingAReplicaMidRunLosesNoRecord) {
  ClientOptions options = RoundRobinOptions();
  // Long enough that the stream on the stopped replica cannot rotate away cleanly before
  // the replica stops (phase 2 below stays under it), so it must fail.
  options.batches_per_stream = 1000;
  Client client(options);

  // Phase 1: 50 batches, all acknowledged, on one stream, which stays open.
  constexpr int64_t kPhase1 = 5000;
  LogIds(client, 0, kPhase1);
  const absl::Status phase1 = client.Flush(absl::Now() + kAwaitTimeout);
  ASSERT_TRUE(phase1.ok()) << phase1;
  ASSERT_EQ(client.stats().stream_failures, 0u);
  ASSERT_EQ(client.stats().streams_opened, 1u);

  // The replica that holds the client's stream.
  const int victim = StreamHolder();
  ASSERT_GE(victim, 0) << "no single replica has the client's stream";

  // Phase 2: stop that replica while logging goes on, until the client has seen its stream
  // fail, staying under the 950 batches the stream still has room for. The client logs
  // faster than it sends, so its backlog keeps the stream busy while the replica drains: a
  // batch the replica reads after closing intake is not acked, and is resent. Whether any
  // batch is still unacked when the stream fails depends on timing (in about one run of
  // twenty the replica had acked all it read), so resends are reported, not asserted here;
  // ClientTest covers them deterministically.
  Terminate(victim);
  constexpr int64_t kPhase2Cap = kPhase1 + 94900;
  int64_t logged = kPhase1;
  while (logged < kPhase2Cap && client.stats().stream_failures == 0) {
    LogIds(client, logged, logged + 100);
    logged += 100;
  }
  ASSERT_TRUE(Await([&] { return client.stats().stream_failures > 0; }))
      << "the stopped replica's stream never failed";

  // Phase 3: logging goes on; round_robin sends it, and the resent batches, to the others.
  constexpr int64_t kPhase3 = 5000;
  LogIds(client, logged, logged + kPhase3);
  logged += kPhase3;
  const absl::Status flushed = client.Flush(absl::Now() + kAwaitTimeout);
  ASSERT_TRUE(flushed.ok()) << flushed;

  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.logged, static_cast<uint64_t>(logged));
  EXPECT_EQ(stats.dropped_buffer_full, 0u);
  EXPECT_EQ(stats.acked_records, static_cast<uint64_t>(logged));
  EXPECT_GE(stats.stream_failures, 1u);
  EXPECT_GE(stats.streams_opened, 2u);
  RecordProperty("resent_batches", static_cast<int>(stats.resent_batches));
  std::printf(
      "stopped replica %d after %lld records; stream failures: %llu (last: %s); resent "
      "batches: %llu\n",
      victim, static_cast<long long>(kPhase1),
      static_cast<unsigned long long>(stats.stream_failures),
      stats.last_stream_error.ToString().c_str(),
      static_cast<unsigned long long>(stats.resent_batches));

  const std::vector<size_t> shares = StopAllAndCheckEveryIdArrived(logged);
  EXPECT_GE(shares[victim], static_cast<size_t>(kPhase1)) << "the acked phase 1 is on disk";
}

TEST_F(FlushedAckScalingTest, AKilledReplicaLosesNothingItAcked) {
  ClientOptions options = RoundRobinOptions();
  options.batches_per_stream = 1000;  // one stream, which stays on the replica killed
  Client client(options);
  constexpr int64_t kAcked = 5000;
  LogIds(client, 0, kAcked);
  const absl::Status acked = client.Flush(absl::Now() + kAwaitTimeout);
  ASSERT_TRUE(acked.ok()) << acked;
  ASSERT_EQ(client.stats().streams_opened, 1u);
  const int victim = StreamHolder();
  ASSERT_GE(victim, 0) << "no single replica has the client's stream";

  Kill(victim);
  // No drain, no flush at exit: only what the acks waited for is in the file.
  absl::flat_hash_map<int64_t, int> on_victim;
  for (int64_t id : Ids(victim)) ++on_victim[id];
  size_t missing = 0;
  for (int64_t id = 0; id < kAcked; ++id) {
    if (!on_victim.contains(id) && ++missing <= 5) {
      ADD_FAILURE() << "acked id " << id << " is not in the killed replica's file";
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << kAcked << " acked ids";

  // The client's stream fails at its next batch; the rest goes to the live replicas.
  constexpr int64_t kAfterKill = 5000;
  LogIds(client, kAcked, kAcked + kAfterKill);
  const absl::Status flushed = client.Flush(absl::Now() + kAwaitTimeout);
  ASSERT_TRUE(flushed.ok()) << flushed;
  EXPECT_GE(client.stats().stream_failures, 1u);
  StopAllAndCheckEveryIdArrived(kAcked + kAfterKill);
}

// The aggregator tier: writes what it is sent.
constexpr char kAggregatorConfig[] = R"(
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 50ms }
)";

// The agent tier: forwards everything, and acks its clients once the aggregator acked.
constexpr char kAgentConfig[] = R"(
ingest:
  ack_on: flushed
outputs:
  - { type: forward, name: aggregator, target: "$AGGREGATOR", max_batch_records: 500 }
)";

TEST(TierTest, AnAgentForwardsEveryRecordWithItsFieldsToTheAggregator) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> aggregator =
      SluicedProcess::Start(kAggregatorConfig);
  ASSERT_STARTED(aggregator);
  absl::StatusOr<std::unique_ptr<SluicedProcess>> agent = SluicedProcess::Start(
      absl::StrReplaceAll(kAgentConfig, {{"$AGGREGATOR", (*aggregator)->ingest_target()}}));
  ASSERT_STARTED(agent);

  constexpr int64_t kRecords = 3000;
  ClientOptions options;
  options.target = (*agent)->ingest_target();
  {
    Client client(options);
    for (int64_t id = 0; id < kRecords; ++id) {
      client.Log(v1::LEVEL_WARN, "tier.app", absl::StrCat("record ", id),
                 {{"id", id}, {"user", "ann"}});
    }
    const absl::Status flushed = client.Flush(absl::Now() + kAwaitTimeout);
    ASSERT_TRUE(flushed.ok()) << flushed;
    EXPECT_EQ(client.stats().server_accepted, static_cast<uint64_t>(kRecords));
  }
  // Acked by the agent with ack_on: flushed, so the aggregator has acked them all.
  EXPECT_TRUE(
      (*aggregator)
          ->AwaitMetric(R"(sluice_ingest_records_received_total{rpc="PushBatches"})", kRecords));

  EXPECT_TRUE((*agent)->Terminate().ok());
  EXPECT_EQ((*agent)->WaitForExit().value_or(-1), 0) << (*agent)->Stderr();
  EXPECT_TRUE((*aggregator)->Terminate().ok());
  EXPECT_EQ((*aggregator)->WaitForExit().value_or(-1), 0) << (*aggregator)->Stderr();

  absl::flat_hash_map<int64_t, int> seen;
  for (const std::string& line : ReadLines((*aggregator)->path("records.log"))) {
    rapidjson::Document record;
    record.Parse(line.data(), line.size());
    ASSERT_FALSE(record.HasParseError()) << line;
    ASSERT_TRUE(record.HasMember("id") && record["id"].IsInt64()) << line;
    const int64_t id = record["id"].GetInt64();
    ++seen[id];
    EXPECT_EQ(std::string(record["logger"].GetString()), "tier.app") << line;
    EXPECT_EQ(std::string(record["level"].GetString()), "WARN") << line;
    EXPECT_EQ(std::string(record["message"].GetString()), absl::StrCat("record ", id)) << line;
    EXPECT_EQ(std::string(record["user"].GetString()), "ann") << line;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRecords));
  for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << "id " << id;
}

}  // namespace
}  // namespace sluice::e2e
