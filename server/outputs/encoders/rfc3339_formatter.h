// Rfc3339Formatter: a record's time as RFC 3339 UTC with microseconds,
// "2026-11-22T10:00:00.123456Z", for the encodings that write it (text, JSON; syslog's
// TIMESTAMP is the same spelling).
//
// Records of a batch mostly share their second, so the date and time up to the second are
// formatted once per second and copied after that. Each encoder owns one; not thread-safe.
#ifndef SLUICE_SERVER_OUTPUTS_ENCODERS_RFC3339_FORMATTER_H_
#define SLUICE_SERVER_OUTPUTS_ENCODERS_RFC3339_FORMATTER_H_

#include <cstddef>
#include <cstdint>
#include <limits>

namespace sluice::outputs {

class Rfc3339Formatter {
 public:
  static constexpr size_t kLength = sizeof("2026-11-22T10:00:00.123456Z") - 1;

  // Writes the kLength characters of `unix_nanos` into `buffer`; times before the epoch
  // round down to the microsecond below.
  void Format(int64_t unix_nanos, char* buffer);

 private:
  static constexpr size_t kSecondLength = sizeof("2026-11-22T10:00:00") - 1;

  // The formatted date and time of cached_second_.
  int64_t cached_second_ = std::numeric_limits<int64_t>::min();
  char cached_prefix_[kSecondLength] = {};
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_ENCODERS_RFC3339_FORMATTER_H_
