#include "server/outputs/encoders/logfmt_encoder.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/outputs/encoders/encoder_util.h"

namespace sluice::outputs {
namespace {

// U+FFFD REPLACEMENT CHARACTER, in place of each byte that is not UTF-8.
constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";

bool IsPlainValueByte(unsigned char c) {
  return c > ' ' && c != '"' && c != '=' && c != '\\' && c != 0x7F;
}

bool NeedsQuotes(absl::string_view s) {
  if (s.empty()) return true;
  bool non_ascii = false;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (!IsPlainValueByte(c)) return true;
    non_ascii |= c > 0x7F;
  }
  return non_ascii && !IsWellFormedUtf8(s);
}

void AppendQuoted(absl::string_view s, std::string* out) {
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const size_t run_start = i;
    while (i < s.size()) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') break;
      ++i;
    }
    out->append(s.data() + run_start, i - run_start);
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c > 0x7F) {
      const size_t length = Utf8SequenceLength(s.substr(i));
      if (length > 0) {
        out->append(s.data() + i, length);
        i += length;
      } else {
        out->append(kReplacement.data(), kReplacement.size());
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
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
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        out->append({'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xF]});
    }
    ++i;
  }
  out->push_back('"');
}

void AppendString(absl::string_view s, std::string* out) {
  if (NeedsQuotes(s)) {
    AppendQuoted(s, out);
  } else {
    out->append(s.data(), s.size());
  }
}

// Appends `key` and the '=' after it.
void AppendKey(absl::string_view key, std::string* out) {
  if (key.empty()) {
    out->append("_=");
    return;
  }
  const size_t start = out->size();
  out->append(key.data(), key.size());
  for (size_t i = start; i < out->size(); ++i) {
    const auto c = static_cast<unsigned char>((*out)[i]);
    if (c <= ' ' || c == '=' || c == '"' || c == 0x7F) (*out)[i] = '_';
  }
  out->push_back('=');
}

}  // namespace

void LogfmtEncoder::Append(const ComposedRecord& record, std::string* out) {
  const RecordKeys& keys = *record.keys;
  AppendKey(keys.time, out);
  char time[Rfc3339Formatter::kLength];
  time_.Format(record.time_unix_nanos, time);
  out->append(time, sizeof(time));
  out->push_back(' ');
  AppendKey(keys.level, out);
  const absl::string_view level = LevelKeyword(record.level);
  out->append(level.data(), level.size());
  if (!record.logger.empty()) {
    out->push_back(' ');
    AppendKey(keys.logger, out);
    AppendString(record.logger, out);
  }
  out->push_back(' ');
  AppendKey(keys.message, out);
  AppendString(record.message, out);
  if (!record.trace_id.empty()) {
    absl::StrAppend(out, " ", kTraceIdKey, "=");
    AppendHex(record.trace_id, out);
  }
  if (!record.span_id.empty()) {
    absl::StrAppend(out, " ", kSpanIdKey, "=");
    AppendHex(record.span_id, out);
  }
  for (const ComposedField& field : record.fields) {
    out->push_back(' ');
    AppendKey(field.key, out);
    if (field.field == nullptr) {
      AppendString(field.text, out);
    } else {
      AppendValue(*field.field, out);
    }
  }
  out->push_back('\n');
}

void LogfmtEncoder::AppendValue(const v1::Field& field, std::string* out) {
  if (AppendScalarValue(field, out)) return;
  switch (field.value_case()) {
    case v1::Field::kStringValue:
      AppendString(field.string_value(), out);
      return;
    case v1::Field::kBytesValue:
      absl::Base64Escape(field.bytes_value(), &scratch_);
      AppendString(scratch_, out);
      return;
    default:  // no value
      return;
  }
}

}  // namespace sluice::outputs
