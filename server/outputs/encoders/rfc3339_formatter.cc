#include "server/outputs/encoders/rfc3339_formatter.h"

#include <algorithm>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace sluice::outputs {
namespace {

void AppendTwoDigits(int value, char* out) {
  out[0] = static_cast<char>('0' + value / 10);
  out[1] = static_cast<char>('0' + value % 10);
}

}  // namespace

void Rfc3339Formatter::Format(int64_t unix_nanos, char* buffer) {
  constexpr int64_t kNanosPerSecond = 1'000'000'000;
  int64_t seconds = unix_nanos / kNanosPerSecond;
  int64_t subsecond = unix_nanos % kNanosPerSecond;
  if (subsecond < 0) {
    subsecond += kNanosPerSecond;
    --seconds;
  }
  if (seconds != cached_second_) {
    const absl::CivilSecond civil =
        absl::ToCivilSecond(absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
    // int64 nanoseconds span the years 1677..2262: always four digits.
    const int year = static_cast<int>(civil.year());
    AppendTwoDigits(year / 100, cached_prefix_);
    AppendTwoDigits(year % 100, cached_prefix_ + 2);
    cached_prefix_[4] = '-';
    AppendTwoDigits(civil.month(), cached_prefix_ + 5);
    cached_prefix_[7] = '-';
    AppendTwoDigits(civil.day(), cached_prefix_ + 8);
    cached_prefix_[10] = 'T';
    AppendTwoDigits(civil.hour(), cached_prefix_ + 11);
    cached_prefix_[13] = ':';
    AppendTwoDigits(civil.minute(), cached_prefix_ + 14);
    cached_prefix_[16] = ':';
    AppendTwoDigits(civil.second(), cached_prefix_ + 17);
    cached_second_ = seconds;
  }
  std::copy(cached_prefix_, cached_prefix_ + kSecondLength, buffer);
  buffer[kSecondLength] = '.';
  int micros = static_cast<int>(subsecond / 1000);
  for (size_t i = kLength - 2; i > kSecondLength; --i) {
    buffer[i] = static_cast<char>('0' + micros % 10);
    micros /= 10;
  }
  buffer[kLength - 1] = 'Z';
}

}  // namespace sluice::outputs
