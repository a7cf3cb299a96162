#include "server/ingest/otlp_mapping.h"

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "sluice/level.h"

namespace sluice::ingest {
namespace {

namespace otlp_common = opentelemetry::proto::common::v1;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr int kMaxSeverityNumber = 24;
constexpr int kSeverityNumbersPerLevel = 4;

// The functions below are templates over the message types so that one mapping serves
// both the OTLP messages and their lenient twins (sluice.v1.wire.otlp: strings as bytes),
// whose C++ accessors are spelled alike. `Any` is an AnyValue type.
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

template <typename Any>
void SetFieldValue(const Any& value, v1::Field& field) {
  switch (value.value_case()) {
    case Any::kStringValue:
      field.set_string_value(value.string_value());
      break;
    case Any::kBoolValue:
      field.set_bool_value(value.bool_value());
      break;
    case Any::kIntValue:
      field.set_int_value(value.int_value());
      break;
    case Any::kDoubleValue:
      field.set_double_value(value.double_value());
      break;
    case Any::kBytesValue:
      field.set_bytes_value(value.bytes_value());
      break;
    case Any::kArrayValue:
    case Any::kKvlistValue:
      field.set_string_value(ValueToJson(value));
      break;
    case Any::VALUE_NOT_SET:
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
  template <typename KeyValue>
  void Add(const google::protobuf::RepeatedPtrField<KeyValue>& attributes) {
    for (const KeyValue& attribute : attributes) {
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

template <typename Record, typename ResourceLogs, typename ScopeLogs>
void MapRecord(const Record& in, const ResourceLogs& resource_logs, const ScopeLogs& scope_logs,
               FieldMerger& merger, v1::LogRecord& out) {
  using Any = std::decay_t<decltype(in.body())>;
  out.set_time_unix_nano(in.time_unix_nano() != 0 ? in.time_unix_nano()
                                                  : in.observed_time_unix_nano());
  out.set_level(OtlpSeverityToLevel(in.severity_number(), in.severity_text()));
  out.set_logger(scope_logs.scope().name());
  if (in.body().value_case() == Any::kStringValue) {
    out.set_message(in.body().string_value());
  } else if (in.has_body()) {
    out.set_message(ValueToJson(in.body()));
  }
  out.set_trace_id(in.trace_id());
  out.set_span_id(in.span_id());
  merger.Begin(out);
  merger.Add(resource_logs.resource().attributes());
  merger.Add(scope_logs.scope().attributes());
  merger.Add(in.attributes());
}

template <typename Request>
void AppendRecords(const Request& request, const std::vector<bool>& skip,
                   RecordBatch::Records& records) {
  FieldMerger merger;
  size_t index = 0;
  for (const auto& resource_logs : request.resource_logs()) {
    for (const auto& scope_logs : resource_logs.scope_logs()) {
      for (const auto& record : scope_logs.log_records()) {
        const bool skipped = index < skip.size() && skip[index];
        ++index;
        if (skipped) continue;
        MapRecord(record, resource_logs, scope_logs, merger, *records.Add());
      }
    }
  }
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

std::string OtlpValueToJson(const otlp_common::AnyValue& value) { return ValueToJson(value); }

void AppendOtlpRecords(
    const opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest& request,
    RecordBatch::Records& records) {
  AppendRecords(request, {}, records);
}

void AppendOtlpRecords(const v1::wire::otlp::ExportLogsServiceRequest& request,
                       const std::vector<bool>& skip, RecordBatch::Records& records) {
  AppendRecords(request, skip, records);
}

}  // namespace sluice::ingest
