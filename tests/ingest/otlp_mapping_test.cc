#include "server/ingest/otlp_mapping.h"

#include <cmath>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sluice/level.h"

namespace sluice::ingest {
namespace {

namespace otlp_collector = opentelemetry::proto::collector::logs::v1;
namespace otlp_common = opentelemetry::proto::common::v1;
namespace otlp_logs = opentelemetry::proto::logs::v1;

otlp_common::AnyValue String(const std::string& text) {
  otlp_common::AnyValue value;
  value.set_string_value(text);
  return value;
}

otlp_common::AnyValue Int(int64_t number) {
  otlp_common::AnyValue value;
  value.set_int_value(number);
  return value;
}

void AddAttribute(google::protobuf::RepeatedPtrField<otlp_common::KeyValue>& attributes,
                  const std::string& key, const otlp_common::AnyValue& value) {
  otlp_common::KeyValue& attribute = *attributes.Add();
  attribute.set_key(key);
  *attribute.mutable_value() = value;
}

// A request with one resource and one scope; the test fills in the records.
class RequestBuilder {
 public:
  RequestBuilder() {
    resource_logs_ = request_.add_resource_logs();
    scope_logs_ = resource_logs_->add_scope_logs();
  }
  otlp_logs::ResourceLogs& resource_logs() { return *resource_logs_; }
  otlp_logs::ScopeLogs& scope_logs() { return *scope_logs_; }
  otlp_logs::LogRecord& AddRecord() { return *scope_logs_->add_log_records(); }

  RecordBatch::Records Map() const {
    RecordBatch::Records records;
    AppendOtlpRecords(request_, records);
    return records;
  }
  // The only record of the request, mapped.
  v1::LogRecord MapOne() const {
    RecordBatch::Records records = Map();
    EXPECT_EQ(records.size(), 1);
    return records.empty() ? v1::LogRecord() : records[0];
  }

