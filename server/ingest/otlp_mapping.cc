#include "server/ingest/otlp_mapping.h"

#include <string>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "server/common/otlp_values.h"
#include "sluice/level.h"

namespace sluice::ingest {
namespace {

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
      field.set_string_value(OtlpValueToJson(value));
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

// The keys of `attributes` as v1::OtlpOrigin lists them: non-empty, each once.
template <typename KeyValue>
std::string KeyList(const google::protobuf::RepeatedPtrField<KeyValue>& attributes) {
  std::string keys;
  for (int i = 0; i < attributes.size(); ++i) {
    const auto& key = attributes[i].key();
    if (key.empty() || HasOtlpKey(keys, key)) continue;
    AppendLengthPrefixed(key, &keys);
  }
  return keys;
}

// What the records of one ScopeLogs share in their origin, worked out once for all of them.
struct SharedOrigin {
  std::string resource_keys;
  std::string scope_keys;
};

template <typename Record, typename ResourceLogs, typename ScopeLogs>
void MapRecord(const Record& in, const ResourceLogs& resource_logs, const ScopeLogs& scope_logs,
               const SharedOrigin& shared, FieldMerger& merger, v1::LogRecord& out) {
  using Any = std::decay_t<decltype(in.body())>;
  v1::OtlpOrigin& origin = *out.mutable_otlp();
  out.set_time_unix_nano(in.time_unix_nano() != 0 ? in.time_unix_nano()
                                                  : in.observed_time_unix_nano());
  origin.set_time_unset(in.time_unix_nano() == 0);
  origin.set_observed_time_unix_nano(in.observed_time_unix_nano());
  const v1::Level level = OtlpSeverityToLevel(in.severity_number(), in.severity_text());
  out.set_level(level);
  origin.set_severity_number(in.severity_number());
  // Most SDKs send the level's own name: a flag instead of a string to allocate.
  const absl::StatusOr<Level> named = LevelFromProto(level);
  if (named.ok() && in.severity_text() == LevelName(*named)) {
    origin.set_severity_text_is_level_name(true);
  } else if (!in.severity_text().empty()) {
    origin.set_severity_text(in.severity_text());
  }
  out.set_logger(scope_logs.scope().name());
  if (!scope_logs.scope().version().empty()) {
    origin.set_scope_version(scope_logs.scope().version());
  }
  if (!scope_logs.schema_url().empty()) origin.set_scope_schema_url(scope_logs.schema_url());
  if (!resource_logs.schema_url().empty()) {
    origin.set_resource_schema_url(resource_logs.schema_url());
  }
  if (!shared.resource_keys.empty()) origin.set_resource_keys(shared.resource_keys);
  if (!shared.scope_keys.empty()) origin.set_scope_keys(shared.scope_keys);
  if (in.body().value_case() == Any::kStringValue) {
    out.set_message(in.body().string_value());
  } else if (in.has_body()) {
    out.set_message(OtlpValueToJson(in.body()));
    in.body().SerializeToString(origin.mutable_body());
  }
  origin.set_flags(in.flags());
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
  SharedOrigin shared;
  for (const auto& resource_logs : request.resource_logs()) {
    shared.resource_keys = KeyList(resource_logs.resource().attributes());
    for (const auto& scope_logs : resource_logs.scope_logs()) {
      shared.scope_keys = KeyList(scope_logs.scope().attributes());
      for (const auto& record : scope_logs.log_records()) {
        const bool skipped = index < skip.size() && skip[index];
        ++index;
        if (skipped) continue;
        MapRecord(record, resource_logs, scope_logs, shared, merger, *records.Add());
      }
    }
  }
}

}  // namespace

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
