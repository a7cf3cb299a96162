#include "server/outputs/encoders/text_encoder.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::outputs {
namespace {

// 2026-11-22T10:00:00.123456Z
constexpr int64_t kTimeNanos = 1'795'341'600'123'456'000;

const RecordKeys kKeys{"ts", "severity", "component", "msg"};

std::string Line(const ComposedRecord& record) {
  TextEncoder encoder;
  std::string out;
  encoder.Append(record, &out);
  return out;
}

TEST(TextEncoderTest, WritesWhatItIsHandedInItsOrder) {
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
  // Composition (order, duplicates) is the composer's business: the encoder repeats the
  // fields exactly as given.
  EXPECT_EQ(Line(record),
            "2026-11-22T10:00:00.123456Z WARN checkout.db: slow query zeta=last? attempt=7 "
            "zeta=again\n");
}

TEST(TextEncoderTest, LeavesTheConfiguredKeyNamesOut) {
  const ComposedRecord record{.time_unix_nanos = kTimeNanos, .message = "m", .keys = &kKeys};
  EXPECT_EQ(Line(record), "2026-11-22T10:00:00.123456Z INFO m\n");
}

TEST(TextEncoderTest, WritesTheTraceContextAsHex) {
  const ComposedRecord record{.time_unix_nanos = kTimeNanos,
                              .level = Level::kError,
                              .trace_id = "\x4b\xf9",
                              .span_id = absl::string_view("\x00\xf0", 2),
                              .keys = &kKeys};
  EXPECT_EQ(Line(record), "2026-11-22T10:00:00.123456Z ERROR trace_id=4bf9 span_id=00f0\n");
}

TEST(TextEncoderTest, AppendsToWhatTheStringHolds) {
  TextEncoder encoder;
  std::string out = "before\n";
  encoder.Append(ComposedRecord{.time_unix_nanos = kTimeNanos, .message = "a", .keys = &kKeys},
                 &out);
  encoder.Append(
      ComposedRecord{.time_unix_nanos = kTimeNanos + 1'000'000'000, .message = "b", .keys = &kKeys},
      &out);
  EXPECT_EQ(out,
            "before\n2026-11-22T10:00:00.123456Z INFO a\n2026-11-22T10:00:01.123456Z INFO b\n");
}

}  // namespace
}  // namespace sluice::outputs
