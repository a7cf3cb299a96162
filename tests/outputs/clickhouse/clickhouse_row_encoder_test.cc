#include "server/outputs/clickhouse/clickhouse_row_encoder.h"

#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::outputs {
namespace {

// 2026-11-22T10:00:00.123456789Z
constexpr int64_t kTimeNanos = 1'795'341'600'123'456'789;

// The pipeline's key names; the rows use their column names instead.
const RecordKeys kKeys{"ts", "severity", "component", "msg"};

std::string Row(const ComposedRecord& record) {
  ClickHouseRowEncoder encoder;
  std::string out;
  encoder.Append(record, &out);
  return out;
}

TEST(ClickHouseRowEncoderTest, WritesOneRowOfTheDocumentedColumns) {
  const ComposedRecord record{.time_unix_nanos = kTimeNanos,
                              .level = Level::kWarn,
                              .logger = "checkout.db",
                              .message = "paid",
                              .trace_id = "\x4b\xf9",
                              .span_id = "\x0a",
                              .keys = &kKeys};
  EXPECT_EQ(Row(record),
            "{\"time\":1795341600,\"time_ns\":1795341600123456789,\"level\":\"WARN\","
            "\"logger\":\"checkout.db\",\"message\":\"paid\",\"trace_id\":\"4bf9\","
            "\"span_id\":\"0a\",\"fields.key\":[],\"fields.value\":[]}\n");
}

TEST(ClickHouseRowEncoderTest, PutsTheFieldsIntoTheNestedArraysAsStrings) {
  v1::Field text;
  text.set_string_value("ada");
  v1::Field integer;
  integer.set_int_value(-12);
  v1::Field real;
  real.set_double_value(2.5);
  v1::Field infinite;
  infinite.set_double_value(-INFINITY);
  v1::Field flag;
  flag.set_bool_value(true);
  v1::Field bytes;
  bytes.set_bytes_value("\x01\x02");
  v1::Field unset;
  const std::vector<ComposedField> fields = {
      {.key = "service", .text = "checkout"}, {.key = "user", .field = &text},
      {.key = "n", .field = &integer},        {.key = "ms", .field = &real},
      {.key = "low", .field = &infinite},     {.key = "ok", .field = &flag},
      {.key = "raw", .field = &bytes},        {.key = "gone", .field = &unset},
  };
  const ComposedRecord record{
      .time_unix_nanos = kTimeNanos, .message = "m", .keys = &kKeys, .fields = fields};
  EXPECT_EQ(Row(record),
            "{\"time\":1795341600,\"time_ns\":1795341600123456789,\"level\":\"INFO\","
            "\"logger\":\"\",\"message\":\"m\",\"trace_id\":\"\",\"span_id\":\"\","
            "\"fields.key\":[\"service\",\"user\",\"n\",\"ms\",\"low\",\"ok\",\"raw\",\"gone\"],"
            "\"fields.value\":[\"checkout\",\"ada\",\"-12\",\"2.5\",\"-Inf\",\"true\",\"AQI=\","
            "\"\"]}\n");
}

TEST(ClickHouseRowEncoderTest, EscapesControlCharactersAndRepairsBytesThatAreNotUtf8) {
  v1::Field value;
  value.set_string_value("a\"b\\c\x1f");
  const std::vector<ComposedField> fields = {{.key = "k\n", .field = &value}};
  const ComposedRecord record{.time_unix_nanos = kTimeNanos,
                              .logger = "l\xff",
                              .message = "line one\nline\ttwo \xc3\xa9",
                              .keys = &kKeys,
                              .fields = fields};
  EXPECT_EQ(Row(record),
            "{\"time\":1795341600,\"time_ns\":1795341600123456789,\"level\":\"INFO\","
            "\"logger\":\"l\xEF\xBF\xBD\",\"message\":\"line one\\nline\\ttwo \xc3\xa9\","
            "\"trace_id\":\"\",\"span_id\":\"\",\"fields.key\":[\"k\\n\"],"
            "\"fields.value\":[\"a\\\"b\\\\c\\u001f\"]}\n");
}

TEST(ClickHouseRowEncoderTest, ClampsTimesToWhatDateTimeAndUInt64Hold) {
  const ComposedRecord before_1970{.time_unix_nanos = -5, .message = "", .keys = &kKeys};
  const std::string zero = "{\"time\":0,\"time_ns\":0,\"level\"";
  EXPECT_EQ(Row(before_1970).substr(0, zero.size()), zero);
  // 2200-01-01T00:00:00Z, past DateTime's last second in 2106.
  const ComposedRecord after_2106{
      .time_unix_nanos = int64_t{7'258'118'400} * 1'000'000'000, .message = "", .keys = &kKeys};
  const std::string last = "{\"time\":4294967295,\"time_ns\":7258118400000000000,\"level\"";
  EXPECT_EQ(Row(after_2106).substr(0, last.size()), last);
}

TEST(ClickHouseRowEncoderTest, AppendsWithoutTouchingWhatTheOutputHeld) {
  ClickHouseRowEncoder encoder;
  std::string out = "before\n";
  const ComposedRecord record{.time_unix_nanos = 0, .message = "x", .keys = &kKeys};
  encoder.Append(record, &out);
  encoder.Append(record, &out);
  const std::string row =
      "{\"time\":0,\"time_ns\":0,\"level\":\"INFO\",\"logger\":\"\",\"message\":\"x\","
      "\"trace_id\":\"\",\"span_id\":\"\",\"fields.key\":[],\"fields.value\":[]}\n";
  EXPECT_EQ(out, "before\n" + row + row);
}

}  // namespace
}  // namespace sluice::outputs
