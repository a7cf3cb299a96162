#include "server/outputs/encoders/json_encoder.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::outputs {
namespace {

// 2026-11-22T10:00:00.123456Z
constexpr int64_t kTimeNanos = 1'795'341'600'123'456'000;

const RecordKeys kKeys{"ts", "severity", "component", "msg"};

std::string Line(const ComposedRecord& record) {
  JsonEncoder encoder;
  std::string out;
  encoder.Append(record, &out);
  return out;
}

TEST(JsonEncoderTest, NamesTheRecordsValuesWithTheKeysItIsHanded) {
  const ComposedRecord record{.time_unix_nanos = kTimeNanos,
                              .level = Level::kDebug,
                              .logger = "checkout.db",
                              .message = "hi",
                              .keys = &kKeys};
  EXPECT_EQ(Line(record),
            "{\"ts\":\"2026-11-22T10:00:00.123456Z\",\"severity\":\"DEBUG\",\"component\":"
            "\"checkout.db\",\"msg\":\"hi\"}\n");
}

TEST(JsonEncoderTest, WritesTheFieldsAsGivenTypedOrAsText) {
  v1::Field typed;
  typed.set_key("ignored: the composed key wins");
  typed.set_double_value(2.5);
  v1::Field unset;
  const std::vector<ComposedField> fields = {
      {.key = "service", .text = "checkout"},
      {.key = "latency", .field = &typed, .layer = Layer::kAdHoc},
      {.key = "gone", .field = &unset, .layer = Layer::kAdHoc},
  };
  const ComposedRecord record{
      .time_unix_nanos = kTimeNanos, .message = "", .keys = &kKeys, .fields = fields};
  EXPECT_EQ(Line(record),
            "{\"ts\":\"2026-11-22T10:00:00.123456Z\",\"severity\":\"INFO\",\"msg\":\"\","
            "\"service\":\"checkout\",\"latency\":2.5,\"gone\":null}\n");
}

TEST(JsonEncoderTest, WritesTheTraceContextAsHexUnderItsFixedKeys) {
  const ComposedRecord record{.time_unix_nanos = kTimeNanos,
                              .message = "m",
                              .trace_id = "\x4b\xf9",
                              .span_id = "\x0a",
                              .keys = &kKeys};
  EXPECT_EQ(Line(record),
            "{\"ts\":\"2026-11-22T10:00:00.123456Z\",\"severity\":\"INFO\",\"msg\":\"m\","
            "\"trace_id\":\"4bf9\",\"span_id\":\"0a\"}\n");
}

TEST(JsonEncoderTest, EachLineIsItsOwnObject) {
  JsonEncoder encoder;
  std::string out;
  encoder.Append(ComposedRecord{.time_unix_nanos = 0, .message = "a", .keys = &kKeys}, &out);
  encoder.Append(ComposedRecord{.time_unix_nanos = 0, .message = "b\x01", .keys = &kKeys}, &out);
  EXPECT_EQ(out,
            "{\"ts\":\"1970-01-01T00:00:00.000000Z\",\"severity\":\"INFO\",\"msg\":\"a\"}\n"
            "{\"ts\":\"1970-01-01T00:00:00.000000Z\",\"severity\":\"INFO\",\"msg\":\"b\\u0001\"}"
            "\n");
}

}  // namespace
}  // namespace sluice::outputs
