#include "server/pipeline/record_formatter.h"

#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace sluice::pipeline {
namespace {

using ::testing::HasSubstr;

// 2026-11-22T10:00:00.123456Z
const absl::Time kTime =
    absl::FromCivil(absl::CivilSecond(2026, 11, 22, 10, 0, 0), absl::UTCTimeZone()) +
    absl::Microseconds(123456);

v1::LogRecord Record(absl::string_view message, absl::string_view logger = "checkout.db") {
  v1::LogRecord record;
  record.set_time_unix_nano(static_cast<uint64_t>(absl::ToUnixNanos(kTime)));
  record.set_level(v1::LEVEL_INFO);
  record.set_logger(std::string(logger));
  record.set_message(std::string(message));
  return record;
}

v1::Field* AddField(v1::LogRecord& record, const std::string& key) {
  v1::Field* field = record.add_fields();
  field->set_key(key);
  return field;
}

class RecordFormatterTest : public ::testing::Test {
 protected:
  std::string Text(const v1::LogRecord& record, absl::Time received_at = absl::UnixEpoch()) {
    std::string out;
    formatter_.Append(outputs::kTextEncoding, record, received_at, &out);
    return out;
  }
  std::string Json(const v1::LogRecord& record, absl::Time received_at = absl::UnixEpoch()) {
    std::string out;
    formatter_.Append(outputs::kJsonEncoding, record, received_at, &out);
    return out;
  }

  PipelineConfig config_;
  FieldComposer composer_{config_};
  outputs::EncodingRegistry encodings_;
  RecordFormatter formatter_{composer_, encodings_};
};

// Parses one JSON line strictly (UTF-8 validated); fails the test when it is not valid.
rapidjson::Document ParseJsonLine(const std::string& line) {
  rapidjson::Document document;
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  document.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size() - 1);
  EXPECT_FALSE(document.HasParseError())
      << rapidjson::GetParseError_En(document.GetParseError()) << " in " << line;
  return document;
}

TEST_F(RecordFormatterTest, TextLineHasTimeLevelLoggerMessageAndFields) {
  v1::LogRecord record = Record("message");
  AddField(record, "key")->set_string_value("value");
  AddField(record, "key2")->set_string_value("quoted value");
  EXPECT_EQ(Text(record),
            "2026-11-22T10:00:00.123456Z INFO checkout.db: message key=value "
            "key2=\"quoted value\"\n");
}

TEST_F(RecordFormatterTest, TextQuotesValuesThatWouldBeAmbiguous) {
  v1::LogRecord record = Record("m", "");
  AddField(record, "empty")->set_string_value("");
  AddField(record, "eq")->set_string_value("a=b");
  AddField(record, "quote")->set_string_value("say \"hi\"");
  AddField(record, "slash")->set_string_value("c:\\temp");
  AddField(record, "tab")->set_string_value("a\tb");
  AddField(record, "utf8")->set_string_value("grüße");
  EXPECT_EQ(Text(record),
            "2026-11-22T10:00:00.123456Z INFO m empty=\"\" eq=\"a=b\" quote=\"say \\\"hi\\\"\" "
            "slash=\"c:\\\\temp\" tab=\"a\\tb\" utf8=grüße\n");
}

TEST_F(RecordFormatterTest, TextKeepsEachRecordOnOneLine) {
  v1::LogRecord record = Record("first\nsecond\r\x01", "a\nb");
  EXPECT_EQ(Text(record), "2026-11-22T10:00:00.123456Z INFO a\\nb: first\\nsecond\\r\\x01\n");
}

TEST_F(RecordFormatterTest, TextEscapesBytesThatAreNotUtf8) {
  v1::LogRecord record = Record("bad \xff\xc3 end");
  AddField(record, "v")->set_string_value("\xe2\x82");
  EXPECT_EQ(Text(record),
            "2026-11-22T10:00:00.123456Z INFO checkout.db: bad \\xff\\xc3 end v=\"\\xe2\\x82\"\n");
}

TEST_F(RecordFormatterTest, TextWritesTypedValues) {
  v1::LogRecord record = Record("m");
  AddField(record, "int")->set_int_value(-42);
  AddField(record, "double")->set_double_value(0.1);
  AddField(record, "nan")->set_double_value(std::numeric_limits<double>::quiet_NaN());
  AddField(record, "inf")->set_double_value(std::numeric_limits<double>::infinity());
  AddField(record, "ninf")->set_double_value(-std::numeric_limits<double>::infinity());
  AddField(record, "bool")->set_bool_value(true);
  AddField(record, "bytes")->set_bytes_value(std::string("\x00\x01\xfe", 3));
  AddField(record, "unset");
  EXPECT_EQ(Text(record),
            "2026-11-22T10:00:00.123456Z INFO checkout.db: m int=-42 double=0.1 nan=NaN "
            "inf=+Inf ninf=-Inf bool=true bytes=AAH+ unset=\"\"\n");
}