 private:
  otlp_collector::ExportLogsServiceRequest request_;
  otlp_logs::ResourceLogs* resource_logs_;
  otlp_logs::ScopeLogs* scope_logs_;
};

TEST(OtlpMappingTest, SeverityNumbersMapFourToALevel) {
  const v1::Level expected[] = {v1::LEVEL_TRACE, v1::LEVEL_DEBUG, v1::LEVEL_INFO,
                                v1::LEVEL_WARN,  v1::LEVEL_ERROR, v1::LEVEL_FATAL};
  for (int number = 1; number <= 24; ++number) {
    EXPECT_EQ(OtlpSeverityToLevel(number, ""), expected[(number - 1) / 4]) << number;
  }
}

TEST(OtlpMappingTest, UnspecifiedSeverityIsInfo) {
  EXPECT_EQ(OtlpSeverityToLevel(0, ""), v1::LEVEL_INFO);
  EXPECT_EQ(OtlpSeverityToLevel(0, "loud"), v1::LEVEL_INFO);
}

TEST(OtlpMappingTest, UnspecifiedSeverityTakesTheLevelTheTextNames) {
  EXPECT_EQ(OtlpSeverityToLevel(0, "warning"), v1::LEVEL_WARN);
  EXPECT_EQ(OtlpSeverityToLevel(0, "ERROR"), v1::LEVEL_ERROR);
  EXPECT_EQ(OtlpSeverityToLevel(0, "debug"), v1::LEVEL_DEBUG);
}

TEST(OtlpMappingTest, ASetSeverityNumberWinsOverTheText) {
  EXPECT_EQ(OtlpSeverityToLevel(17, "info"), v1::LEVEL_ERROR);
}

TEST(OtlpMappingTest, OutOfRangeSeverityStaysAnInvalidLevel) {
  EXPECT_FALSE(LevelFromProto(OtlpSeverityToLevel(25, "")).ok());
  EXPECT_FALSE(LevelFromProto(OtlpSeverityToLevel(-1, "")).ok());
}

TEST(OtlpMappingTest, RecordCarriesLevelTimeLoggerAndIds) {
  RequestBuilder request;
  request.scope_logs().mutable_scope()->set_name("checkout.db");
  otlp_logs::LogRecord& record = request.AddRecord();
  record.set_severity_number(otlp_logs::SEVERITY_NUMBER_WARN2);
  record.set_time_unix_nano(1700000000123456789u);
  record.set_observed_time_unix_nano(1700000000999999999u);
  record.set_trace_id(std::string(16, '\x01'));
  record.set_span_id(std::string(8, '\x02'));
  *record.mutable_body() = String("slow query");

  const v1::LogRecord mapped = request.MapOne();
  EXPECT_EQ(mapped.level(), v1::LEVEL_WARN);
  EXPECT_EQ(mapped.time_unix_nano(), 1700000000123456789u);
  EXPECT_EQ(mapped.logger(), "checkout.db");
  EXPECT_EQ(mapped.message(), "slow query");
  EXPECT_EQ(mapped.trace_id(), std::string(16, '\x01'));
  EXPECT_EQ(mapped.span_id(), std::string(8, '\x02'));
}

TEST(OtlpMappingTest, ObservedTimeStandsInWhenTheEventTimeIsUnset) {
  RequestBuilder request;
  request.AddRecord().set_observed_time_unix_nano(42);
  EXPECT_EQ(request.MapOne().time_unix_nano(), 42u);
}

TEST(OtlpMappingTest, NoTimeAtAllIsLeftForAdmissionToStamp) {
  RequestBuilder request;
  request.AddRecord();
  EXPECT_EQ(request.MapOne().time_unix_nano(), 0u);
}

TEST(OtlpMappingTest, WithoutAScopeTheLoggerIsEmpty) {
  RequestBuilder request;
  request.AddRecord();
  EXPECT_EQ(request.MapOne().logger(), "");
}

TEST(OtlpMappingTest, WithoutABodyTheMessageIsEmpty) {
  RequestBuilder request;
  request.AddRecord();
  EXPECT_EQ(request.MapOne().message(), "");
}

TEST(OtlpMappingTest, StructuredBodyBecomesJson) {
  RequestBuilder request;
  otlp_common::AnyValue& body = *request.AddRecord().mutable_body();
  otlp_common::KeyValueList& kvlist = *body.mutable_kvlist_value();
  AddAttribute(*kvlist.mutable_values(), "user", String("ann \"a\""));
  AddAttribute(*kvlist.mutable_values(), "tries", Int(3));
  otlp_common::AnyValue list;
  list.mutable_array_value()->add_values()->set_bool_value(true);
  list.mutable_array_value()->add_values()->set_double_value(1.5);
  list.mutable_array_value()->add_values()->set_bytes_value("hi");
  list.mutable_array_value()->add_values();
  AddAttribute(*kvlist.mutable_values(), "list", list);

  EXPECT_EQ(request.MapOne().message(),
            R"({"user":"ann \"a\"","tries":3,"list":[true,1.5,"aGk=",null]})");
}

TEST(OtlpMappingTest, ScalarNonStringBodiesBecomeJsonToo) {
  otlp_common::AnyValue bytes;
  bytes.set_bytes_value("hi");
  EXPECT_EQ(OtlpValueToJson(bytes), "\"aGk=\"");
  EXPECT_EQ(OtlpValueToJson(Int(-7)), "-7");
  otlp_common::AnyValue infinite;
  infinite.set_double_value(INFINITY);
  EXPECT_EQ(OtlpValueToJson(infinite), "\"+Inf\"");
  otlp_common::AnyValue nan;
  nan.set_double_value(NAN);
  EXPECT_EQ(OtlpValueToJson(nan), "\"NaN\"");
  EXPECT_EQ(OtlpValueToJson(otlp_common::AnyValue()), "null");
}

TEST(OtlpMappingTest, AttributesKeepTheirTypes) {
  RequestBuilder request;
  otlp_logs::LogRecord& record = request.AddRecord();
  AddAttribute(*record.mutable_attributes(), "s", String("text"));
  AddAttribute(*record.mutable_attributes(), "i", Int(-3));
  otlp_common::AnyValue value;
  value.set_double_value(2.5);
  AddAttribute(*record.mutable_attributes(), "d", value);
  value.set_bool_value(true);
  AddAttribute(*record.mutable_attributes(), "b", value);
  value.set_bytes_value(std::string("\0\1", 2));
  AddAttribute(*record.mutable_attributes(), "raw", value);
  AddAttribute(*record.mutable_attributes(), "none", otlp_common::AnyValue());

  const v1::LogRecord mapped = request.MapOne();
  ASSERT_EQ(mapped.fields_size(), 6);
  EXPECT_EQ(mapped.fields(0).string_value(), "text");
  EXPECT_EQ(mapped.fields(1).int_value(), -3);
  EXPECT_EQ(mapped.fields(2).double_value(), 2.5);
  EXPECT_TRUE(mapped.fields(3).bool_value());
  EXPECT_EQ(mapped.fields(4).bytes_value(), std::string("\0\1", 2));
  EXPECT_EQ(mapped.fields(5).key(), "none");
  EXPECT_EQ(mapped.fields(5).value_case(), v1::Field::VALUE_NOT_SET);
}

TEST(OtlpMappingTest, ArrayAndKvlistAttributesBecomeJsonStrings) {
  RequestBuilder request;
  otlp_logs::LogRecord& record = request.AddRecord();
  otlp_common::AnyValue list;
  list.mutable_array_value()->add_values()->set_int_value(1);
  list.mutable_array_value()->add_values()->set_string_value("two");
  AddAttribute(*record.mutable_attributes(), "list", list);
  otlp_common::AnyValue map;
  AddAttribute(*map.mutable_kvlist_value()->mutable_values(), "k", String("v"));
  AddAttribute(*record.mutable_attributes(), "map", map);

  const v1::LogRecord mapped = request.MapOne();
  ASSERT_EQ(mapped.fields_size(), 2);
  EXPECT_EQ(mapped.fields(0).string_value(), R"([1,"two"])");
  EXPECT_EQ(mapped.fields(1).string_value(), R"({"k":"v"})");
}

TEST(OtlpMappingTest, RecordAttributesOverrideScopeOverrideResource) {
  RequestBuilder request;
  auto& resource = *request.resource_logs().mutable_resource()->mutable_attributes();
  AddAttribute(resource, "service.name", String("shop"));
  AddAttribute(resource, "who", String("resource"));
  AddAttribute(resource, "region", String("eu"));
  auto& scope = *request.scope_logs().mutable_scope()->mutable_attributes();
  AddAttribute(scope, "who", String("scope"));
  AddAttribute(scope, "region", String("us"));
  otlp_logs::LogRecord& record = request.AddRecord();
  AddAttribute(*record.mutable_attributes(), "who", Int(7));
  AddAttribute(*record.mutable_attributes(), "user", String("ann"));

  const v1::LogRecord mapped = request.MapOne();
  // Each key once, at its first position, with the value of the most specific source.
  ASSERT_EQ(mapped.fields_size(), 4);
  EXPECT_EQ(mapped.fields(0).key(), "service.name");
  EXPECT_EQ(mapped.fields(1).key(), "who");
  EXPECT_EQ(mapped.fields(1).int_value(), 7);
  EXPECT_EQ(mapped.fields(2).key(), "region");
  EXPECT_EQ(mapped.fields(2).string_value(), "us");
  EXPECT_EQ(mapped.fields(3).key(), "user");
}

TEST(OtlpMappingTest, TheOriginKeepsWhatTheFieldsCannotHold) {
  RequestBuilder request;
  request.resource_logs().set_schema_url("https://opentelemetry.io/schemas/1.24.0");
  auto& resource = *request.resource_logs().mutable_resource()->mutable_attributes();
  AddAttribute(resource, "service.name", String("shop"));
  AddAttribute(resource, "region", String("eu"));
  request.scope_logs().set_schema_url("https://example.com/scope");
  request.scope_logs().mutable_scope()->set_version("2.1.0");
  AddAttribute(*request.scope_logs().mutable_scope()->mutable_attributes(), "mode",
               String("async"));
  otlp_logs::LogRecord& record = request.AddRecord();
  record.set_observed_time_unix_nano(5);
  record.set_severity_number(otlp_logs::SEVERITY_NUMBER_INFO2);
  record.set_severity_text("Information");
  record.set_flags(1);
  otlp_logs::LogRecord& named = request.AddRecord();
  named.set_severity_number(otlp_logs::SEVERITY_NUMBER_WARN);
  named.set_severity_text("WARN");
  *record.mutable_body() = Int(42);
  AddAttribute(*record.mutable_attributes(), "user", String("ann"));

  const RecordBatch::Records records = request.Map();
  ASSERT_EQ(records.size(), 2);
  EXPECT_TRUE(records[1].otlp().severity_text_is_level_name());
  EXPECT_TRUE(records[1].otlp().severity_text().empty()) << "not stored twice";
  EXPECT_EQ(records[1].otlp().resource_keys(), records[0].otlp().resource_keys());
  const v1::LogRecord& mapped = records[0];
  ASSERT_TRUE(mapped.has_otlp());
  const v1::OtlpOrigin& origin = mapped.otlp();
  EXPECT_TRUE(HasOtlpKey(origin.resource_keys(), "service.name"));
  EXPECT_TRUE(HasOtlpKey(origin.resource_keys(), "region"));
  EXPECT_FALSE(HasOtlpKey(origin.resource_keys(), "mode"));
  EXPECT_TRUE(HasOtlpKey(origin.scope_keys(), "mode"));
  EXPECT_FALSE(HasOtlpKey(origin.scope_keys(), "user"));
  EXPECT_EQ(origin.resource_schema_url(), "https://opentelemetry.io/schemas/1.24.0");
  EXPECT_EQ(origin.scope_schema_url(), "https://example.com/scope");
  EXPECT_EQ(origin.scope_version(), "2.1.0");
  EXPECT_EQ(origin.severity_number(), 10);
  EXPECT_EQ(origin.severity_text(), "Information");
  EXPECT_EQ(origin.flags(), 1u);
  EXPECT_EQ(origin.observed_time_unix_nano(), 5u);
  EXPECT_TRUE(origin.time_unset());
  EXPECT_EQ(mapped.time_unix_nano(), 5u);
  otlp_common::AnyValue body;
  ASSERT_TRUE(body.ParseFromString(origin.body()));
  EXPECT_EQ(body.int_value(), 42);
  EXPECT_EQ(mapped.message(), "42");
}

TEST(OtlpMappingTest, AStringBodyIsTheMessageAloneAndAKeyOverriddenByTheRecordStaysTheResources) {
  RequestBuilder request;
  AddAttribute(*request.resource_logs().mutable_resource()->mutable_attributes(), "who",
               String("resource"));
  otlp_logs::LogRecord& record = request.AddRecord();
  record.set_time_unix_nano(9);
  *record.mutable_body() = String("hello");
  AddAttribute(*record.mutable_attributes(), "who", String("record"));

  const v1::LogRecord mapped = request.MapOne();
  EXPECT_EQ(mapped.message(), "hello");
  EXPECT_TRUE(mapped.otlp().body().empty());
  EXPECT_FALSE(mapped.otlp().time_unset());
  EXPECT_TRUE(HasOtlpKey(mapped.otlp().resource_keys(), "who"));
  EXPECT_TRUE(mapped.otlp().scope_keys().empty());
  EXPECT_TRUE(mapped.otlp().severity_text().empty());
  EXPECT_FALSE(mapped.otlp().severity_text_is_level_name());
}

TEST(OtlpMappingTest, LaterDuplicateAttributeOfARecordWins) {
  RequestBuilder request;
  otlp_logs::LogRecord& record = request.AddRecord();
  AddAttribute(*record.mutable_attributes(), "k", String("first"));
  AddAttribute(*record.mutable_attributes(), "k", String("second"));
  const v1::LogRecord mapped = request.MapOne();
  ASSERT_EQ(mapped.fields_size(), 1);
  EXPECT_EQ(mapped.fields(0).string_value(), "second");
}

TEST(OtlpMappingTest, AttributesWithAnEmptyKeyAreSkipped) {
  RequestBuilder request;
  AddAttribute(*request.AddRecord().mutable_attributes(), "", String("anonymous"));
  EXPECT_EQ(request.MapOne().fields_size(), 0);
}

TEST(OtlpMappingTest, EveryRecordOfEveryScopeAndResourceIsMappedInOrder) {
  otlp_collector::ExportLogsServiceRequest request;
  for (int r = 0; r < 2; ++r) {
    otlp_logs::ResourceLogs& resource_logs = *request.add_resource_logs();
    AddAttribute(*resource_logs.mutable_resource()->mutable_attributes(), "resource", Int(r));
    for (int s = 0; s < 2; ++s) {
      otlp_logs::ScopeLogs& scope_logs = *resource_logs.add_scope_logs();
      scope_logs.mutable_scope()->set_name("scope" + std::to_string(s));
      for (int i = 0; i < 2; ++i) {
        *scope_logs.add_log_records()->mutable_body() =
            String(std::to_string(r) + std::to_string(s) + std::to_string(i));
      }
    }
  }
  RecordBatch::Records records;
  AppendOtlpRecords(request, records);
  ASSERT_EQ(records.size(), 8);
  EXPECT_EQ(records[5].message(), "101");
  EXPECT_EQ(records[5].logger(), "scope0");
  ASSERT_EQ(records[5].fields_size(), 1);
  EXPECT_EQ(records[5].fields(0).int_value(), 1);
}

}  // namespace
}  // namespace sluice::ingest
