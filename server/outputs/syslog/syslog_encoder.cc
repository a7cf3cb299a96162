#include "server/outputs/syslog/syslog_encoder.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/outputs/encoders/encoder_util.h"

namespace sluice::outputs {
namespace {

constexpr absl::string_view kReplacementCharacter = "\xEF\xBF\xBD";

bool IsPrintUsAscii(unsigned char c) { return c >= 33 && c <= 126; }

// Appends `name` as an SD-NAME or MSGID: printable ASCII (without '=', ']' and '"' in an
// SD-NAME), each other byte '_', at most kSyslogNameMax bytes.
void AppendName(absl::string_view name, bool sd_name, std::string* out) {
  const size_t length = std::min(name.size(), kSyslogNameMax);
  for (size_t i = 0; i < length; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    const bool forbidden = !IsPrintUsAscii(c) || (sd_name && (c == '=' || c == ']' || c == '"'));
    out->push_back(forbidden ? '_' : static_cast<char>(c));
  }
}

// Appends `value` as a PARAM-VALUE's content: '"', '\' and ']' escaped, ill-formed UTF-8
// replaced, plain runs copied in one append.
void AppendParamValue(absl::string_view value, std::string* out) {
  size_t i = 0;
  while (i < value.size()) {
    const size_t run_start = i;
    while (i < value.size()) {
      const auto c = static_cast<unsigned char>(value[i]);
      if (c >= 0x80 || c == '"' || c == '\\' || c == ']') break;
      ++i;
    }
    out->append(value.data() + run_start, i - run_start);
    if (i == value.size()) return;
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x80) {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (const size_t length = Utf8SequenceLength(value.substr(i)); length > 0) {
      out->append(value.data() + i, length);
      i += length;
    } else {
      out->append(kReplacementCharacter.data(), kReplacementCharacter.size());
      ++i;
    }
  }
}

// The longest prefix of `s` of at most `limit` bytes that does not end inside a UTF-8
// sequence.
size_t Utf8Prefix(absl::string_view s, size_t limit) {
  if (s.size() <= limit) return s.size();
  size_t end = limit;
  // A continuation byte at the cut means the sequence it belongs to started before it.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return end;
}

}  // namespace

int SyslogSeverity(Level level) {
  switch (level) {
    case Level::kTrace:
    case Level::kDebug:
      return 7;
    case Level::kInfo:
      return 6;
    case Level::kWarn:
      return 4;
    case Level::kError:
      return 3;
    case Level::kFatal:
      return 2;
  }
  return 6;
}

void SyslogEncoder::Append(const ComposedRecord& record, std::string* out) {
  message_.clear();
  absl::StrAppend(&message_, "<", format_->facility * 8 + SyslogSeverity(record.level), ">1 ");
  char time[Rfc3339Formatter::kLength];
  time_.Format(record.time_unix_nanos, time);
  message_.append(time, sizeof(time));
  absl::StrAppend(&message_, " ", format_->hostname, " ", format_->app_name, " - ");
  if (record.logger.empty()) {
    message_.push_back('-');
  } else {
    AppendName(record.logger, /*sd_name=*/false, &message_);
  }
  message_.push_back(' ');
  const size_t sd_start = message_.size();
  const auto open_element = [&] {
    if (message_.size() == sd_start) absl::StrAppend(&message_, "[", kSyslogSdId);
  };
  if (!record.trace_id.empty()) {
    open_element();
    absl::StrAppend(&message_, " ", kTraceIdKey, "=\"");
    AppendHex(record.trace_id, &message_);
    message_.push_back('"');
  }
  if (!record.span_id.empty()) {
    open_element();
    absl::StrAppend(&message_, " ", kSpanIdKey, "=\"");
    AppendHex(record.span_id, &message_);
    message_.push_back('"');
  }
  for (const ComposedField& field : record.fields) {
    if (field.key.empty()) continue;
    open_element();
    message_.push_back(' ');
    AppendName(field.key, /*sd_name=*/true, &message_);
    message_.append("=\"");
    if (field.field == nullptr) {
      AppendParamValue(field.text, &message_);
    } else {
      AppendValue(*field.field, &message_);
    }
    message_.push_back('"');
  }
  if (message_.size() == sd_start) {
    message_.push_back('-');
  } else {
    message_.push_back(']');
  }
  const size_t limit = format_->max_message_bytes;
  bool truncated = false;
  if (limit > 0 && message_.size() > limit) {
    // Cutting into the element would leave it unterminated, which receivers reject.
    message_.resize(sd_start);
    message_.push_back('-');
    truncated = true;
  }
  if (!record.message.empty()) {
    absl::string_view text = record.message;
    if (limit > 0 && message_.size() + 1 + text.size() > limit) {
      truncated = true;
      // The header and "-" are at most 377 bytes, below the smallest limit (480).
      text = text.substr(0, Utf8Prefix(text, limit - message_.size() - 1));
    }
    if (!text.empty()) {
      message_.push_back(' ');
      message_.append(text.data(), text.size());
    }
  }
  if (truncated && format_->on_truncated) format_->on_truncated();
  absl::StrAppend(out, message_.size(), " ");
  out->append(message_);
}

void SyslogEncoder::AppendValue(const v1::Field& field, std::string* out) {
  if (AppendScalarValue(field, out)) return;
  switch (field.value_case()) {
    case v1::Field::kStringValue:
      AppendParamValue(field.string_value(), out);
      return;
    case v1::Field::kBytesValue:
      absl::Base64Escape(field.bytes_value(), &value_);
      out->append(value_);
      return;
    default:  // no value
      return;
  }
}

bool NextSyslogFrame(absl::string_view* frames, absl::string_view* message) {
  const size_t space = frames->find(' ');
  if (space == absl::string_view::npos || space == 0) return false;
  size_t length = 0;
  if (!absl::SimpleAtoi(frames->substr(0, space), &length) || frames->size() - space - 1 < length) {
    return false;
  }
  *message = frames->substr(space + 1, length);
  frames->remove_prefix(space + 1 + length);
  return true;
}

}  // namespace sluice::outputs
