#include "server/pipeline/field_composer.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace sluice::pipeline {

FieldComposer::FieldComposer(const PipelineConfig& config)
    : time_key_(config.time_key),
      level_key_(config.level_key),
      logger_key_(config.logger_key),
      message_key_(config.message_key),
      keys_{time_key_, level_key_, logger_key_, message_key_} {
  for (const auto& [key, value] : config.base_fields) {
    if (key == time_key_ || key == level_key_ || key == logger_key_ || key == message_key_) {
      continue;
    }
    auto same_key = [&key = key](const std::pair<std::string, std::string>& field) {
      return field.first == key;
    };
    auto it = std::find_if(base_fields_.begin(), base_fields_.end(), same_key);
    if (it != base_fields_.end()) {
      it->second = value;
    } else {
      base_fields_.emplace_back(key, value);
    }
  }
}

void FieldComposer::Compose(const v1::LogRecord& record, std::vector<outputs::ComposedField>* out,
                            FieldLayers layers) const {
  out->clear();
  for (const auto& [key, value] : base_fields_) {
    if (IsRecordKey(key, record)) continue;
    out->push_back(outputs::ComposedField{key, nullptr, value, outputs::Layer::kBase});
  }
  const int size = record.fields_size();
  const int adhoc_end = std::min(layers.adhoc_end, size);
  const int pre_end = std::clamp(layers.pre_end, adhoc_end, size);
  PutRange(record, adhoc_end, pre_end, outputs::Layer::kPreHook, out);
  PutRange(record, 0, adhoc_end, outputs::Layer::kAdHoc, out);
  PutRange(record, pre_end, size, outputs::Layer::kPostHook, out);
}

void FieldComposer::PutRange(const v1::LogRecord& record, int begin, int end, outputs::Layer layer,
                             std::vector<outputs::ComposedField>* out) const {
  for (int i = begin; i < end; ++i) {
    const v1::Field& field = record.fields(i);
    if (IsRecordKey(field.key(), record)) continue;
    Put(outputs::ComposedField{field.key(), &field, {}, layer}, out);
  }
}

outputs::ComposedRecord FieldComposer::ComposeRecord(const v1::LogRecord& record,
                                                     absl::Time received_at,
                                                     std::vector<outputs::ComposedField>* fields,
                                                     FieldLayers layers) const {
  Compose(record, fields, layers);
  int64_t nanos = 0;
  if (record.time_unix_nano() == 0) {
    nanos = absl::ToUnixNanos(received_at);
  } else if (record.time_unix_nano() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    nanos = std::numeric_limits<int64_t>::max();
  } else {
    nanos = static_cast<int64_t>(record.time_unix_nano());
  }
  return outputs::ComposedRecord{.time_unix_nanos = nanos,
                                 .level = RecordLevel(record),
                                 .logger = record.logger(),
                                 .message = record.message(),
                                 .trace_id = record.trace_id(),
                                 .span_id = record.span_id(),
                                 .keys = &keys_,
                                 .fields = *fields,
                                 .otlp = record.has_otlp() ? &record.otlp() : nullptr};
}

bool FieldComposer::IsRecordKey(absl::string_view key, const v1::LogRecord& record) const {
  return key == time_key_ || key == level_key_ || key == logger_key_ || key == message_key_ ||
         (key == outputs::kTraceIdKey && !record.trace_id().empty()) ||
         (key == outputs::kSpanIdKey && !record.span_id().empty());
}

void FieldComposer::Put(const outputs::ComposedField& field,
                        std::vector<outputs::ComposedField>* out) {
  for (auto it = out->begin(); it != out->end(); ++it) {
    if (it->key != field.key) continue;
    if (it->layer == field.layer) {
      *it = field;
      return;
    }
    // A stronger layer takes the key over at its own position.
    out->erase(it);
    break;
  }
  out->push_back(field);
}

}  // namespace sluice::pipeline
