// Spellings the line encodings share: UTF-8 checks, hex, JSON string literals, the names
// of doubles JSON numbers cannot express, and scalar field values. Used by TextEncoder and
// JsonEncoder, and meant for the encodings outputs add (syslog, JSONEachRow) so that they read
// bytes the same way.
//
// Pure functions, thread-safe. Tuned for log text, which is mostly ASCII, and inline
// because the encoders call them for every string of every record.
#ifndef SLUICE_SERVER_OUTPUTS_ENCODERS_ENCODER_UTIL_H_
#define SLUICE_SERVER_OUTPUTS_ENCODERS_ENCODER_UTIL_H_

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::outputs {

inline constexpr char kHexDigits[] = "0123456789abcdef";

// Length of the well-formed UTF-8 sequence `s` (not empty) starts with (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0 when it does not start
// with one.
inline size_t Utf8SequenceLength(absl::string_view s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead == 0xE0) {
    length = 3;
    low = 0xA0;
  } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
    length = 3;
  } else if (lead == 0xED) {
    length = 3;
    high = 0x9F;
  } else if (lead == 0xF0) {
    length = 4;
    low = 0x90;
  } else if (lead >= 0xF1 && lead <= 0xF3) {
    length = 4;
  } else if (lead == 0xF4) {
    length = 4;
    high = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  const auto second = static_cast<unsigned char>(s[1]);
  if (second < low || second > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0;
  }
  return length;
}

// Whether all of `s` is well-formed UTF-8; skips ASCII eight bytes at a time.
inline bool IsWellFormedUtf8(absl::string_view s) {
  size_t i = 0;
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  while (i + sizeof(uint64_t) <= s.size()) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, sizeof(word));
    if ((word & kHighBits) != 0) break;
    i += sizeof(word);
  }
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t length = Utf8SequenceLength(s.substr(i));
    if (length == 0) return false;
    i += length;
  }
  return true;
}

// U+FFFD REPLACEMENT CHARACTER, in place of each byte that is not UTF-8.
inline constexpr absl::string_view kReplacementCharacter = "\xEF\xBF\xBD";

// Appends `text` with kReplacementCharacter for each byte that starts no well-formed UTF-8
// sequence.
inline void AppendWellFormedUtf8(absl::string_view text, std::string* out) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t length = Utf8SequenceLength(text.substr(i));
    if (length == 0) {
      out->append(kReplacementCharacter.data(), kReplacementCharacter.size());
      ++i;
    } else {
      out->append(text.data() + i, length);
      i += length;
    }
  }
}

// Whether `s` has a byte below 0x20, eight bytes at a time (the "has less than" test of
// Bit Twiddling Hacks, exact as a yes/no answer).
inline bool HasControlByte(absl::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  size_t i = 0;
  for (; i + sizeof(uint64_t) <= s.size(); i += sizeof(uint64_t)) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, sizeof(word));
    if (((word - kOnes * 0x20) & ~word & kHighBits) != 0) return true;
  }
  for (; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) < 0x20) return true;
  }
  return false;
}

// True when `s` is ASCII without control bytes, '"' or '\\': text that is valid UTF-8 and
// that a JSON string holds as it is. One pass, eight bytes at a time.
inline bool IsPlainJsonText(absl::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  // A high bit in each byte of `word` that is zero, or below 0x20 (with its high bit clear).
  const auto zero_bytes = [](uint64_t word) { return (word - kOnes) & ~word & kHighBits; };
  const auto control_bytes = [](uint64_t word) {
    return (word - kOnes * 0x20) & ~word & kHighBits;
  };
  size_t i = 0;
  for (; i + sizeof(uint64_t) <= s.size(); i += sizeof(uint64_t)) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, sizeof(word));
    if (((word & kHighBits) | control_bytes(word) | zero_bytes(word ^ (kOnes * '"')) |
         zero_bytes(word ^ (kOnes * '\\'))) != 0) {
      return false;
    }
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80 || c < 0x20 || c == '"' || c == '\\') return false;
  }
  return true;
}

// Appends `bytes` as lower-case hex, two digits a byte.
inline void AppendHex(absl::string_view bytes, std::string* out) {
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out->append({kHexDigits[c >> 4], kHexDigits[c & 0xF]});
  }
}

// Appends `s` (valid UTF-8) as a JSON string literal, quotes included, escaped as RapidJSON
// escapes: \", \\, the short escapes, \u00XX for the other control characters.
inline void AppendJsonStringLiteral(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          out->append({'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xF]});
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

// "NaN", "+Inf" or "-Inf" for a double that is not finite; empty for finite values.
inline absl::string_view NonFiniteName(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return {};
}

// Appends an int, double or bool field value as every text encoding spells it: a decimal
// int, the shortest double that reads back the same (NonFiniteName for the others), `true`
// or `false`. Returns false and appends nothing for strings, bytes and no value, which each
// encoding escapes its own way.
inline bool AppendScalarValue(const v1::Field& field, std::string* out) {
  switch (field.value_case()) {
    case v1::Field::kIntValue:
      absl::StrAppend(out, field.int_value());
      return true;
    case v1::Field::kDoubleValue: {
      const double value = field.double_value();
      if (absl::string_view name = NonFiniteName(value); !name.empty()) {
        out->append(name.data(), name.size());
        return true;
      }
      char buffer[32];
      const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof(buffer), value);
      out->append(buffer, result.ptr);
      return true;
    }
    case v1::Field::kBoolValue:
      out->append(field.bool_value() ? "true" : "false");
      return true;
    default:
      return false;
  }
}

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_ENCODERS_ENCODER_UTIL_H_
