#include "server/outputs/encoders/rfc3339_formatter.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace sluice::outputs {
namespace {

std::string Formatted(Rfc3339Formatter& formatter, int64_t unix_nanos) {
  char buffer[Rfc3339Formatter::kLength];
  formatter.Format(unix_nanos, buffer);
  return std::string(buffer, sizeof(buffer));
}

int64_t Nanos(absl::CivilSecond second, absl::Duration subsecond) {
  return absl::ToUnixNanos(absl::FromCivil(second, absl::UTCTimeZone()) + subsecond);
}

TEST(Rfc3339FormatterTest, WritesUtcWithMicroseconds) {
  Rfc3339Formatter formatter;
  EXPECT_EQ(Formatted(formatter, Nanos(absl::CivilSecond(2026, 11, 22, 10, 0, 0),
                                       absl::Nanoseconds(123456789))),
            "2026-11-22T10:00:00.123456Z");
  EXPECT_EQ(Formatted(formatter, 0), "1970-01-01T00:00:00.000000Z");
}

TEST(Rfc3339FormatterTest, TheCachedSecondFollowsTheTimes) {
  Rfc3339Formatter formatter;
  const absl::CivilSecond second(2026, 11, 22, 10, 0, 0);
  EXPECT_EQ(Formatted(formatter, Nanos(second, absl::Microseconds(1))),
            "2026-11-22T10:00:00.000001Z");
  EXPECT_EQ(Formatted(formatter, Nanos(second, absl::Microseconds(2))),
            "2026-11-22T10:00:00.000002Z");
  EXPECT_EQ(Formatted(formatter, Nanos(second + 86400, absl::ZeroDuration())),
            "2026-11-23T10:00:00.000000Z");
  EXPECT_EQ(Formatted(formatter, Nanos(second, absl::Microseconds(3))),
            "2026-11-22T10:00:00.000003Z");
}

TEST(Rfc3339FormatterTest, TimesBeforeTheEpochRoundDown) {
  Rfc3339Formatter formatter;
  EXPECT_EQ(Formatted(formatter, -1'500'000'000), "1969-12-31T23:59:58.500000Z");
  EXPECT_EQ(Formatted(formatter, -1), "1969-12-31T23:59:59.999999Z");
}

TEST(Rfc3339FormatterTest, CoversTheInt64Range) {
  Rfc3339Formatter formatter;
  EXPECT_EQ(Formatted(formatter, std::numeric_limits<int64_t>::max()),
            "2262-04-11T23:47:16.854775Z");
  EXPECT_EQ(Formatted(formatter, std::numeric_limits<int64_t>::min()),
            "1677-09-21T00:12:43.145224Z");
}

}  // namespace
}  // namespace sluice::outputs
