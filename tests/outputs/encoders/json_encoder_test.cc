#include "server/outputs/encoders/json_encoder.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

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

// Plain ASCII of every length around the eight-byte words and the 16-byte SIMD runs,
// next to the same text with a byte that needs escaping or is not ASCII at each position,
// as logger, message, key and value: every line parses back to the text, and is what
// RapidJSON's own writer makes of the same object (but for control bytes, which are
// escaped by hand in lower-case hex: see JsonEncoder::WriteString).
TEST(JsonEncoderTest, WritesEveryStringAsRapidJsonsWriterDoes) {
  std::vector<std::string> texts;
  for (size_t length = 1; length <= 40; ++length) {
    const std::string plain =
        std::string("The quick brown fox jumps over the lazy dog").substr(0, length);
    texts.push_back(plain);
    for (size_t at = 0; at < length; ++at) {
      for (const char* odd : {"\"", "\\", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\n", "/"}) {
        std::string text = plain;
        text.replace(at, 1, odd);
        texts.push_back(text);
      }
    }
  }
  JsonEncoder encoder;
  for (const std::string& text : texts) {
    const std::vector<ComposedField> fields = {{.key = text, .text = text}};
    const ComposedRecord record{
        .time_unix_nanos = 0, .logger = text, .message = text, .keys = &kKeys, .fields = fields};
    std::string line;
    encoder.Append(record, &line);

    rapidjson::Document parsed;
    parsed.Parse(line.data(), line.size() - 1);
    ASSERT_FALSE(parsed.HasParseError()) << line;
    ASSERT_TRUE(parsed.HasMember(text.c_str())) << line;
    EXPECT_EQ(parsed[text.c_str()].GetString(), text);
    EXPECT_EQ(parsed["component"].GetString(), text);
    EXPECT_EQ(parsed["msg"].GetString(), text);
    if (std::any_of(text.begin(), text.end(), [](char c) { return c > 0 && c < 0x20; })) {
      continue;
    }
    const auto size = static_cast<rapidjson::SizeType>(text.size());
    rapidjson::StringBuffer expected;
    rapidjson::Writer<rapidjson::StringBuffer> writer(expected);
    writer.StartObject();
    writer.Key("ts");
    writer.String("1970-01-01T00:00:00.000000Z");
    writer.Key("severity");
    writer.String("INFO");
    writer.Key("component");
    writer.String(text.data(), size);
    writer.Key("msg");
    writer.String(text.data(), size);
    writer.Key(text.data(), size);
    writer.String(text.data(), size);
    writer.EndObject();
    EXPECT_EQ(line, std::string(expected.GetString(), expected.GetSize()) + "\n")
        << absl::CHexEscape(text);
  }
}

}  // namespace
}  // namespace sluice::outputs
