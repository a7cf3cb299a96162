#include "server/ingest/otlp_mapping.h"

#include <cmath>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "server/common/level.h"

namespace sluice::ingest {
namespace {

namespace otlp_common = opentelemetry::proto::common::v1;
namespace otlp_logs = opentelemetry::proto::logs::v1;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr int kMaxSeverityNumber = 24;
constexpr int kSeverityNumbersPerLevel = 4;

void WriteJson(const otlp_common::AnyValue& value, Writer& writer) {
  switch (value.value_case()) {
    case otlp_common::AnyValue::kStringValue:
      writer.String(value.string_value().data(),
                    static_cast<rapidjson::SizeType>(value.string_value().size()));
      break;
    case otlp_common::AnyValue::kBoolValue:
      writer.Bool(value.bool_value());
      break;
    case otlp_common::AnyValue::kIntValue:
      writer.Int64(value.int_value());
      break;
    case otlp_common::AnyValue::kDoubleValue:
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
    case otlp_common::AnyValue::kArrayValue:
      writer.StartArray();
      for (const otlp_common::AnyValue& element : value.array_value().values()) {
        WriteJson(element, writer);
      }
      writer.EndArray();
      break;
    case otlp_common::AnyValue::kKvlistValue:
      writer.StartObject();
      for (const otlp_common::KeyValue& entry : value.kvlist_value().values()) {
        writer.Key(entry.key().data(), static_cast<rapidjson::SizeType>(entry.key().size()));
        WriteJson(entry.value(), writer);
      }
      writer.EndObject();
      break;
    case otlp_common::AnyValue::kBytesValue: {
      const std::string encoded = absl::Base64Escape(value.bytes_value());
      writer.String(encoded.data(), static_cast<rapidjson::SizeType>(encoded.size()));
      break;
    }
    case otlp_common::AnyValue::VALUE_NOT_SET:
      writer.Null();
      break;
  }
}

void SetFieldValue(const otlp_common::AnyValue& value, v1::Field& field) {
  switch (value.value_case()) {
    case otlp_common::AnyValue::kStringValue:
      field.set_string_value(value.string_value());
      break;
    case otlp_common::AnyValue::kBoolValue:
      field.set_bool_value(value.bool_value());
      break;
    case otlp_common::AnyValue::kIntValue:
      field.set_int_value(value.int_value());
      break;
    case otlp_common::AnyValue::kDoubleValue:
      field.set_double_value(value.double_value());
      break;
    case otlp_common::AnyValue::kBytesValue:
      field.set_bytes_value(value.bytes_value());
      break;
    case otlp_common::AnyValue::kArrayValue:
    case otlp_common::AnyValue::kKvlistValue:
      field.set_string_value(OtlpValueToJson(value));
      break;
    case otlp_common::AnyValue::VALUE_NOT_SET:
      field.clear_value();
      break;
  }
}

// Builds one record's fields in precedence order; reused across the records of a request.
class FieldMerger {
 public:
  void Begin(v1::LogRecord& record) {
    record_ = &record;
    positions_.clear();
  }
  // Adds `attributes` after the ones added before, overriding equal keys in place.
  void Add(const google::protobuf::RepeatedPtrField<otlp_common::KeyValue>& attributes) {
    for (const otlp_common::KeyValue& attribute : attributes) {
      if (attribute.key().empty()) continue;
      // The keys stay owned by the request, which outlives the merge.
      auto [it, inserted] = positions_.try_emplace(attribute.key(), record_->fields_size());
      v1::Field* field;
      if (inserted) {
        field = record_->add_fields();
        field->set_key(attribute.key());
      } else {
        field = record_->mutable_fields(it->second);
      }
      SetFieldValue(attribute.value(), *field);
    }
  }

 private:
  v1::LogRecord* record_ = nullptr;
  absl::flat_hash_map<absl::string_view, int> positions_;
};

void MapRecord(const otlp_logs::LogRecord& in, const otlp_logs::ResourceLogs& resource_logs,
               const otlp_logs::ScopeLogs& scope_logs, FieldMerger& merger, v1::LogRecord& out) {
  out.set_time_unix_nano(in.time_unix_nano() != 0 ? in.time_unix_nano()
                                                  : in.observed_time_unix_nano());
  out.set_level(OtlpSeverityToLevel(in.severity_number(), in.severity_text()));
  out.set_logger(scope_logs.scope().name());
  if (in.body().value_case() == otlp_common::AnyValue::kStringValue) {
    out.set_message(in.body().string_value());
  } else if (in.has_body()) {
    out.set_message(OtlpValueToJson(in.body()));
  }
  out.set_trace_id(in.trace_id());
  out.set_span_id(in.span_id());
  merger.Begin(out);
  merger.Add(resource_logs.resource().attributes());
  merger.Add(scope_logs.scope().attributes());
  merger.Add(in.attributes());
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

std::string OtlpValueToJson(const otlp_common::AnyValue& value) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  WriteJson(value, writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

void AppendOtlpRecords(
    const opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest& request,
    RecordBatch::Records& records) {
  FieldMerger merger;
  for (const otlp_logs::ResourceLogs& resource_logs : request.resource_logs()) {
    for (const otlp_logs::ScopeLogs& scope_logs : resource_logs.scope_logs()) {
      for (const otlp_logs::LogRecord& record : scope_logs.log_records()) {
        MapRecord(record, resource_logs, scope_logs, merger, *records.Add());
      }
    }
  }
}

}  // namespace sluice::ingest
