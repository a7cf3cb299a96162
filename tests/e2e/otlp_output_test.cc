// The otlp output end to end: OTLP in, OTLP out, through two real sluiced.
//
// - An exporter sends an ExportLogsServiceRequest to the first server, whose otlp output
//   exports to the second; both write JSON lines. The lines must be the same, field by
//   field: severity, body, attributes with their types, resource and scope (as fields),
//   time and trace ids survive the way out as they survived the way in.
// - An exporter sends to the first server, which forwards to the second, whose otlp output
//   exports to a receiver in this test. Every log record arrives as it was sent, in OTLP's
//   own terms: its resource and scope (schema URLs, the scope's version and attributes,
//   attributes outside the semantic conventions), severity numbers and texts that are not
//   Sluice's, bodies that are not strings, flags, observed and unset times.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "tests/e2e/sluiced_process.h"
#include "tests/outputs/otlp_receiver.h"

namespace sluice::e2e {
namespace {

using ::opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using ::opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse;
using ::opentelemetry::proto::collector::logs::v1::LogsService;
using ::opentelemetry::proto::common::v1::KeyValue;
using ::opentelemetry::proto::logs::v1::LogRecord;
using ::opentelemetry::proto::logs::v1::ResourceLogs;
using ::opentelemetry::proto::logs::v1::ScopeLogs;

// 2026-12-02T10:30:00Z
constexpr uint64_t kTime = 1796207400000000000;

KeyValue* AddString(google::protobuf::RepeatedPtrField<KeyValue>* to, const std::string& key,
                    const std::string& value) {
  KeyValue* attribute = to->Add();
  attribute->set_key(key);
  attribute->mutable_value()->set_string_value(value);
  return attribute;
}

void AddRecords(ResourceLogs* resource, const std::string& scope_name, int first, int count) {
  auto* scope = resource->add_scope_logs();
  scope->mutable_scope()->set_name(scope_name);
  for (int i = first; i < first + count; ++i) {
    LogRecord* log = scope->add_log_records();
    log->set_time_unix_nano(kTime + static_cast<uint64_t>(i) * 1000);
    log->set_severity_number(i % 3 == 0   ? opentelemetry::proto::logs::v1::SEVERITY_NUMBER_INFO
                             : i % 3 == 1 ? opentelemetry::proto::logs::v1::SEVERITY_NUMBER_WARN
                                          : opentelemetry::proto::logs::v1::SEVERITY_NUMBER_ERROR);
    log->mutable_body()->set_string_value(absl::StrCat("record ", i));
    AddString(log->mutable_attributes(), "user", absl::StrCat("u", i));
    KeyValue* count_attribute = log->add_attributes();
    count_attribute->set_key("count");
    count_attribute->mutable_value()->set_int_value(i);
    KeyValue* ratio = log->add_attributes();
    ratio->set_key("ratio");
    ratio->mutable_value()->set_double_value(i / 4.0);
    KeyValue* ok = log->add_attributes();
    ok->set_key("ok");
    ok->mutable_value()->set_bool_value(i % 2 == 0);
    log->set_trace_id(std::string(16, static_cast<char>(i + 1)));
    log->set_span_id(std::string(8, static_cast<char>(i + 2)));
  }
}

// Exports `request` to `target` and expects every record of it taken.
void ExportAll(const std::string& target, const ExportLogsServiceRequest& request) {
  auto stub = LogsService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  ExportLogsServiceResponse response;
  const grpc::Status status = stub->Export(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.partial_success().rejected_log_records(), 0);
}

std::vector<std::string> Sorted(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST(OtlpOutputTest, RecordsGoOutAsTheyCameInThroughTwoServers) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> second = SluicedProcess::Start(R"(
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 10ms }
)");
  ASSERT_TRUE(second.ok()) << second.status();
  absl::StatusOr<std::unique_ptr<SluicedProcess>> first =
      SluicedProcess::Start(absl::StrCat(R"(
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 10ms }
  - { type: otlp, name: next, endpoint: ")",
                                         (*second)->ingest_target(), R"(" }
)"));
  ASSERT_TRUE(first.ok()) << first.status();

