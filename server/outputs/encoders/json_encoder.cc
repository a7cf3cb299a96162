#include "server/outputs/encoders/json_encoder.h"

#include <cstring>

#include "absl/strings/escaping.h"
#include "server/outputs/encoders/encoder_util.h"
// RapidJSON skips runs of characters that need no escaping 16 bytes at a time with SSE2
// (part of every x86-64 CPU) when writing into its own StringBuffer.
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#define RAPIDJSON_SSE2
#endif
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sluice::outputs {

// A record is written into RapidJSON's own buffer, then appended to the caller's string in
// one copy: the writer's per-character Put is a plain store there, and only its
// StringBuffer gets the SSE2 fast path for unescaped runs.
struct JsonEncoder::Writer {
  // Both reused, so their memory is allocated once, not per record.
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buffer};
};

JsonEncoder::JsonEncoder() : json_(std::make_unique<Writer>()) {}

JsonEncoder::~JsonEncoder() = default;

void JsonEncoder::Append(const ComposedRecord& record, std::string* out) {
  rapidjson::Writer<rapidjson::StringBuffer>& writer = json_->writer;
  json_->buffer.Clear();
  writer.Reset(json_->buffer);
  writer.StartObject();

  const RecordKeys& keys = *record.keys;
  char time[Rfc3339Formatter::kLength];
  time_.Format(record.time_unix_nanos, time);
  WriteString(keys.time, /*is_key=*/true);
  writer.String(time, sizeof(time));
  WriteString(keys.level, /*is_key=*/true);
  const absl::string_view level = LevelName(record.level);
  writer.String(level.data(), static_cast<rapidjson::SizeType>(level.size()));
  if (!record.logger.empty()) {
    WriteString(keys.logger, /*is_key=*/true);
    WriteString(record.logger, /*is_key=*/false);
  }
  WriteString(keys.message, /*is_key=*/true);
  WriteString(record.message, /*is_key=*/false);
  if (!record.trace_id.empty()) WriteHex(kTraceIdKey, record.trace_id);
  if (!record.span_id.empty()) WriteHex(kSpanIdKey, record.span_id);

  for (const ComposedField& field : record.fields) {
    WriteString(field.key, /*is_key=*/true);
    if (field.field == nullptr) {
      WriteString(field.text, /*is_key=*/false);
    } else {
      WriteValue(*field.field);
    }
  }
  writer.EndObject();
  json_->buffer.Put('\n');
  out->append(json_->buffer.GetString(), json_->buffer.GetSize());
}

void JsonEncoder::WriteString(absl::string_view text, bool is_key) {
  if (IsPlainJsonText(text)) {
    // Most keys and values. RapidJSON's writer copies a string a character at a time
    // (its SSE2 scan skips strings under 16 bytes and unaligned heads), so the writer only
    // places its separator, by a raw value of nothing, and the literal is copied at once.
    json_->writer.RawValue("", 0, rapidjson::kStringType);
    char* literal = json_->buffer.Push(text.size() + 2);
    literal[0] = '"';
    // An empty view may have no data pointer, which memcpy must not get.
    if (!text.empty()) std::memcpy(literal + 1, text.data(), text.size());
    literal[text.size() + 1] = '"';
    return;
  }
  absl::string_view valid = text;
  if (!IsWellFormedUtf8(text)) {
    scratch_.clear();
    AppendWellFormedUtf8(text, &scratch_);
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

void JsonEncoder::WriteHex(absl::string_view key, absl::string_view bytes) {
  json_->writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  scratch_.clear();
  AppendHex(bytes, &scratch_);
  json_->writer.String(scratch_.data(), static_cast<rapidjson::SizeType>(scratch_.size()));
}

void JsonEncoder::WriteValue(const v1::Field& field) {
  rapidjson::Writer<rapidjson::StringBuffer>& writer = json_->writer;
  switch (field.value_case()) {
    case v1::Field::kStringValue:
      WriteString(field.string_value(), /*is_key=*/false);
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

}  // namespace sluice::outputs
