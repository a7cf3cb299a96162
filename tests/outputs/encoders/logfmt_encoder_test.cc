#include "server/outputs/encoders/logfmt_encoder.h"

#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::outputs {
namespace {

// 2026-11-22T10:00:00.123456Z
constexpr int64_t kTimeNanos = 1'795'341'600'123'456'000;

const RecordKeys kKeys{"time", "level", "logger", "msg"};

std::string Line(const ComposedRecord& record) {
  LogfmtEncoder encoder;
  std::string out;
  encoder.Append(record, &out);
  return out;
}

// The line of a record whose only field is `key` with the text `value`.
std::string LineWithField(absl::string_view key, absl::string_view value) {
  const std::vector<ComposedField> fields = {{.key = key, .text = value}};
  return Line(ComposedRecord{
      .time_unix_nanos = kTimeNanos, .message = "m", .keys = &kKeys, .fields = fields});
}

constexpr absl::string_view kPrefix = "time=2026-11-22T10:00:00.123456Z level=info msg=m ";

TEST(LogfmtEncoderTest, WritesTheRecordKeysThenTheFieldsInTheirOrder) {
  v1::Field typed;
  typed.set_key("ignored: the composed key wins");
  typed.set_int_value(7);
  const std::vector<ComposedField> fields = {
      {.key = "zeta", .text = "last?"},
      {.key = "attempt", .field = &typed, .layer = Layer::kAdHoc},
      {.key = "zeta", .text = "again"},
  };
  const ComposedRecord record{.time_unix_nanos = kTimeNanos,
                              .level = Level::kWarn,
                              .logger = "checkout.db",
                              .message = "slow query",
                              .keys = &kKeys,
                              .fields = fields};
  EXPECT_EQ(Line(record),
            "time=2026-11-22T10:00:00.123456Z level=warn logger=checkout.db msg=\"slow query\" "
            "zeta=last? attempt=7 zeta=again\n");
}

TEST(LogfmtEncoderTest, UsesTheConfiguredKeyNames) {
  const RecordKeys keys{"ts", "severity", "component", "message"};
  const ComposedRecord record{.time_unix_nanos = kTimeNanos,
                              .level = Level::kError,
                              .logger = "db",
                              .message = "down",
                              .keys = &keys};
  EXPECT_EQ(Line(record),
            "ts=2026-11-22T10:00:00.123456Z severity=error component=db message=down\n");
}

TEST(LogfmtEncoderTest, LeavesAnEmptyLoggerOutAndQuotesAnEmptyMessage) {
  const ComposedRecord record{.time_unix_nanos = kTimeNanos, .keys = &kKeys};
  EXPECT_EQ(Line(record), "time=2026-11-22T10:00:00.123456Z level=info msg=\"\"\n");
}

TEST(LogfmtEncoderTest, QuotesValuesWithSpacesQuotesEqualsOrBackslashes) {
  EXPECT_EQ(LineWithField("k", "a b"), std::string(kPrefix) + "k=\"a b\"\n");
  EXPECT_EQ(LineWithField("k", "say \"hi\""), std::string(kPrefix) + "k=\"say \\\"hi\\\"\"\n");
  EXPECT_EQ(LineWithField("k", "a=b"), std::string(kPrefix) + "k=\"a=b\"\n");
  EXPECT_EQ(LineWithField("k", "C:\\dir"), std::string(kPrefix) + "k=\"C:\\\\dir\"\n");
  EXPECT_EQ(LineWithField("k", ""), std::string(kPrefix) + "k=\"\"\n");
  EXPECT_EQ(LineWithField("k", "plain-value_1.2"), std::string(kPrefix) + "k=plain-value_1.2\n");
}

TEST(LogfmtEncoderTest, EscapesControlCharactersSoARecordStaysOnOneLine) {
  EXPECT_EQ(LineWithField("k", "two\nlines\r\tand\x01"),
            std::string(kPrefix) + "k=\"two\\nlines\\r\\tand\\u0001\"\n");
  const ComposedRecord record{
      .time_unix_nanos = kTimeNanos, .message = "first\nsecond", .keys = &kKeys};
  EXPECT_EQ(Line(record), "time=2026-11-22T10:00:00.123456Z level=info msg=\"first\\nsecond\"\n");
}

TEST(LogfmtEncoderTest, KeepsUtf8BareAndReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(LineWithField("k", "caf\xC3\xA9"), std::string(kPrefix) + "k=caf\xC3\xA9\n");
  EXPECT_EQ(LineWithField("k", "bad\xFF"), std::string(kPrefix) + "k=\"bad\xEF\xBF\xBD\"\n");
}

TEST(LogfmtEncoderTest, ReplacesWhatAKeyCannotHoldWithAnUnderscore) {
  EXPECT_EQ(LineWithField("a b=c\"d\n", "v"), std::string(kPrefix) + "a_b_c_d_=v\n");
  EXPECT_EQ(LineWithField("", "v"), std::string(kPrefix) + "_=v\n");
}

TEST(LogfmtEncoderTest, WritesTypedValues) {
  std::vector<v1::Field> typed(7);
  typed[0].set_int_value(-3);
  typed[1].set_double_value(0.1);
  typed[2].set_double_value(std::numeric_limits<double>::infinity());
  typed[3].set_bool_value(true);
  typed[4].set_bytes_value("\x01\x02");
  typed[5].set_string_value("x y");
  const std::vector<ComposedField> fields = {
      {.key = "i", .field = &typed[0]},     {.key = "d", .field = &typed[1]},
      {.key = "inf", .field = &typed[2]},   {.key = "b", .field = &typed[3]},
      {.key = "bytes", .field = &typed[4]}, {.key = "s", .field = &typed[5]},
      {.key = "none", .field = &typed[6]},
  };
  const ComposedRecord record{
      .time_unix_nanos = kTimeNanos, .message = "m", .keys = &kKeys, .fields = fields};
  EXPECT_EQ(Line(record),
            std::string(kPrefix) + "i=-3 d=0.1 inf=+Inf b=true bytes=\"AQI=\" s=\"x y\" none=\n");
}

TEST(LogfmtEncoderTest, WritesTheTraceContextAsHex) {
  const ComposedRecord record{.time_unix_nanos = kTimeNanos,
                              .message = "m",
                              .trace_id = "\x4b\xf9",
                              .span_id = absl::string_view("\x00\xf0", 2),
                              .keys = &kKeys};
  EXPECT_EQ(Line(record), std::string(kPrefix) + "trace_id=4bf9 span_id=00f0\n");
}

TEST(LogfmtEncoderTest, AppendsToWhatTheStringHolds) {
  LogfmtEncoder encoder;
  std::string out = "before\n";
  encoder.Append(ComposedRecord{.time_unix_nanos = kTimeNanos, .message = "a", .keys = &kKeys},
                 &out);
  EXPECT_EQ(out, "before\ntime=2026-11-22T10:00:00.123456Z level=info msg=a\n");
}

}  // namespace
}  // namespace sluice::outputs
