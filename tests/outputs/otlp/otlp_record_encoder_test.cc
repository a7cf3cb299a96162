#include "server/outputs/otlp/otlp_record_encoder.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/logs/v1/logs.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"
#include "server/common/otlp_values.h"

namespace sluice::outputs {
namespace {

using ::opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using ::opentelemetry::proto::common::v1::AnyValue;
using ::opentelemetry::proto::common::v1::KeyValue;
using ::opentelemetry::proto::logs::v1::LogRecord;
using ::opentelemetry::proto::logs::v1::ResourceLogs;
using ::opentelemetry::proto::logs::v1::ScopeLogs;
using ::opentelemetry::proto::resource::v1::Resource;

constexpr RecordKeys kKeys = {
    .time = "time", .level = "level", .logger = "logger", .message = "message"};

const std::vector<std::string> kResourceKeys = {"service.", "host.name"};

struct Decoded {
  ResourceLogs resource_logs;
  ScopeLogs scope_logs;
  Resource resource;
  std::string scope_name;
  LogRecord log_record;
};

Decoded EncodeOne(const ComposedRecord& record) {
  OtlpRecordEncoder encoder(kResourceKeys, OtlpFraming::kFrames);
  std::string lines = "kept";
  encoder.Append(record, &lines);
  EXPECT_EQ(lines.substr(0, 4), "kept") << "what the lines held is left untouched";
  absl::string_view rest = absl::string_view(lines).substr(4);
  const std::optional<OtlpFrame> frame = NextOtlpFrame(&rest);
  EXPECT_TRUE(frame.has_value());
  EXPECT_TRUE(rest.empty());
  Decoded decoded;
  if (!frame.has_value()) return decoded;
  EXPECT_TRUE(decoded.resource_logs.ParseFromString(std::string(frame->resource_logs)));
  EXPECT_EQ(decoded.resource_logs.scope_logs_size(), 0);
  decoded.resource = decoded.resource_logs.resource();
  EXPECT_TRUE(decoded.scope_logs.ParseFromString(std::string(frame->scope_logs)));
  EXPECT_EQ(decoded.scope_logs.log_records_size(), 0);
  decoded.scope_name = decoded.scope_logs.scope().name();
  EXPECT_TRUE(decoded.log_record.ParseFromString(std::string(frame->log_record)));
  return decoded;
}

std::vector<std::string> Keys(const google::protobuf::RepeatedPtrField<KeyValue>& attributes) {
  std::vector<std::string> keys;
  for (const KeyValue& attribute : attributes) keys.push_back(attribute.key());
  return keys;
}

TEST(OtlpRecordEncoderTest, EncodesTheRecordItsResourceAndItsScope) {
  v1::Field service;
  service.set_key("service.name");
  service.set_string_value("checkout");
  v1::Field host;
  host.set_key("host.name");
  host.set_string_value("node-1");
  v1::Field user;
  user.set_key("user");
  user.set_string_value("ada");
  v1::Field count;
  count.set_key("count");
  count.set_int_value(-3);
  v1::Field ratio;
  ratio.set_key("ratio");
  ratio.set_double_value(0.5);
  v1::Field ok;
  ok.set_key("ok");
  ok.set_bool_value(true);
  v1::Field raw;
  raw.set_key("raw");
  raw.set_bytes_value(std::string("\x00\xff", 2));
  v1::Field empty;
  empty.set_key("empty");
  const std::vector<ComposedField> fields = {
      {.key = "region", .field = nullptr, .text = "eu-west-1", .layer = Layer::kBase},
      {.key = "service.name", .field = &service, .layer = Layer::kAdHoc},
      {.key = "host.name", .field = &host, .layer = Layer::kAdHoc},
      {.key = "user", .field = &user, .layer = Layer::kAdHoc},
      {.key = "count", .field = &count, .layer = Layer::kAdHoc},
      {.key = "ratio", .field = &ratio, .layer = Layer::kAdHoc},
      {.key = "ok", .field = &ok, .layer = Layer::kAdHoc},
      {.key = "raw", .field = &raw, .layer = Layer::kAdHoc},
      {.key = "empty", .field = &empty, .layer = Layer::kPostHook},
  };
  const std::string trace_id(16, '\x01');
  const std::string span_id(8, '\x02');
  const Decoded decoded = EncodeOne({.time_unix_nanos = 1796207400123456789,
                                     .level = Level::kWarn,
                                     .logger = "checkout.db",
                                     .message = "payment declined",
                                     .trace_id = trace_id,
                                     .span_id = span_id,
                                     .keys = &kKeys,
                                     .fields = fields});

  EXPECT_THAT(Keys(decoded.resource.attributes()),
              ::testing::ElementsAre("service.name", "host.name"));
  EXPECT_EQ(decoded.resource.attributes(0).value().string_value(), "checkout");
  EXPECT_EQ(decoded.scope_name, "checkout.db");
  const LogRecord& log = decoded.log_record;
  EXPECT_EQ(log.time_unix_nano(), 1796207400123456789u);
  EXPECT_EQ(log.severity_number(), opentelemetry::proto::logs::v1::SEVERITY_NUMBER_WARN);
  EXPECT_EQ(log.severity_text(), "WARN");
  EXPECT_EQ(log.body().string_value(), "payment declined");
  EXPECT_EQ(log.trace_id(), trace_id);
  EXPECT_EQ(log.span_id(), span_id);
  ASSERT_THAT(Keys(log.attributes()),
              ::testing::ElementsAre("region", "user", "count", "ratio", "ok", "raw", "empty"));
  EXPECT_EQ(log.attributes(0).value().string_value(), "eu-west-1");
  EXPECT_EQ(log.attributes(1).value().string_value(), "ada");
  EXPECT_EQ(log.attributes(2).value().int_value(), -3);
  EXPECT_EQ(log.attributes(3).value().double_value(), 0.5);
  EXPECT_TRUE(log.attributes(4).value().bool_value());
  EXPECT_EQ(log.attributes(5).value().bytes_value(), std::string("\x00\xff", 2));
  EXPECT_FALSE(log.attributes(6).has_value());
}

TEST(OtlpRecordEncoderTest, GivesEachLevelItsCanonicalSeverity) {
  const std::vector<std::pair<Level, int>> expected = {{Level::kTrace, 1},  {Level::kDebug, 5},
                                                       {Level::kInfo, 9},   {Level::kWarn, 13},
                                                       {Level::kError, 17}, {Level::kFatal, 21}};
  for (const auto& [level, number] : expected) {
    const Decoded decoded = EncodeOne({.level = level, .keys = &kKeys});
    EXPECT_EQ(decoded.log_record.severity_number(), number) << LevelName(level);
    EXPECT_EQ(decoded.log_record.severity_text(), LevelName(level));
  }
}

TEST(OtlpRecordEncoderTest, ARecordWithoutTraceOrLoggerLeavesThemEmpty) {
  const Decoded decoded = EncodeOne({.level = Level::kInfo, .message = "m", .keys = &kKeys});
  EXPECT_EQ(decoded.scope_name, "");
  EXPECT_TRUE(decoded.log_record.trace_id().empty());
  EXPECT_TRUE(decoded.log_record.span_id().empty());
  EXPECT_EQ(decoded.resource.attributes_size(), 0);
}

TEST(OtlpRecordEncoderTest, ReplacesBytesThatAreNotUtf8) {
  v1::Field field;
  field.set_key("note");
  field.set_string_value("a\xffz");
  const std::vector<ComposedField> fields = {{.key = "note", .field = &field}};
  const Decoded decoded = EncodeOne({.level = Level::kInfo,
                                     .logger = "l\xc3",
                                     .message = "m\x80",
                                     .keys = &kKeys,
                                     .fields = fields});
  EXPECT_EQ(decoded.log_record.body().string_value(), "m\xEF\xBF\xBD");
  EXPECT_EQ(decoded.scope_name, "l\xEF\xBF\xBD");
  EXPECT_EQ(decoded.log_record.attributes(0).value().string_value(), "a\xEF\xBF\xBDz");
}

TEST(OtlpRecordEncoderTest, FramesFollowEachOtherAndATornOneIsRefused) {
  OtlpRecordEncoder encoder(kResourceKeys, OtlpFraming::kFrames);
  std::string lines;
  encoder.Append({.level = Level::kInfo, .message = "one", .keys = &kKeys}, &lines);
  encoder.Append({.level = Level::kInfo, .message = "two", .keys = &kKeys}, &lines);
  absl::string_view rest = lines;
  ASSERT_TRUE(NextOtlpFrame(&rest).has_value());
  const size_t second = rest.size();
  absl::string_view torn = rest.substr(0, second - 1);
  EXPECT_FALSE(NextOtlpFrame(&torn).has_value());
  EXPECT_EQ(torn.size(), second - 1) << "a refused frame is left in place";
  ASSERT_TRUE(NextOtlpFrame(&rest).has_value());
  EXPECT_TRUE(rest.empty());
  EXPECT_FALSE(NextOtlpFrame(&rest).has_value());
}

// What OTLP ingest (server/ingest/otlp_mapping.h) keeps of an OTLP record that a Sluice
// record has no place for.
v1::OtlpOrigin Origin() {
  v1::OtlpOrigin origin;
  AppendLengthPrefixed("region", origin.mutable_resource_keys());
  AppendLengthPrefixed("library.mode", origin.mutable_scope_keys());
  origin.set_resource_schema_url("https://opentelemetry.io/schemas/1.24.0");
  origin.set_scope_version("2.1.0");
  origin.set_scope_schema_url("https://example.com/scope");
  origin.set_severity_number(10);
  origin.set_severity_text("Information");
  AnyValue body;
  auto* entry = body.mutable_kvlist_value()->add_values();
  entry->set_key("order");
  entry->mutable_value()->set_int_value(42);
  body.SerializeToString(origin.mutable_body());
  origin.set_flags(1);
  origin.set_observed_time_unix_nano(1796207400000000002);
  return origin;
}

TEST(OtlpRecordEncoderTest, ARecordFromOtlpGoesOutAsItCame) {
  v1::Field region;
  region.set_key("region");
  region.set_string_value("eu-west-1");
  v1::Field mode;
  mode.set_key("library.mode");
  mode.set_string_value("async");
  v1::Field host;
  host.set_key("host.name");
  host.set_string_value("a record attribute, whatever resource_keys say");
  v1::Field added;
  added.set_key("service.name");
  added.set_string_value("from a hook");
  const std::vector<ComposedField> fields = {
      {.key = "region", .field = &region, .layer = Layer::kAdHoc},
      {.key = "library.mode", .field = &mode, .layer = Layer::kAdHoc},
      {.key = "host.name", .field = &host, .layer = Layer::kAdHoc},
      {.key = "service.name", .field = &added, .layer = Layer::kPostHook},
  };
  const v1::OtlpOrigin origin = Origin();
  const Decoded decoded = EncodeOne({.time_unix_nanos = 1796207400000000001,
                                     .level = Level::kInfo,
                                     .logger = "checkout",
                                     .message = R"({"order":42})",
                                     .keys = &kKeys,
                                     .fields = fields,
                                     .otlp = &origin});

  EXPECT_THAT(Keys(decoded.resource.attributes()),
              ::testing::ElementsAre("region", "service.name"));
  EXPECT_EQ(decoded.resource_logs.schema_url(), "https://opentelemetry.io/schemas/1.24.0");
  EXPECT_EQ(decoded.scope_name, "checkout");
  EXPECT_EQ(decoded.scope_logs.scope().version(), "2.1.0");
  EXPECT_THAT(Keys(decoded.scope_logs.scope().attributes()),
              ::testing::ElementsAre("library.mode"));
  EXPECT_EQ(decoded.scope_logs.schema_url(), "https://example.com/scope");
  const LogRecord& log = decoded.log_record;
  EXPECT_THAT(Keys(log.attributes()), ::testing::ElementsAre("host.name"));
  EXPECT_EQ(log.severity_number(), 10);
  EXPECT_EQ(log.severity_text(), "Information");
  ASSERT_TRUE(log.body().has_kvlist_value());
  EXPECT_EQ(log.body().kvlist_value().values(0).key(), "order");
  EXPECT_EQ(log.body().kvlist_value().values(0).value().int_value(), 42);
  EXPECT_EQ(log.flags(), 1u);
  EXPECT_EQ(log.time_unix_nano(), 1796207400000000001u);
  EXPECT_EQ(log.observed_time_unix_nano(), 1796207400000000002u);
}

TEST(OtlpRecordEncoderTest, WhatAHookChangedWinsOverTheOtlpOrigin) {
  const v1::OtlpOrigin origin = Origin();
  const Decoded decoded =
      EncodeOne({.level = Level::kError, .message = "rewritten", .keys = &kKeys, .otlp = &origin});
  EXPECT_EQ(decoded.log_record.severity_number(), 17);
  EXPECT_EQ(decoded.log_record.severity_text(), "ERROR");
  EXPECT_EQ(decoded.log_record.body().string_value(), "rewritten");
}

TEST(OtlpRecordEncoderTest, AnUnsetTimeStaysUnsetAndTheReceiveTimeIsTheObservedOne) {
  v1::OtlpOrigin origin;
  origin.set_time_unset(true);
  const Decoded decoded = EncodeOne({.time_unix_nanos = 1796207400000000005,
                                     .level = Level::kInfo,
                                     .keys = &kKeys,
                                     .otlp = &origin});
  EXPECT_EQ(decoded.log_record.time_unix_nano(), 0u);
  EXPECT_EQ(decoded.log_record.observed_time_unix_nano(), 1796207400000000005u);
  EXPECT_EQ(decoded.log_record.severity_number(), 0) << "unspecified, as sent";
}

TEST(OtlpRecordEncoderTest, RequestFramingMakesEachRecordAWholeExportRequest) {
  OtlpRecordEncoder encoder(kResourceKeys, OtlpFraming::kRequests);
  v1::Field service;
  service.set_key("service.name");
  service.set_string_value("checkout");
  const std::vector<ComposedField> fields = {
      {.key = "service.name", .field = &service, .layer = Layer::kAdHoc}};
  std::string lines;
  encoder.Append(
      {.level = Level::kWarn, .logger = "db", .message = "one", .keys = &kKeys, .fields = fields},
      &lines);
  encoder.Append({.level = Level::kInfo, .message = "two", .keys = &kKeys}, &lines);
  absl::string_view rest = lines;
  const std::optional<absl::string_view> first = NextLengthPrefixed(&rest);
  ASSERT_TRUE(first.has_value());
  ExportLogsServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(std::string(*first)));
  ASSERT_EQ(request.resource_logs_size(), 1);
  const ResourceLogs& resource_logs = request.resource_logs(0);
  EXPECT_EQ(resource_logs.resource().attributes(0).value().string_value(), "checkout");
  ASSERT_EQ(resource_logs.scope_logs_size(), 1);
  EXPECT_EQ(resource_logs.scope_logs(0).scope().name(), "db");
  ASSERT_EQ(resource_logs.scope_logs(0).log_records_size(), 1);
  EXPECT_EQ(resource_logs.scope_logs(0).log_records(0).body().string_value(), "one");
  const std::optional<absl::string_view> second = NextLengthPrefixed(&rest);
  ASSERT_TRUE(second.has_value());
  ASSERT_TRUE(request.ParseFromString(std::string(*second)));
  EXPECT_EQ(request.resource_logs(0).scope_logs(0).log_records(0).body().string_value(), "two");
  EXPECT_TRUE(rest.empty());
}

TEST(OtlpRecordEncoderTest, ResourceKeysMatchExactlyOrByAPrefixEndingInADot) {
  EXPECT_TRUE(IsResourceKey("service.name", kResourceKeys));
  EXPECT_TRUE(IsResourceKey("host.name", kResourceKeys));
  EXPECT_FALSE(IsResourceKey("host.id", kResourceKeys));
  EXPECT_FALSE(IsResourceKey("service", kResourceKeys));
  EXPECT_FALSE(IsResourceKey("servicename", kResourceKeys));
}

}  // namespace
}  // namespace sluice::outputs
