#include "server/pipeline/record_formatter.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
// RapidJSON skips runs of characters that need no escaping 16 bytes at a time with SSE2
// (part of every x86-64 CPU) when writing into its own StringBuffer.
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#define RAPIDJSON_SSE2
#endif
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sluice::pipeline {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
// U+FFFD REPLACEMENT CHARACTER, in place of each byte that is not UTF-8.
constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the well-formed UTF-8 sequence `s` starts with (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 when it does not start with one.
size_t Utf8SequenceLength(absl::string_view s) {
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

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  // Most log text is ASCII: skip it eight bytes at a time.
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

// Whether `s` has a byte below 0x20, eight bytes at a time (the "has less than" test of Bit
// Twiddling Hacks, exact as a yes/no answer).
bool HasControlByte(absl::string_view s) {
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

// Appends `s` (valid UTF-8) as a JSON string literal, quotes included, escaped as RapidJSON
// escapes: \", \\, the short escapes, \u00XX for the other control characters.
void AppendJsonStringLiteral(absl::string_view s, std::string* out) {
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

// A byte text output never writes as is: control characters, DEL, and (inside quotes) the
// quote and the backslash.
void AppendEscapedByte(unsigned char c, std::string* out) {
  switch (c) {
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    case '"':
      out->append("\\\"");
      return;
    case '\\':
      out->append("\\\\");
      return;
    default:
      out->append({'\\', 'x', kHexDigits[c >> 4], kHexDigits[c & 0xF]});
  }
}

// Appends `s` for text output; `quoted` also escapes '"' and '\\' (the caller adds the
// quotes). Valid UTF-8 is copied, runs of plain bytes in one append.
void AppendTextEscaped(absl::string_view s, bool quoted, std::string* out) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t run_start = i;
    while (i < s.size()) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c < 0x20 || c >= 0x7F || (quoted && (c == '"' || c == '\\'))) break;
      ++i;
    }
    out->append(s.data() + run_start, i - run_start);
    if (i == s.size()) return;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c > 0x7F) {
      if (const size_t length = Utf8SequenceLength(s.substr(i)); length > 0) {
        out->append(s.data() + i, length);
        i += length;
        continue;
      }
    }
    AppendEscapedByte(c, out);
    ++i;
  }
}

bool NeedsQuotes(absl::string_view s) {
  if (s.empty()) return true;
  bool non_ascii = false;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7F) return true;
    non_ascii |= c > 0x7F;
  }
  return non_ascii && !IsValidUtf8(s);
}

void AppendTextString(absl::string_view s, std::string* out) {
  if (!NeedsQuotes(s)) {
    out->append(s.data(), s.size());
    return;
  }
  out->push_back('"');
  AppendTextEscaped(s, /*quoted=*/true, out);
  out->push_back('"');
}

void AppendHex(absl::string_view bytes, std::string* out) {
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out->append({kHexDigits[c >> 4], kHexDigits[c & 0xF]});
  }
}

// The spelling of a double that JSON numbers cannot express; empty for finite values.
absl::string_view NonFiniteName(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return {};
}

void AppendTwoDigits(int value, char* out) {
  out[0] = static_cast<char>('0' + value / 10);
  out[1] = static_cast<char>('0' + value % 10);
}

}  // namespace

// A record is written into RapidJSON's own buffer, then appended to the caller's string in
// one copy: the writer's per-character Put is a plain store there, and only its
// StringBuffer gets the SSE2 fast path for unescaped runs.
struct RecordFormatter::Json {
  // Both reused, so their memory is allocated once, not per record.
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buffer};
};

Level RecordLevel(const v1::LogRecord& record) {
  return LevelFromProto(record.level()).value_or(Level::kInfo);
}

RecordFormatter::RecordFormatter(const FieldComposer& composer)
    : composer_(composer),
      json_(std::make_unique<Json>()),
      cached_second_(std::numeric_limits<int64_t>::min()),
      cached_prefix_() {}

RecordFormatter::~RecordFormatter() = default;

void RecordFormatter::FormatTime(const v1::LogRecord& record, absl::Time received_at,
                                 char* buffer) {
  constexpr int64_t kNanosPerSecond = 1'000'000'000;
  int64_t nanos = 0;
  if (record.time_unix_nano() == 0) {
    nanos = absl::ToUnixNanos(received_at);
  } else if (record.time_unix_nano() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    nanos = std::numeric_limits<int64_t>::max();
  } else {
    nanos = static_cast<int64_t>(record.time_unix_nano());
  }
  int64_t seconds = nanos / kNanosPerSecond;
  int64_t subsecond = nanos % kNanosPerSecond;
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
  for (size_t i = kTimeLength - 2; i > kSecondLength; --i) {
    buffer[i] = static_cast<char>('0' + micros % 10);
    micros /= 10;
  }
  buffer[kTimeLength - 1] = 'Z';
}

void RecordFormatter::AppendText(const v1::LogRecord& record, absl::Time received_at,
                                 std::string* out) {
  char time[kTimeLength];
  FormatTime(record, received_at, time);
  out->append(time, kTimeLength);
  out->push_back(' ');
  const absl::string_view level = LevelName(RecordLevel(record));
  out->append(level.data(), level.size());
  if (!record.logger().empty()) {
    out->push_back(' ');
    AppendTextEscaped(record.logger(), /*quoted=*/false, out);
    out->push_back(':');
  }
  if (!record.message().empty()) {
    out->push_back(' ');
    AppendTextEscaped(record.message(), /*quoted=*/false, out);
  }
  if (!record.trace_id().empty()) {
    absl::StrAppend(out, " ", kTraceIdKey, "=");
    AppendHex(record.trace_id(), out);
  }
  if (!record.span_id().empty()) {
    absl::StrAppend(out, " ", kSpanIdKey, "=");
    AppendHex(record.span_id(), out);
  }
  composer_.Compose(record, &fields_);
  for (const ComposedField& field : fields_) {
    out->push_back(' ');
    AppendTextEscaped(field.key, /*quoted=*/false, out);
    out->push_back('=');
    if (field.field == nullptr) {
      AppendTextString(field.text, out);
    } else {
      AppendTextValue(*field.field, out);
    }
  }
  out->push_back('\n');
}

