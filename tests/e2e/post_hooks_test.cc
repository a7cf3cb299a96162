// End-to-end tests of the post-hooks on the real sluiced: what reaches the file after
// `redact` and `sample`, and the books and metrics that account for what they took out.
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "sluice/v1/admin.grpc.pb.h"
#include "sluice/v1/logs.grpc.pb.h"
#include "tests/e2e/admin_stats.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kCallDeadline = absl::Seconds(90);

#define ASSERT_STARTED(server) ASSERT_TRUE((server).ok()) << (server).status()

void AddString(v1::LogRecord& record, const std::string& key, const std::string& value) {
  v1::Field* field = record.add_fields();
  field->set_key(key);
  field->set_string_value(value);
}

// Sends `batches` on one PushBatches stream, one at a time, each after the previous
// one's ack; returns the records the acks accepted.
uint64_t PushAll(const SluicedProcess& server, const std::vector<v1::LogBatch>& batches) {
  auto stub = v1::LogService::NewStub(
      grpc::CreateChannel(server.ingest_target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  auto stream = stub->PushBatches(&context);
  uint64_t accepted = 0;
  v1::PushAck ack;
  for (const v1::LogBatch& batch : batches) {
    if (!stream->Write(batch) || !stream->Read(&ack)) break;
    accepted += ack.accepted();
  }
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  return accepted;
}

// The JSON objects of the file's lines; a line that does not parse fails the test.
std::vector<rapidjson::Document> JsonLines(const std::string& path) {
  std::vector<rapidjson::Document> documents;
  for (const std::string& line : ReadLines(path)) {
    rapidjson::Document document;
    document.Parse(line.c_str());
    EXPECT_FALSE(document.HasParseError()) << line;
    EXPECT_TRUE(document.IsObject()) << line;
    documents.push_back(std::move(document));
  }
  return documents;
}

std::string StringMember(const rapidjson::Document& document, const char* name) {
  auto member = document.FindMember(name);
  if (member == document.MemberEnd() || !member->value.IsString()) return "";
  return member->value.GetString();
}

constexpr char kRedactConfig[] = R"(
hooks:
  post:
    - type: redact
      name: cards
      fields: [message, card, note]
      patterns: ['\d{4}-\d{4}-\d{4}-\d{4}']
    - type: redact
      name: tokens
      fields: [message, authorization]
      patterns: ['Bearer [A-Za-z0-9._~+/-]+=*']
      replacement: "Bearer [REDACTED]"
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 50ms }
)";

TEST(PostHooksE2eTest, RedactionLeavesNoSecretInTheFileAndEveryRecordInIt) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kRedactConfig);
  ASSERT_STARTED(server);
  constexpr int kBatches = 20;
  constexpr int kPerBatch = 50;
  std::vector<std::string> secrets;
  std::vector<v1::LogBatch> batches;
  for (int b = 0; b < kBatches; ++b) {
    v1::LogBatch& batch = batches.emplace_back();
    batch.set_sequence(static_cast<uint64_t>(b + 1));
    for (int i = 0; i < kPerBatch; ++i) {
      const int n = b * kPerBatch + i;
      const std::string card = absl::StrFormat("4111-2222-%04d-%04d", n / 10000, n % 10000);
      const std::string token = absl::StrCat("eyJhbGciOi.", n, ".c2lnbmF0dXJl");
      secrets.push_back(card);
      secrets.push_back(token);
      v1::LogRecord* record = batch.add_records();
      record->set_level(v1::LEVEL_INFO);
      record->set_logger("payments");
      record->set_message(
          absl::StrCat("record ", n, " charged card ", card, " with Bearer ", token, " ok"));
      AddString(*record, "card", card);
      AddString(*record, "authorization", absl::StrCat("Bearer ", token));
      // Not a field the hooks name: it keeps its digits.
      AddString(*record, "order", absl::StrFormat("1234-5678-9012-%04d", n));
    }
  }
  EXPECT_EQ(PushAll(**server, batches), static_cast<uint64_t>(kBatches * kPerBatch));
  ASSERT_TRUE((*server)->Terminate().ok());
  ASSERT_EQ(*(*server)->WaitForExit(), 0);

  const std::string file = ReadFile((*server)->path("records.log"));
  for (const std::string& secret : secrets) {
    ASSERT_THAT(file, Not(HasSubstr(secret)));
  }
  const std::vector<rapidjson::Document> lines = JsonLines((*server)->path("records.log"));
  ASSERT_EQ(lines.size(), static_cast<size_t>(kBatches * kPerBatch));
  std::set<std::string> orders;
  for (const rapidjson::Document& line : lines) {
    EXPECT_EQ(StringMember(line, "card"), "[REDACTED]");
    EXPECT_EQ(StringMember(line, "authorization"), "Bearer [REDACTED]");
    EXPECT_THAT(StringMember(line, "message"),
                ::testing::MatchesRegex(
                    "record [0-9]+ charged card \\[REDACTED\\] with Bearer \\[REDACTED\\] ok"));
    orders.insert(StringMember(line, "order"));
  }
  EXPECT_EQ(orders.size(), lines.size()) << "a field the hooks do not name is left alone";
  EXPECT_EQ(orders.count("1234-5678-9012-0007"), 1u);
}

