#include "server/outputs/clickhouse/clickhouse_row_encoder.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/outputs/encoders/encoder_util.h"

namespace sluice::outputs {
namespace {

constexpr int64_t kNanosPerSecond = 1000000000;
// The last second a DateTime (a UInt32 of seconds) holds: 2106-02-07T06:28:15Z.
constexpr int64_t kMaxDateTime = 4294967295;

}  // namespace

void ClickHouseRowEncoder::Append(const ComposedRecord& record, std::string* out) {
  const int64_t nanos = std::max<int64_t>(record.time_unix_nanos, 0);
  absl::StrAppend(out, "{\"time\":", std::min(nanos / kNanosPerSecond, kMaxDateTime),
                  ",\"time_ns\":", nanos, ",\"level\":\"", LevelName(record.level),
                  "\",\"logger\":");
  AppendString(record.logger, out);
  out->append(",\"message\":");
  AppendString(record.message, out);
  out->append(",\"trace_id\":\"");
  AppendHex(record.trace_id, out);
  out->append("\",\"span_id\":\"");
  AppendHex(record.span_id, out);
  out->append("\",\"fields.key\":[");
  for (size_t i = 0; i < record.fields.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendString(record.fields[i].key, out);
  }
  out->append("],\"fields.value\":[");
  for (size_t i = 0; i < record.fields.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendValue(record.fields[i], out);
  }
  out->append("]}\n");
}

void ClickHouseRowEncoder::AppendString(absl::string_view text, std::string* out) {
  if (IsWellFormedUtf8(text)) {
    AppendJsonStringLiteral(text, out);
    return;
  }
  scratch_.clear();
  AppendWellFormedUtf8(text, &scratch_);
  AppendJsonStringLiteral(scratch_, out);
}

void ClickHouseRowEncoder::AppendValue(const ComposedField& composed, std::string* out) {
  if (composed.field == nullptr) {
    AppendString(composed.text, out);
    return;
  }
  const v1::Field& field = *composed.field;
  switch (field.value_case()) {
    case v1::Field::kStringValue:
      AppendString(field.string_value(), out);
      return;
    case v1::Field::kBytesValue:
      // Base64 needs no escaping.
      absl::Base64Escape(field.bytes_value(), &scratch_);
      absl::StrAppend(out, "\"", scratch_, "\"");
      return;
    case v1::Field::VALUE_NOT_SET:
      out->append("\"\"");
      return;
    default:
      // An int, double or bool, as a string of its text, which needs no escaping.
      out->push_back('"');
      AppendScalarValue(field, out);
      out->push_back('"');
      return;
  }
}

}  // namespace sluice::outputs
