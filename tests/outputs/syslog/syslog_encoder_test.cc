#include "server/outputs/syslog/syslog_encoder.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/outputs/encoders/encoder_util.h"

namespace sluice::outputs {
namespace {

const RecordKeys kKeys{.time = "time", .level = "level", .logger = "logger", .message = "msg"};

int64_t TestTime() {
  return absl::ToUnixNanos(
      absl::FromCivil(absl::CivilSecond(2026, 11, 22, 10, 0, 0), absl::UTCTimeZone()) +
      absl::Microseconds(123456));
}

ComposedRecord Record(Level level, absl::string_view logger, absl::string_view message,
                      absl::Span<const ComposedField> fields = {}) {
  return ComposedRecord{.time_unix_nanos = TestTime(),
                        .level = level,
                        .logger = logger,
                        .message = message,
                        .keys = &kKeys,
                        .fields = fields};
}

std::shared_ptr<SyslogFormat> Format() {
  auto format = std::make_shared<SyslogFormat>();
  format->hostname = "web-1";
  return format;
}

// The SYSLOG-MSG of `record`'s frame; fails the test if the frame is not one whole frame.
std::string Encode(std::shared_ptr<const SyslogFormat> format, const ComposedRecord& record) {
  SyslogEncoder encoder(std::move(format));
  std::string out = "kept|";
  encoder.Append(record, &out);
  absl::string_view frames = out;
  EXPECT_TRUE(absl::ConsumePrefix(&frames, "kept|")) << "what was there is gone";
  absl::string_view message;
  EXPECT_TRUE(NextSyslogFrame(&frames, &message)) << out;
  EXPECT_TRUE(frames.empty()) << "more than one frame: " << out;
  return std::string(message);
}

TEST(SyslogEncoderTest, WritesHeaderFieldsAndMessage) {
  v1::Field note;
  note.set_key("note");
  note.set_string_value("a \"quoted\\ value]");
  const std::vector<ComposedField> fields = {
      {.key = "order", .text = "42"},
      {.key = "note", .field = &note, .layer = Layer::kAdHoc},
  };
  EXPECT_EQ(Encode(Format(), Record(Level::kInfo, "checkout.db", "payment accepted", fields)),
            "<134>1 2026-11-22T10:00:00.123456Z web-1 sluiced - checkout.db "
            "[fields@32473 order=\"42\" note=\"a \\\"quoted\\\\ value\\]\"] payment accepted");
}

TEST(SyslogEncoderTest, FramesByOctetCounting) {
  SyslogEncoder encoder(Format());
  std::string out;
  encoder.Append(Record(Level::kInfo, "a", "one"), &out);
  encoder.Append(Record(Level::kInfo, "a", "two\nlines"), &out);
  const std::string first = "<134>1 2026-11-22T10:00:00.123456Z web-1 sluiced - a - one";
  const std::string second = "<134>1 2026-11-22T10:00:00.123456Z web-1 sluiced - a - two\nlines";
  EXPECT_EQ(out, absl::StrCat("58 ", first, "64 ", second));
  absl::string_view frames = out;
  absl::string_view message;
  ASSERT_TRUE(NextSyslogFrame(&frames, &message));
  EXPECT_EQ(message, first);
  ASSERT_TRUE(NextSyslogFrame(&frames, &message));
  EXPECT_EQ(message, second);
  EXPECT_TRUE(frames.empty());
  EXPECT_FALSE(NextSyslogFrame(&frames, &message));
}

TEST(SyslogEncoderTest, IncompleteFramesAreNotSplit) {
  absl::string_view message;
  for (absl::string_view bad : {"", "12", "5 abcd", " 3 abc", "x abc"}) {
    absl::string_view frames = bad;
    EXPECT_FALSE(NextSyslogFrame(&frames, &message)) << bad;
    EXPECT_EQ(frames, bad);
  }
}

TEST(SyslogEncoderTest, NilValuesForWhatTheRecordLacks) {
  EXPECT_EQ(Encode(Format(), Record(Level::kError, "", "")),
            "<131>1 2026-11-22T10:00:00.123456Z web-1 sluiced - - -");
}

TEST(SyslogEncoderTest, LevelsMapToSeverities) {
  EXPECT_EQ(SyslogSeverity(Level::kTrace), 7);
  EXPECT_EQ(SyslogSeverity(Level::kDebug), 7);
  EXPECT_EQ(SyslogSeverity(Level::kInfo), 6);
  EXPECT_EQ(SyslogSeverity(Level::kWarn), 4);
  EXPECT_EQ(SyslogSeverity(Level::kError), 3);
  EXPECT_EQ(SyslogSeverity(Level::kFatal), 2);
  auto user = Format();
  user->facility = 1;
  EXPECT_TRUE(absl::StartsWith(Encode(user, Record(Level::kFatal, "", "")), "<10>1 "));
  EXPECT_TRUE(absl::StartsWith(Encode(user, Record(Level::kTrace, "", "")), "<15>1 "));
  EXPECT_TRUE(absl::StartsWith(Encode(user, Record(Level::kWarn, "", "")), "<12>1 "));
}

TEST(SyslogEncoderTest, SanitizesMsgidAndParamNames) {
  const std::vector<ComposedField> fields = {
      {.key = "a=b c]d\"e\xC3\xA9", .text = "1"},
      {.key = "", .text = "empty keys are left out"},
      {.key = "k0123456789012345678901234567890123456789", .text = "2"},
  };
  EXPECT_EQ(Encode(Format(), Record(Level::kInfo, "my logger/\xC3\xBC-0123456789012345678901234",
                                    "m", fields)),
            "<134>1 2026-11-22T10:00:00.123456Z web-1 sluiced - my_logger/__-0123456789012345678 "
            "[fields@32473 a_b_c_d_e__=\"1\" k0123456789012345678901234567890=\"2\"] m");
}

TEST(SyslogEncoderTest, SpellsTypedValuesAndTraceContext) {
  std::vector<v1::Field> values(6);
  values[0].set_int_value(-42);
  values[1].set_double_value(1.5);
  values[2].set_bool_value(true);
  values[3].set_bytes_value("\x01\x02");
  values[4].set_double_value(std::nan(""));
  values[5].set_string_value("bad \xFF byte");
  const std::vector<ComposedField> fields = {
      {.key = "i", .field = &values[0]}, {.key = "d", .field = &values[1]},
      {.key = "b", .field = &values[2]}, {.key = "y", .field = &values[3]},
      {.key = "n", .field = &values[4]}, {.key = "s", .field = &values[5]},
  };
  ComposedRecord record = Record(Level::kDebug, "l", "", fields);
  record.trace_id = "\x4b\xf9";
  record.span_id = absl::string_view("\x00\x01", 2);
  EXPECT_EQ(Encode(Format(), record),
            "<135>1 2026-11-22T10:00:00.123456Z web-1 sluiced - l [fields@32473 "
            "trace_id=\"4bf9\" span_id=\"0001\" i=\"-42\" d=\"1.5\" b=\"true\" y=\"AQI=\" "
            "n=\"NaN\" s=\"bad \xEF\xBF\xBD byte\"]");
}

TEST(SyslogEncoderTest, CutsLongMessagesAtUtf8BoundariesAndCountsThem) {
  auto format = Format();
  int truncated = 0;
  format->max_message_bytes = 480;
  format->on_truncated = [&truncated] { ++truncated; };
  const std::string header = "<134>1 2026-11-22T10:00:00.123456Z web-1 sluiced - a - ";

  EXPECT_EQ(Encode(format, Record(Level::kInfo, "a", std::string(1000, 'x'))),
            header + std::string(480 - header.size(), 'x'));
  EXPECT_EQ(truncated, 1);

  // Two-byte characters: the cut falls inside one when the room left is odd.
  std::string accents;
  for (int i = 0; i < 400; ++i) accents += "\xC3\xA9";
  const std::string cut = Encode(format, Record(Level::kInfo, "a", accents));
  const size_t room = 480 - header.size();
  EXPECT_EQ(cut.size(), header.size() + room / 2 * 2);
  EXPECT_TRUE(IsWellFormedUtf8(cut));
  EXPECT_EQ(truncated, 2);

  const std::string fits(480 - header.size(), 'y');
  EXPECT_EQ(Encode(format, Record(Level::kInfo, "a", fits)), header + fits);
  EXPECT_EQ(truncated, 2);
}

TEST(SyslogEncoderTest, StructuredDataTooLongForTheLimitBecomesNil) {
  auto format = Format();
  format->max_message_bytes = 480;
  const std::string big(600, 'v');
  const std::vector<ComposedField> fields = {{.key = "k", .text = big}};
  EXPECT_EQ(Encode(format, Record(Level::kInfo, "a", "kept", fields)),
            "<134>1 2026-11-22T10:00:00.123456Z web-1 sluiced - a - kept");
}

TEST(SyslogEncoderTest, NoLimitWithoutMaxMessageBytes) {
  const std::string long_message(100000, 'z');
  EXPECT_TRUE(absl::EndsWith(Encode(Format(), Record(Level::kInfo, "a", long_message)),
                             " - " + long_message));
}

}  // namespace
}  // namespace sluice::outputs