constexpr char kSampleConfig[] = R"(
hooks:
  post:
    - { type: sample, name: traces, one_in: 4, level_at_most: info }
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 50ms }
)";

TEST(PostHooksE2eTest, ASampledTraceIsKeptWholeAndWarningsAreAlwaysKept) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kSampleConfig);
  ASSERT_STARTED(server);
  constexpr int kTraces = 64;
  constexpr int kInfoPerTrace = 10;
  // The records of each trace are spread over several batches, as they would be when
  // several services log one request: each batch has one record of every trace.
  std::vector<v1::LogBatch> batches(kInfoPerTrace + 1);
  for (int b = 0; b <= kInfoPerTrace; ++b) {
    batches[static_cast<size_t>(b)].set_sequence(static_cast<uint64_t>(b + 1));
    for (int t = 0; t < kTraces; ++t) {
      v1::LogRecord* record = batches[static_cast<size_t>(b)].add_records();
      record->set_trace_id(absl::StrFormat("trace-%010d", t));
      record->set_logger("checkout");
      // The last batch is one WARN record per trace.
      record->set_level(b == kInfoPerTrace ? v1::LEVEL_WARN : v1::LEVEL_INFO);
      record->set_message(absl::StrCat("trace ", t, " step ", b));
    }
  }
  ASSERT_EQ(batches[0].records(0).trace_id().size(), 16u);
  constexpr int kRecords = kTraces * (kInfoPerTrace + 1);
  EXPECT_EQ(PushAll(**server, batches), static_cast<uint64_t>(kRecords))
      << "sampled-out records are acknowledged: they went where the config sends them";

  absl::StatusOr<v1::Counts> counts;
  ASSERT_TRUE(Await([&] {
    absl::StatusOr<v1::GetStatsResponse> stats = GetStats(**server);
    counts = stats.ok() ? absl::StatusOr<v1::Counts>(stats->counts()) : stats.status();
    return counts.ok() && counts->in_flight() == 0 &&
           counts->written() + counts->dropped_by_hook() == kRecords;
  })) << (counts.ok() ? counts->DebugString() : counts.status().ToString());
  const absl::StatusOr<std::string> metrics = (*server)->ScrapeMetrics();
  ASSERT_TRUE((*server)->Terminate().ok());
  ASSERT_EQ(*(*server)->WaitForExit(), 0);

  // Per trace (hex, as the JSON output writes trace ids): INFO and WARN records written.
  std::map<std::string, std::pair<int, int>> by_trace;
  for (const rapidjson::Document& line : JsonLines((*server)->path("records.log"))) {
    auto& [infos, warnings] = by_trace[StringMember(line, "trace_id")];
    (StringMember(line, "level") == "WARN" ? warnings : infos) += 1;
  }
  ASSERT_EQ(by_trace.size(), static_cast<size_t>(kTraces)) << "every trace's WARN is kept";
  int kept_traces = 0;
  for (const auto& [trace, written] : by_trace) {
    EXPECT_EQ(written.second, 1) << trace;
    EXPECT_TRUE(written.first == 0 || written.first == kInfoPerTrace)
        << trace << " kept " << written.first << " of its " << kInfoPerTrace << " INFO records";
    if (written.first == kInfoPerTrace) ++kept_traces;
  }
  // One in four traces in expectation: 16 of 64; the bounds are over 5 sigma wide.
  EXPECT_GE(kept_traces, 4);
  EXPECT_LE(kept_traces, 32);
  const uint64_t dropped = static_cast<uint64_t>((kTraces - kept_traces) * kInfoPerTrace);
  EXPECT_EQ(counts->dropped_by_hook(), dropped);
  EXPECT_EQ(counts->written(), static_cast<uint64_t>(kRecords) - dropped);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(MetricValue(*metrics, R"(sluice_hook_records_dropped_total{hook="sample/traces"})"),
            static_cast<double>(dropped));
}

}  // namespace
}  // namespace sluice::e2e
