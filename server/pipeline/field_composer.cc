#include "server/pipeline/field_composer.h"

#include <algorithm>

namespace sluice::pipeline {

FieldComposer::FieldComposer(const PipelineConfig& config)
    : time_key_(config.time_key),
      level_key_(config.level_key),
      logger_key_(config.logger_key),
      message_key_(config.message_key) {
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

void FieldComposer::Compose(const v1::LogRecord& record, std::vector<ComposedField>* out) const {
  out->clear();
  for (const auto& [key, value] : base_fields_) {
    if (IsRecordKey(key, record)) continue;
    out->push_back(ComposedField{key, nullptr, value, Layer::kBase});
  }
  for (const v1::Field& field : record.fields()) {
    if (IsRecordKey(field.key(), record)) continue;
    Put(ComposedField{field.key(), &field, {}, Layer::kAdHoc}, out);
  }
}

bool FieldComposer::IsRecordKey(absl::string_view key, const v1::LogRecord& record) const {
  return key == time_key_ || key == level_key_ || key == logger_key_ || key == message_key_ ||
         (key == kTraceIdKey && !record.trace_id().empty()) ||
         (key == kSpanIdKey && !record.span_id().empty());
}

void FieldComposer::Put(const ComposedField& field, std::vector<ComposedField>* out) {
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
