// The pre-hooks and the override order of the field layers, end to end: records pushed
// to the real sluiced with gRPC metadata, read back from its JSON file output.
//
// The override order, later wins: pipeline.base_fields < pre-hook fields < ad-hoc fields
// < post-hook fields, then the record's own keys (time, level, logger, message). The main
// test sets the same key `layer` in every layer and takes the stronger layers away one at
// a time, so that each layer is seen winning; docs/CONFIG.md quotes its lines.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "sluice/v1/logs.grpc.pb.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

using ::testing::ElementsAre;

// 2026-11-28T10:00:00Z
constexpr uint64_t kRecordTime = 1795860000000000000;

void AddField(v1::LogRecord& record, const std::string& key, const std::string& value) {
  v1::Field* field = record.add_fields();
  field->set_key(key);
  field->set_string_value(value);
}

// Pushes `records` on one Push stream carrying `metadata` and expects `accepted` of them
// accepted, then stops the server, which flushes the file output; returns its lines.
std::vector<std::string> PushAndStop(
    SluicedProcess& server, const std::vector<std::pair<std::string, std::string>>& metadata,
    const std::vector<v1::LogRecord>& records, size_t accepted) {
  auto stub = v1::LogService::NewStub(
      grpc::CreateChannel(server.ingest_target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  v1::PushSummary summary;
  auto writer = stub->Push(&context, &summary);
  for (const v1::LogRecord& record : records) EXPECT_TRUE(writer->Write(record));
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(summary.accepted(), accepted);
  EXPECT_TRUE(server.Terminate().ok());
  absl::StatusOr<int> exit_code = server.WaitForExit();
  EXPECT_TRUE(exit_code.ok() && *exit_code == 0) << server.Stderr();
  return ReadLines(server.path("records.log"));
}

// Which layers set `layer` (and try to set `message`).
struct Layers {
  bool pre = false;
  bool adhoc = false;
  bool post = false;
};

// The one JSON line of a record pushed with `layers` set, each setting the key `layer` to
// its own name and the key `message` to a fake message.
std::string OverrideLine(Layers layers) {
  std::string config = R"(
pipeline:
  base_fields: { layer: base, env: dev, message: base-fake }
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json }
hooks:
)";
  if (layers.pre) {
    absl::StrAppend(&config,
                    "  pre:\n    - { type: metadata, name: layer, keys: { x-layer: layer, "
                    "x-message: message } }\n");
  }
  if (layers.post) {
    absl::StrAppend(&config,
                    "  post:\n    - { type: add_fields, name: layer, fields: { layer: post, "
                    "message: post-fake } }\n");
  }
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(config);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return "";
  v1::LogRecord record;
  record.set_time_unix_nano(kRecordTime);
  record.set_level(v1::LEVEL_INFO);
  record.set_logger("demo");
  record.set_message("the message");
  AddField(record, "app", "shop");
  if (layers.adhoc) {
    AddField(record, "layer", "ad-hoc");
    AddField(record, "message", "ad-hoc-fake");
  }
  std::vector<std::string> lines =
      PushAndStop(**server, {{"x-layer", "pre"}, {"x-message", "pre-fake"}}, {record}, 1);
  EXPECT_EQ(lines.size(), 1u);
  return lines.empty() ? "" : lines[0];
}

TEST(FieldLayersTest, BaseFieldsAloneSetTheKey) {
  EXPECT_EQ(OverrideLine({}),
            R"({"time":"2026-11-28T10:00:00.000000Z","level":"INFO","logger":"demo",)"
            R"("message":"the message","layer":"base","env":"dev","app":"shop"})");
}

TEST(FieldLayersTest, APreHookFieldOverridesTheBaseField) {
  EXPECT_EQ(OverrideLine({.pre = true}),
            R"({"time":"2026-11-28T10:00:00.000000Z","level":"INFO","logger":"demo",)"
            R"("message":"the message","env":"dev","layer":"pre","app":"shop"})");
}

TEST(FieldLayersTest, AnAdHocFieldOverridesThePreHookField) {
  EXPECT_EQ(OverrideLine({.pre = true, .adhoc = true}),
            R"({"time":"2026-11-28T10:00:00.000000Z","level":"INFO","logger":"demo",)"
            R"("message":"the message","env":"dev","app":"shop","layer":"ad-hoc"})");
}

TEST(FieldLayersTest, APostHookFieldOverridesTheAdHocField) {
  EXPECT_EQ(OverrideLine({.pre = true, .adhoc = true, .post = true}),
            R"({"time":"2026-11-28T10:00:00.000000Z","level":"INFO","logger":"demo",)"
            R"("message":"the message","env":"dev","app":"shop","layer":"post"})");
}

rapidjson::Document Parse(const std::string& line) {
  rapidjson::Document document;
  document.Parse(line.c_str());
  EXPECT_FALSE(document.HasParseError()) << line;
  EXPECT_TRUE(document.IsObject()) << line;
  return document;
}

TEST(FieldLayersTest, ReceiveTimePeerAndSequenceDescribeTheStream) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(R"(
scheduler: { workers: 4 }
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json }
hooks:
  pre:
    - { type: receive_time, name: at, format: unix_nanos }
    - { type: receive_time, name: text, key: received }
    - { type: peer }
    - { type: sequence }
)");
  ASSERT_TRUE(server.ok()) << server.status();
  std::vector<v1::LogRecord> records;
  for (int i = 0; i < 50; ++i) {
    v1::LogRecord record;
    record.set_level(i % 10 == 9 ? v1::LEVEL_DEBUG : v1::LEVEL_INFO);  // DEBUG is filtered
    record.set_logger("demo");
    record.set_message(absl::StrCat("m", i));
    records.push_back(std::move(record));
  }
  const absl::Time before = absl::Now();
  const std::vector<std::string> lines = PushAndStop(**server, {}, records, 45);
  const absl::Time after = absl::Now();

  ASSERT_EQ(lines.size(), 45u);
  std::vector<int64_t> sequences;
  for (const std::string& line : lines) {
    const rapidjson::Document record = Parse(line);
    ASSERT_TRUE(record.HasMember("sequence") && record["sequence"].IsInt64()) << line;
    sequences.push_back(record["sequence"].GetInt64());
    ASSERT_TRUE(record.HasMember("peer") && record["peer"].IsString()) << line;
    EXPECT_STREQ(record["peer"].GetString(), "127.0.0.1");
    ASSERT_TRUE(record.HasMember("received_at") && record["received_at"].IsInt64()) << line;
    const absl::Time at = absl::FromUnixNanos(record["received_at"].GetInt64());
    EXPECT_GE(at, before);
    EXPECT_LE(at, after);
    ASSERT_TRUE(record.HasMember("received") && record["received"].IsString()) << line;
    absl::Time parsed;
    std::string error;
    ASSERT_TRUE(
        absl::ParseTime(absl::RFC3339_full, record["received"].GetString(), &parsed, &error))
        << error;
    EXPECT_EQ(parsed, at);
  }
  // The admitted records of the stream, numbered 1..45 without a gap; workers may write
  // them in another order.
  std::sort(sequences.begin(), sequences.end());
  std::vector<int64_t> expected(45);
  for (int i = 0; i < 45; ++i) expected[i] = i + 1;
  EXPECT_EQ(sequences, expected);
}

}  // namespace
}  // namespace sluice::e2e
