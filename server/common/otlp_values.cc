#include "server/common/otlp_values.h"

#include <cmath>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "google/protobuf/io/coded_stream.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "sluice/level.h"

namespace sluice {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr int kMaxSeverityNumber = 24;
constexpr int kSeverityNumbersPerLevel = 4;

// Templates over the AnyValue types: the OTLP message and its lenient twin
// (sluice.v1.wire.otlp: strings as bytes) have accessors spelled alike.
template <typename Any>
void WriteJson(const Any& value, Writer& writer) {
  switch (value.value_case()) {
    case Any::kStringValue:
      writer.String(value.string_value().data(),
                    static_cast<rapidjson::SizeType>(value.string_value().size()));
      break;
    case Any::kBoolValue:
      writer.Bool(value.bool_value());
      break;
    case Any::kIntValue:
      writer.Int64(value.int_value());
      break;
    case Any::kDoubleValue:
      // JSON numbers cannot express NaN and infinities; spelled as the JSON formatter
      // spells them in fields.
      if (std::isnan(value.double_value())) {
        writer.String("NaN");
      } else if (std::isinf(value.double_value())) {
        writer.String(value.double_value() > 0 ? "+Inf" : "-Inf");
      } else {
        writer.Double(value.double_value());
      }
      break;
    case Any::kArrayValue:
      writer.StartArray();
      for (const Any& element : value.array_value().values()) {
        WriteJson(element, writer);
      }
      writer.EndArray();
      break;
    case Any::kKvlistValue:
      writer.StartObject();
      for (const auto& entry : value.kvlist_value().values()) {
        writer.Key(entry.key().data(), static_cast<rapidjson::SizeType>(entry.key().size()));
        WriteJson(entry.value(), writer);
      }
      writer.EndObject();
      break;
    case Any::kBytesValue: {
      const std::string encoded = absl::Base64Escape(value.bytes_value());
      writer.String(encoded.data(), static_cast<rapidjson::SizeType>(encoded.size()));
      break;
    }
    case Any::VALUE_NOT_SET:
      writer.Null();
      break;
  }
}

template <typename Any>
std::string ValueToJson(const Any& value) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  WriteJson(value, writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

v1::Level OtlpSeverityToLevel(int severity_number, absl::string_view severity_text) {
  if (severity_number == 0) {
    const absl::StatusOr<Level> named = ParseLevel(severity_text);
    return named.ok() ? LevelToProto(*named) : v1::LEVEL_INFO;
  }
  if (severity_number < 0 || severity_number > kMaxSeverityNumber) {
    return static_cast<v1::Level>(severity_number);
  }
  // 1–4 → 1 (TRACE), 5–8 → 2 (DEBUG), ... 21–24 → 6 (FATAL).
  return static_cast<v1::Level>((severity_number - 1) / kSeverityNumbersPerLevel + 1);
}

std::string OtlpValueToJson(const opentelemetry::proto::common::v1::AnyValue& value) {
  return ValueToJson(value);
}

std::string OtlpValueToJson(const v1::wire::otlp::AnyValue& value) { return ValueToJson(value); }

void AppendLengthPrefixed(absl::string_view bytes, std::string* out) {
  uint8_t length[5];
  const uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(bytes.size()), length);
  out->append(reinterpret_cast<const char*>(length), end - length);
  out->append(bytes.data(), bytes.size());
}

std::optional<absl::string_view> NextLengthPrefixed(absl::string_view* lines) {
  uint32_t length = 0;
  size_t used = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (used == lines->size()) return std::nullopt;
    const auto byte = static_cast<uint8_t>((*lines)[used++]);
    length |= static_cast<uint32_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      if (lines->size() - used < length) return std::nullopt;
      const absl::string_view part = lines->substr(used, length);
      lines->remove_prefix(used + length);
      return part;
    }
  }
  return std::nullopt;
}

bool HasOtlpKey(absl::string_view keys, absl::string_view key) {
  while (const std::optional<absl::string_view> candidate = NextLengthPrefixed(&keys)) {
    if (*candidate == key) return true;
  }
  return false;
}

}  // namespace sluice