void RecordFormatter::AppendTextValue(const v1::Field& field, std::string* out) {
  switch (field.value_case()) {
    case v1::Field::kStringValue:
      AppendTextString(field.string_value(), out);
      return;
    case v1::Field::kIntValue:
      absl::StrAppend(out, field.int_value());
      return;
    case v1::Field::kDoubleValue: {
      const double value = field.double_value();
      if (absl::string_view name = NonFiniteName(value); !name.empty()) {
        out->append(name.data(), name.size());
        return;
      }
      char buffer[32];
      const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof(buffer), value);
      out->append(buffer, result.ptr);
      return;
    }
    case v1::Field::kBoolValue:
      out->append(field.bool_value() ? "true" : "false");
      return;
    case v1::Field::kBytesValue:
      absl::Base64Escape(field.bytes_value(), &scratch_);
      AppendTextString(scratch_, out);
      return;
    case v1::Field::VALUE_NOT_SET:
      break;
  }
  AppendTextString("", out);
}

void RecordFormatter::AppendJson(const v1::LogRecord& record, absl::Time received_at,
                                 std::string* out) {
  rapidjson::Writer<rapidjson::StringBuffer>& writer = json_->writer;
  json_->buffer.Clear();
  writer.Reset(json_->buffer);
  writer.StartObject();

  char time[kTimeLength];
  FormatTime(record, received_at, time);
  WriteJsonString(composer_.time_key(), /*is_key=*/true);
  writer.String(time, kTimeLength);
  WriteJsonString(composer_.level_key(), /*is_key=*/true);
  const absl::string_view level = LevelName(RecordLevel(record));
  writer.String(level.data(), static_cast<rapidjson::SizeType>(level.size()));
  if (!record.logger().empty()) {
    WriteJsonString(composer_.logger_key(), /*is_key=*/true);
    WriteJsonString(record.logger(), /*is_key=*/false);
  }
  WriteJsonString(composer_.message_key(), /*is_key=*/true);
  WriteJsonString(record.message(), /*is_key=*/false);
  if (!record.trace_id().empty()) WriteJsonHex(kTraceIdKey, record.trace_id());
  if (!record.span_id().empty()) WriteJsonHex(kSpanIdKey, record.span_id());

  composer_.Compose(record, &fields_);
  for (const ComposedField& field : fields_) {
    WriteJsonString(field.key, /*is_key=*/true);
    if (field.field == nullptr) {
      WriteJsonString(field.text, /*is_key=*/false);
    } else {
      WriteJsonValue(*field.field);
    }
  }
  writer.EndObject();
  json_->buffer.Put('\n');
  out->append(json_->buffer.GetString(), json_->buffer.GetSize());
}

void RecordFormatter::WriteJsonString(absl::string_view text, bool is_key) {
  absl::string_view valid = text;
  if (!IsValidUtf8(text)) {
    scratch_.clear();
    size_t i = 0;
    while (i < text.size()) {
      const size_t length = Utf8SequenceLength(text.substr(i));
      if (length == 0) {
        scratch_.append(kReplacement.data(), kReplacement.size());
        ++i;
      } else {
        scratch_.append(text.data() + i, length);
        i += length;
      }
    }
    valid = scratch_;
  }
  if (HasControlByte(valid)) {
    // RapidJSON 1.1.0's SSE2 scan (Writer::ScanWriteUnescapedString) compares with 0x19, so
    // in strings of 16 bytes or more it copies the control bytes 0x1A-0x1F unescaped: not
    // JSON. Control bytes are rare in log text; strings with one are escaped here.
    literal_.clear();
    AppendJsonStringLiteral(valid, &literal_);
    json_->writer.RawValue(literal_.data(), literal_.size(), rapidjson::kStringType);
    return;
  }
  const auto size = static_cast<rapidjson::SizeType>(valid.size());
  if (is_key) {
    json_->writer.Key(valid.data(), size);
  } else {
    json_->writer.String(valid.data(), size);
  }
}

void RecordFormatter::WriteJsonHex(absl::string_view key, absl::string_view bytes) {
  json_->writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  scratch_.clear();
  AppendHex(bytes, &scratch_);
  json_->writer.String(scratch_.data(), static_cast<rapidjson::SizeType>(scratch_.size()));
}

void RecordFormatter::WriteJsonValue(const v1::Field& field) {
  rapidjson::Writer<rapidjson::StringBuffer>& writer = json_->writer;
  switch (field.value_case()) {
    case v1::Field::kStringValue:
      WriteJsonString(field.string_value(), /*is_key=*/false);
      return;
    case v1::Field::kIntValue:
      writer.Int64(field.int_value());
      return;
    case v1::Field::kDoubleValue: {
      const double value = field.double_value();
      if (absl::string_view name = NonFiniteName(value); !name.empty()) {
        writer.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
      } else {
        writer.Double(value);
      }
      return;
    }
    case v1::Field::kBoolValue:
      writer.Bool(field.bool_value());
      return;
    case v1::Field::kBytesValue:
      absl::Base64Escape(field.bytes_value(), &scratch_);
      writer.String(scratch_.data(), static_cast<rapidjson::SizeType>(scratch_.size()));
      return;
    case v1::Field::VALUE_NOT_SET:
      break;
  }
  writer.Null();
}

}  // namespace sluice::pipeline
