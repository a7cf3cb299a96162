// Routes per output on a real sluiced: three file outputs, one by `loggers`, one by
// `level`, one by `match`, fed by one PushBatches stream. Each file holds exactly the
// records routed to it, the records no output takes are counted as unrouted (GetStats and
// the metric), the sender hears of every record as delivered, and the books balance. A
// pattern that does not compile stops start-up naming its key.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sluice/v1/admin.grpc.pb.h"
#include "sluice/v1/logs.grpc.pb.h"
#include "tests/e2e/admin_stats.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr absl::Duration kCallDeadline = absl::Seconds(60);

// Acks at `written`, and no buffering in the files, so that an ack means the lines are in
// the files. `archive` is absent on purpose: some records must go nowhere.
constexpr char kConfig[] = R"(
ingest: { ack_on: written }
levels: { default: info }
outputs:
  - { type: file, name: audit, path: "$DIR/audit.log", buffer_bytes: 0, loggers: [audit] }
  - { type: file, name: errors, path: "$DIR/errors.log", buffer_bytes: 0, level: error }
  - { type: file, name: checkout-db, path: "$DIR/db.log", buffer_bytes: 0,
      loggers: [checkout], match: { component: /^db/ } }
)";

v1::LogRecord Record(const std::string& logger, v1::Level level, const std::string& message,
                     const std::string& component = "") {
  v1::LogRecord record;
  record.set_logger(logger);
  record.set_level(level);
  record.set_message(message);
  if (!component.empty()) {
    v1::Field* field = record.add_fields();
    field->set_key("component");
    field->set_string_value(component);
  }
  return record;
}

// Sends the batches on one PushBatches stream and returns their acks.
absl::StatusOr<std::vector<v1::PushAck>> Push(const SluicedProcess& server,
                                              std::vector<v1::LogBatch> batches) {
  auto stub = v1::LogService::NewStub(
      grpc::CreateChannel(server.ingest_target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  auto stream = stub->PushBatches(&context);
  for (size_t i = 0; i < batches.size(); ++i) {
    batches[i].set_sequence(i + 1);
    if (!stream->Write(batches[i])) break;
  }
  stream->WritesDone();
  std::vector<v1::PushAck> acks;
  v1::PushAck ack;
  while (stream->Read(&ack)) acks.push_back(ack);
  const grpc::Status status = stream->Finish();
  if (!status.ok()) return absl::InternalError(status.error_message());
  return acks;
}

// The "message" of each JSON line of `path`.
std::vector<std::string> Messages(const std::string& path) {
  std::vector<std::string> messages;
  for (const std::string& line : ReadLines(path)) {
    const std::string key = "\"message\":\"";
    const size_t start = line.find(key);
    if (start == std::string::npos) {
      messages.push_back("<no message in " + line + ">");
      continue;
    }
    const size_t end = line.find('"', start + key.size());
    messages.push_back(line.substr(start + key.size(), end - start - key.size()));
  }
  return messages;
}

TEST(RoutesTest, EachFileGetsItsRecordsAndTheRestAreUnrouted) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kConfig);
  ASSERT_TRUE(server.ok()) << server.status();

  std::vector<v1::LogBatch> batches(2);
  *batches[0].add_records() = Record("audit.login", v1::LEVEL_INFO, "login ok");
  *batches[0].add_records() = Record("audit.login", v1::LEVEL_ERROR, "login refused");
  *batches[0].add_records() = Record("checkout", v1::LEVEL_INFO, "cart viewed");
  *batches[0].add_records() = Record("checkout", v1::LEVEL_ERROR, "payment failed");
  *batches[1].add_records() = Record("checkout.db", v1::LEVEL_INFO, "slow query", "db-primary");
  *batches[1].add_records() = Record("checkout.db", v1::LEVEL_ERROR, "db down", "db-primary");
  *batches[1].add_records() = Record("checkout.db", v1::LEVEL_INFO, "cache hit", "cache");
  *batches[1].add_records() = Record("payments", v1::LEVEL_INFO, "db noise", "db-replica");
  *batches[1].add_records() = Record("auditing", v1::LEVEL_INFO, "not audit");
  constexpr uint64_t kRecords = 9;
  constexpr uint64_t kUnrouted = 4;  // cart viewed, cache hit, db noise, not audit

  absl::StatusOr<std::vector<v1::PushAck>> acks = Push(**server, batches);
  ASSERT_TRUE(acks.ok()) << acks.status();
  ASSERT_EQ(acks->size(), 2u);
  uint32_t accepted = 0;
  for (const v1::PushAck& ack : *acks) {
    EXPECT_EQ(ack.stage(), v1::ACK_STAGE_WRITTEN) << ack.DebugString();
    EXPECT_EQ(ack.dropped(), 0u) << ack.DebugString();
    accepted += ack.accepted();
  }
  // Unrouted records are delivered: they went where the configuration sends them.
  EXPECT_EQ(accepted, kRecords);

  // The worker may still hold the last batch for a moment after its ack went out.
  absl::StatusOr<v1::GetStatsResponse> stats;
  EXPECT_TRUE(Await([&] {
    stats = GetStats(**server);
    return stats.ok() && stats->counts().in_flight() == 0;
  }));
  ASSERT_TRUE(stats.ok()) << stats.status();
  const v1::Counts& counts = stats->counts();
  SCOPED_TRACE(stats->DebugString());
  EXPECT_EQ(counts.received(), kRecords);
  EXPECT_EQ(counts.unrouted(), kUnrouted);
  EXPECT_EQ(counts.written(), kRecords - kUnrouted);
  EXPECT_EQ(counts.dropped(), 0u);
  EXPECT_EQ(counts.in_flight(), 0u);
  EXPECT_EQ(counts.received(), counts.filtered() + counts.rejected() + counts.dropped() +
                                   counts.dropped_by_hook() + counts.unrouted() + counts.written() +
                                   counts.in_flight());
  EXPECT_TRUE((*server)->AwaitMetric("sluice_pipeline_records_unrouted_total",
                                     static_cast<double>(kUnrouted)));

  ASSERT_TRUE((*server)->Terminate().ok());
  absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << (*server)->Stderr();

  EXPECT_EQ(CountLines((*server)->path("audit.log")), 2u);
  EXPECT_THAT(Messages((*server)->path("audit.log")),
              UnorderedElementsAre("login ok", "login refused"));
  EXPECT_EQ(CountLines((*server)->path("errors.log")), 3u);
  EXPECT_THAT(Messages((*server)->path("errors.log")),
              UnorderedElementsAre("login refused", "payment failed", "db down"));
  EXPECT_EQ(CountLines((*server)->path("db.log")), 2u);
  EXPECT_THAT(Messages((*server)->path("db.log")), UnorderedElementsAre("slow query", "db down"));
  EXPECT_THAT(ReadFile((*server)->path("db.log")), HasSubstr("\"component\":\"db-primary\""));
}

TEST(RoutesTest, APatternThatDoesNotCompileStopsStartUpNamingItsKey) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Spawn(R"(
outputs:
  - { type: file, path: "$DIR/a.log" }
  - { type: file, name: users, path: "$DIR/u.log", match: { user: "/(unclosed/" } }
)");
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_NE(*exit_code, 0);
  EXPECT_THAT((*server)->Stderr(),
              HasSubstr("outputs[1].match.user: bad regular expression /(unclosed/"));
}

}  // namespace
}  // namespace sluice::e2e