  ExportLogsServiceRequest request;
  ResourceLogs* checkout = request.add_resource_logs();
  AddString(checkout->mutable_resource()->mutable_attributes(), "service.name", "checkout");
  AddString(checkout->mutable_resource()->mutable_attributes(), "host.name", "node-1");
  AddRecords(checkout, "checkout.db", 0, 6);
  AddRecords(checkout, "checkout.http", 6, 3);
  ResourceLogs* billing = request.add_resource_logs();
  AddString(billing->mutable_resource()->mutable_attributes(), "service.name", "billing");
  AddRecords(billing, "billing.api", 9, 5);
  constexpr size_t kRecords = 14;

  ASSERT_NO_FATAL_FAILURE(ExportAll((*first)->ingest_target(), request));

  std::vector<std::string> forwarded;
  ASSERT_TRUE(Await([&] {
    forwarded = ReadLines((*second)->path("records.log"));
    return forwarded.size() == kRecords;
  })) << forwarded.size();
  std::vector<std::string> local;
  ASSERT_TRUE(Await([&] {
    local = ReadLines((*first)->path("records.log"));
    return local.size() == kRecords;
  })) << local.size();
  EXPECT_EQ(Sorted(forwarded), Sorted(local));

  // Not two empty or equally wrong files: the lines say what the exporter sent.
  const auto line_of = [&](absl::string_view body) {
    for (const std::string& line : forwarded) {
      if (absl::StrContains(line, absl::StrCat("\"message\":\"", body, "\""))) return line;
    }
    return std::string();
  };
  const std::string seven = line_of("record 7");
  EXPECT_THAT(seven, ::testing::HasSubstr("\"level\":\"WARN\""));
  EXPECT_THAT(seven, ::testing::HasSubstr("\"logger\":\"checkout.http\""));
  EXPECT_THAT(seven,
              ::testing::HasSubstr("\"service.name\":\"checkout\",\"host.name\":\"node-1\""));
  EXPECT_THAT(seven,
              ::testing::HasSubstr("\"user\":\"u7\",\"count\":7,\"ratio\":1.75,\"ok\":false"));
  EXPECT_THAT(seven, ::testing::HasSubstr("\"trace_id\":\"08080808080808080808080808080808\""));
  EXPECT_THAT(line_of("record 11"), ::testing::HasSubstr("\"service.name\":\"billing\""));
  EXPECT_THAT(line_of("record 11"), ::testing::Not(::testing::HasSubstr("host.name")));