TEST_F(RecordFormatterTest, TextQuotesBase64WithPadding) {
  v1::LogRecord record = Record("m");
  AddField(record, "bytes")->set_bytes_value("\x01");
  EXPECT_THAT(Text(record), HasSubstr(" bytes=\"AQ==\"\n"));
}

TEST_F(RecordFormatterTest, TraceAndSpanIdsAreLowerCaseHex) {
  v1::LogRecord record = Record("m");
  record.set_trace_id(
      std::string("\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36", 16));
  record.set_span_id(std::string("\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8));
  EXPECT_EQ(Text(record),
            "2026-11-22T10:00:00.123456Z INFO checkout.db: m "
            "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7\n");
  rapidjson::Document json = ParseJsonLine(Json(record));
  EXPECT_STREQ(json["trace_id"].GetString(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_STREQ(json["span_id"].GetString(), "00f067aa0ba902b7");
}

TEST_F(RecordFormatterTest, ARecordWithoutTimeTakesTheReceiveTime) {
  v1::LogRecord record = Record("m");
  record.set_time_unix_nano(0);
  EXPECT_THAT(Text(record, kTime + absl::Seconds(1)),
              ::testing::StartsWith("2026-11-22T10:00:01.123456Z "));
}

TEST_F(RecordFormatterTest, TimesBeforeTheEpochRoundDown) {
  v1::LogRecord record = Record("m");
  record.set_time_unix_nano(0);
  EXPECT_THAT(Text(record, absl::UnixEpoch() - absl::Milliseconds(1500)),
              ::testing::StartsWith("1969-12-31T23:59:58.500000Z "));
}

TEST_F(RecordFormatterTest, TheCachedSecondFollowsTheRecords) {
  v1::LogRecord record = Record("m");
  EXPECT_THAT(Text(record), ::testing::StartsWith("2026-11-22T10:00:00.123456Z "));
  record.set_time_unix_nano(static_cast<uint64_t>(absl::ToUnixNanos(kTime + absl::Hours(24))));
  EXPECT_THAT(Text(record), ::testing::StartsWith("2026-11-23T10:00:00.123456Z "));
  record.set_time_unix_nano(static_cast<uint64_t>(absl::ToUnixNanos(kTime)) + 7000);
  EXPECT_THAT(Text(record), ::testing::StartsWith("2026-11-22T10:00:00.123463Z "));
}

TEST_F(RecordFormatterTest, AnUnspecifiedLevelIsInfo) {
  v1::LogRecord record = Record("m");
  record.set_level(v1::LEVEL_UNSPECIFIED);
  EXPECT_THAT(Text(record), HasSubstr("Z INFO checkout.db"));
  record.set_level(v1::LEVEL_FATAL);
  EXPECT_THAT(Text(record), HasSubstr("Z FATAL checkout.db"));
}

TEST_F(RecordFormatterTest, JsonLineHasTheRecordsKeysFirstThenTheComposedFields) {
  v1::LogRecord record = Record("hello");
  AddField(record, "user")->set_string_value("ada");
  EXPECT_EQ(Json(record),
            "{\"time\":\"2026-11-22T10:00:00.123456Z\",\"level\":\"INFO\",\"logger\":"
            "\"checkout.db\",\"message\":\"hello\",\"user\":\"ada\"}\n");
}

TEST_F(RecordFormatterTest, JsonLeavesAnEmptyLoggerOut) {
  EXPECT_EQ(
      Json(Record("hello", "")),
      "{\"time\":\"2026-11-22T10:00:00.123456Z\",\"level\":\"INFO\",\"message\":\"hello\"}\n");
}

TEST(RecordFormatterKeysTest, JsonUsesTheConfiguredKeysAndBaseFields) {
  PipelineConfig config;
  config.time_key = "ts";
  config.level_key = "severity";
  config.logger_key = "component";
  config.message_key = "msg";
  config.base_fields = {{"service", "checkout"}, {"user", "nobody"}};
  FieldComposer composer(config);
  outputs::EncodingRegistry encodings;
  RecordFormatter formatter(composer, encodings);
  v1::LogRecord record = Record("hi");
  AddField(record, "user")->set_string_value("ada");
  std::string out;
  formatter.Append(outputs::kJsonEncoding, record, absl::UnixEpoch(), &out);
  EXPECT_EQ(out,
            "{\"ts\":\"2026-11-22T10:00:00.123456Z\",\"severity\":\"INFO\",\"component\":"
            "\"checkout.db\",\"msg\":\"hi\",\"service\":\"checkout\",\"user\":\"ada\"}\n");
}

TEST_F(RecordFormatterTest, JsonWritesTypedValues) {
  v1::LogRecord record = Record("m");
  AddField(record, "int")->set_int_value(-42);
  AddField(record, "big")->set_int_value(std::numeric_limits<int64_t>::max());
  AddField(record, "double")->set_double_value(2.5);
  AddField(record, "bool")->set_bool_value(false);
  AddField(record, "bytes")->set_bytes_value(std::string("\x00\x01\xfe", 3));
  AddField(record, "unset");
  EXPECT_THAT(Json(record), HasSubstr(",\"int\":-42,\"big\":9223372036854775807,\"double\":2.5,"
                                      "\"bool\":false,\"bytes\":\"AAH+\",\"unset\":null}\n"));
}

TEST_F(RecordFormatterTest, JsonWritesNonFiniteDoublesAsStrings) {
  v1::LogRecord record = Record("m");
  AddField(record, "nan")->set_double_value(std::nan(""));
  AddField(record, "inf")->set_double_value(std::numeric_limits<double>::infinity());
  AddField(record, "ninf")->set_double_value(-std::numeric_limits<double>::infinity());
  const std::string line = Json(record);
  ParseJsonLine(line);
  EXPECT_THAT(line, HasSubstr(",\"nan\":\"NaN\",\"inf\":\"+Inf\",\"ninf\":\"-Inf\"}"));
}

TEST_F(RecordFormatterTest, JsonEscapesQuotesBackslashesAndControlCharacters) {
  const std::string message("say \"hi\"\\\n\t\x01\x00 end", 17);
  v1::LogRecord record = Record(message);
  rapidjson::Document json = ParseJsonLine(Json(record));
  EXPECT_EQ(std::string(json["message"].GetString(), json["message"].GetStringLength()), message);
}

// Found by tests/fuzz/native_request_fuzzer: RapidJSON 1.1.0's SSE2 scan of strings of 16
// bytes or more let the control bytes 0x1A-0x1F through unescaped, so the line was not JSON.
TEST_F(RecordFormatterTest, JsonEscapesEveryControlByteOfLongStrings) {
  std::string message = "sixteen bytes or more, then";
  for (char c = 0x18; c < 0x20; ++c) message += {c, 'x'};
  message += std::string(16, 'y') + "\x1d";
  v1::LogRecord record = Record(message);
  const std::string key = "key with \x1f and then sixteen bytes";
  AddField(record, key)->set_string_value(message);
  const std::string line = Json(record);
  rapidjson::Document json = ParseJsonLine(line);
  ASSERT_TRUE(json.IsObject()) << line;
  EXPECT_EQ(std::string(json["message"].GetString(), json["message"].GetStringLength()), message);
  ASSERT_TRUE(json.HasMember(key.c_str())) << line;
  EXPECT_EQ(std::string(json[key.c_str()].GetString(), json[key.c_str()].GetStringLength()),
            message);
  for (const char c : absl::string_view(line).substr(0, line.size() - 1)) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << line;
  }
}

TEST_F(RecordFormatterTest, JsonReplacesBytesThatAreNotUtf8) {
  v1::LogRecord record = Record("ok \xc3\xa9 bad \xff \xed\xa0\x80 cut \xe2\x82");
  AddField(record, "k\xfe")->set_string_value("\xc0\xaf");
  const std::string line = Json(record);
  rapidjson::Document json = ParseJsonLine(line);
  EXPECT_STREQ(json["message"].GetString(),
               "ok \xc3\xa9 bad \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd cut "
               "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_STREQ(json["k\xef\xbf\xbd"].GetString(), "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_F(RecordFormatterTest, AppendsToWhatTheStringHolds) {
  std::string out = "before\n";
  formatter_.Append(outputs::kJsonEncoding, Record("a"), absl::UnixEpoch(), &out);
  formatter_.Append(outputs::kTextEncoding, Record("b"), absl::UnixEpoch(), &out);
  EXPECT_THAT(out, ::testing::StartsWith("before\n{\"time\""));
  EXPECT_THAT(out, ::testing::EndsWith("INFO checkout.db: b\n"));
}

}  // namespace
}  // namespace sluice::pipeline
