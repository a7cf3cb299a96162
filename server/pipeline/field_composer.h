// FieldComposer: decides which fields a record carries into the outputs, and in what
// order, following DESIGN.md's override order (later wins):
//
//   base fields (config)  <  ad-hoc fields (the record's own `fields`)
//
// and, above all of them, the record's own keys: time, level, logger, message (named by
// PipelineConfig) and, when the record has them, "trace_id" and "span_id". A
// field of a weaker layer with one of those names is dropped; formatters write the
// record's keys themselves, first, and then the composed fields.
//
// Order of the composed fields: the base fields that nothing overrode (config order), then
// the ad-hoc fields, each at the position of its key's first occurrence with the value of
// its last. In general a field sits where its layer first set it. Pre-hook fields (between
// base and ad-hoc) and post-hook fields (after ad-hoc) become further Layers.
//
// Called by RecordFormatter for every record on the worker threads. Compose() is const and
// thread-safe; it allocates nothing once the caller's vector has grown to the usual size.
// Duplicate keys are found by a linear scan, which beats hashing for the few fields
// records usually carry and costs O(n^2) string compares for records with many.
#ifndef SLUICE_SERVER_PIPELINE_FIELD_COMPOSER_H_
#define SLUICE_SERVER_PIPELINE_FIELD_COMPOSER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/pipeline/pipeline_config.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::pipeline {

// Keys of a record's trace context in structured outputs.
inline constexpr absl::string_view kTraceIdKey = "trace_id";
inline constexpr absl::string_view kSpanIdKey = "span_id";

// Where a field came from, weakest first.
enum class Layer : uint8_t {
  kBase,
  kAdHoc,
};

// One field of a composed record. A view: valid while the record and the composer live.
struct ComposedField {
  absl::string_view key;
  // The typed value of an ad-hoc field; null for a base field, whose value is `text`.
  const v1::Field* field = nullptr;
  absl::string_view text;
  Layer layer = Layer::kBase;
};

class FieldComposer {
 public:
  explicit FieldComposer(const PipelineConfig& config);

  // Replaces `*out` with the composed fields of `record`, the record's own keys excluded.
  void Compose(const v1::LogRecord& record, std::vector<ComposedField>* out) const;

  absl::string_view time_key() const { return time_key_; }
  absl::string_view level_key() const { return level_key_; }
  absl::string_view logger_key() const { return logger_key_; }
  absl::string_view message_key() const { return message_key_; }

 private:
  // Whether `key` is one of the record's own keys, which no field may override.
  bool IsRecordKey(absl::string_view key, const v1::LogRecord& record) const;
  // Adds `field`, overriding an earlier field with its key (see the top). Layers are put
  // weakest first.
  static void Put(const ComposedField& field, std::vector<ComposedField>* out);

  std::string time_key_;
  std::string level_key_;
  std::string logger_key_;
  std::string message_key_;
  // The base layer, composed once: duplicates resolved, the record's fixed keys removed.
  std::vector<std::pair<std::string, std::string>> base_fields_;
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_FIELD_COMPOSER_H_
