#include "server/outputs/encoders/text_encoder.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/outputs/encoders/encoder_util.h"

namespace sluice::outputs {
namespace {

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

// Appends `s`; `quoted` also escapes '"' and '\\' (the caller adds the quotes). Valid
// UTF-8 is copied, runs of plain bytes in one append.
void AppendEscaped(absl::string_view s, bool quoted, std::string* out) {
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
  return non_ascii && !IsWellFormedUtf8(s);
}

void AppendString(absl::string_view s, std::string* out) {
  if (!NeedsQuotes(s)) {
    out->append(s.data(), s.size());
    return;
  }
  out->push_back('"');
  AppendEscaped(s, /*quoted=*/true, out);
  out->push_back('"');
}

}  // namespace

void TextEncoder::Append(const ComposedRecord& record, std::string* out) {
  char time[Rfc3339Formatter::kLength];
  time_.Format(record.time_unix_nanos, time);
  out->append(time, sizeof(time));
  out->push_back(' ');
  const absl::string_view level = LevelName(record.level);
  out->append(level.data(), level.size());
  if (!record.logger.empty()) {
    out->push_back(' ');
    AppendEscaped(record.logger, /*quoted=*/false, out);
    out->push_back(':');
  }
  if (!record.message.empty()) {
    out->push_back(' ');
    AppendEscaped(record.message, /*quoted=*/false, out);
  }
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
    AppendEscaped(field.key, /*quoted=*/false, out);
    out->push_back('=');
    if (field.field == nullptr) {
      AppendString(field.text, out);
    } else {
      AppendValue(*field.field, out);
    }
  }
  out->push_back('\n');
}

void TextEncoder::AppendValue(const v1::Field& field, std::string* out) {
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
      break;
  }
  AppendString("", out);
}

}  // namespace sluice::outputs