  for (auto* server : {first->get(), second->get()}) {
    ASSERT_TRUE(server->Terminate().ok());
    const absl::StatusOr<int> exit_code = server->WaitForExit();
    ASSERT_TRUE(exit_code.ok()) << exit_code.status();
    EXPECT_EQ(*exit_code, 0) << server->Stderr();
  }
}

// Each log record of `requests` with its resource and scope around it alone, as text.
std::vector<std::string> EachRecordInItsResourceAndScope(
    const std::vector<ExportLogsServiceRequest>& requests) {
  std::vector<std::string> records;
  for (const ExportLogsServiceRequest& request : requests) {
    for (const ResourceLogs& resource_logs : request.resource_logs()) {
      for (const ScopeLogs& scope_logs : resource_logs.scope_logs()) {
        for (const LogRecord& log : scope_logs.log_records()) {
          ResourceLogs alone = resource_logs;
          alone.clear_scope_logs();
          ScopeLogs* scope = alone.add_scope_logs();
          *scope = scope_logs;
          scope->clear_log_records();
          *scope->add_log_records() = log;
          records.push_back(alone.ShortDebugString());
        }
      }
    }
  }
  return Sorted(std::move(records));
}

ExportLogsServiceRequest AnExportOfEveryShape() {
  ExportLogsServiceRequest request;
  ResourceLogs* checkout = request.add_resource_logs();
  checkout->set_schema_url("https://opentelemetry.io/schemas/1.24.0");
  AddString(checkout->mutable_resource()->mutable_attributes(), "service.name", "checkout");
  AddString(checkout->mutable_resource()->mutable_attributes(), "region", "eu-west-1");
  ScopeLogs* db = checkout->add_scope_logs();
  db->set_schema_url("https://example.com/scope-schema");
  db->mutable_scope()->set_name("checkout.db");
  db->mutable_scope()->set_version("2.1.0");
  AddString(db->mutable_scope()->mutable_attributes(), "library.mode", "async");
  const int severities[] = {10, 14, 0, 23, 17};
  for (int i = 0; i < 5; ++i) {
    LogRecord* log = db->add_log_records();
    if (i != 2) log->set_time_unix_nano(kTime + static_cast<uint64_t>(i));
    log->set_observed_time_unix_nano(kTime + 1000 + static_cast<uint64_t>(i));
    log->set_severity_number(
        static_cast<opentelemetry::proto::logs::v1::SeverityNumber>(severities[i]));
    log->set_severity_text(i == 2 ? "warning" : absl::StrCat("sev", severities[i]));
    switch (i) {
      case 0:
        log->mutable_body()->set_string_value("a string body");
        break;
      case 1: {
        auto* entry = log->mutable_body()->mutable_kvlist_value()->add_values();
        entry->set_key("order");
        entry->mutable_value()->set_int_value(42);
        break;
      }
      case 2:
        log->mutable_body()->set_int_value(7);
        break;
      case 3:
        log->mutable_body()->mutable_array_value()->add_values()->set_bool_value(true);
        break;
      default:
        break;
    }
    log->set_flags(i % 2);
    AddString(log->mutable_attributes(), "host.name", "a record attribute");
    KeyValue* count = log->add_attributes();
    count->set_key("count");
    count->mutable_value()->set_int_value(i);
    log->set_trace_id(std::string(16, static_cast<char>(i + 1)));
    log->set_span_id(std::string(8, static_cast<char>(i + 2)));
  }
  ResourceLogs* bare = request.add_resource_logs();
  bare->mutable_resource();
  ScopeLogs* unnamed = bare->add_scope_logs();
  unnamed->mutable_scope();
  LogRecord* log = unnamed->add_log_records();
  log->set_time_unix_nano(kTime);
  log->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_INFO);
  log->mutable_body()->set_string_value("no resource, no scope");
  return request;
}

TEST(OtlpOutputTest, RecordsReachAnOtlpReceiverAsTheyWereSentThroughAForwardingTier) {
  std::unique_ptr<outputs::OtlpReceiver> receiver = outputs::OtlpReceiver::Listen();
  absl::StatusOr<std::unique_ptr<SluicedProcess>> second =
      SluicedProcess::Start(absl::StrCat(R"(
outputs:
  - { type: otlp, name: collector, endpoint: ")",
                                         receiver->target(), R"(" }
)"));
  ASSERT_TRUE(second.ok()) << second.status();
  absl::StatusOr<std::unique_ptr<SluicedProcess>> first =
      SluicedProcess::Start(absl::StrCat(R"(
outputs:
  - { type: forward, name: next, target: ")",
                                         (*second)->ingest_target(), R"(" }
)"));
  ASSERT_TRUE(first.ok()) << first.status();

  const ExportLogsServiceRequest request = AnExportOfEveryShape();
  ASSERT_NO_FATAL_FAILURE(ExportAll((*first)->ingest_target(), request));

  EXPECT_TRUE(Await([&] { return receiver->log_records() == 6; }))
      << receiver->log_records() << "\n"
      << (*first)->Stderr() << (*second)->Stderr();
  EXPECT_EQ(EachRecordInItsResourceAndScope(receiver->requests()),
            EachRecordInItsResourceAndScope({request}));

  for (auto* server : {first->get(), second->get()}) {
    ASSERT_TRUE(server->Terminate().ok());
    const absl::StatusOr<int> exit_code = server->WaitForExit();
    ASSERT_TRUE(exit_code.ok()) << exit_code.status();
    EXPECT_EQ(*exit_code, 0) << server->Stderr();
  }
}

}  // namespace
}  // namespace sluice::e2e
