// FieldComposer: decides which fields a record carries into the outputs, and in what
// order, following DESIGN.md's override order (later wins):
//
//   base fields (config)  <  pre-hook fields  <  ad-hoc fields (the application's)
//     <  post-hook fields
//
// The three layers after the base one are the record's `fields`, told apart by the
// record's FieldLayers (server/common/field_layers.h): pre-hooks append their fields after
// the application's, post-hooks after the pre-hooks' (HookRecord), and the pipeline passes
// where each layer starts.
//
// And, above all of them, the record's own keys: time, level, logger, message (named by
// PipelineConfig) and, when the record has them, "trace_id" and "span_id". A
// field of a weaker layer with one of those names is dropped; formatters write the
// record's keys themselves, first, and then the composed fields.
//
// The one place that decides what a record says: ComposeRecord() hands every encoder
// (outputs/encoder.h) the same composed record, so encoders only serialize.
//
// Order of the composed fields: the layers are put weakest first (base, pre-hook, ad-hoc,
// post-hook). Within a layer a key sits at its first occurrence with the value of its last;
// a stronger layer takes a key over at its own position. So: the base fields nothing
// overrode (config order), then the pre-hook fields nothing overrode, then the ad-hoc
// fields, then the post-hook fields.
//
// Called by RecordFormatter for every record on the worker threads. Compose() and
// ComposeRecord() are const and thread-safe; it allocates nothing once the caller's vector has
// grown to the usual size. Duplicate keys are found by a linear scan, which beats hashing for the
// few fields records usually carry and costs O(n^2) string compares for records with many.
#ifndef SLUICE_SERVER_PIPELINE_FIELD_COMPOSER_H_
#define SLUICE_SERVER_PIPELINE_FIELD_COMPOSER_H_

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/field_layers.h"
#include "server/outputs/encoder.h"
#include "server/pipeline/pipeline_config.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::pipeline {

class FieldComposer {
 public:
  explicit FieldComposer(const PipelineConfig& config);

  // keys() points into the composer.
  FieldComposer(const FieldComposer&) = delete;
  FieldComposer& operator=(const FieldComposer&) = delete;

  // Replaces `*out` with the composed fields of `record`, the record's own keys excluded.
  // `layers` says which of the record's fields are of which layer; by default all are
  // ad-hoc.
  void Compose(const v1::LogRecord& record, std::vector<outputs::ComposedField>* out,
               FieldLayers layers = {}) const;

  // `record` as the encoders see it: its time (the receive time `received_at` when it has
  // none), its level (RecordLevel), its own values, the configured key names, and its
  // composed fields, which are put into `*fields` (scratch the caller reuses). The result
  // views `record`, `*fields` and the composer.
  outputs::ComposedRecord ComposeRecord(const v1::LogRecord& record, absl::Time received_at,
                                        std::vector<outputs::ComposedField>* fields,
                                        FieldLayers layers = {}) const;

  // The configured names of the record's own keys.
  const outputs::RecordKeys& keys() const { return keys_; }

 private:
  // Whether `key` is one of the record's own keys, which no field may override.
  bool IsRecordKey(absl::string_view key, const v1::LogRecord& record) const;
  // Puts the record's fields [begin, end) as `layer`.
  void PutRange(const v1::LogRecord& record, int begin, int end, outputs::Layer layer,
                std::vector<outputs::ComposedField>* out) const;
  // Adds `field`, overriding an earlier field with its key (see the top). Layers are put
  // weakest first.
  static void Put(const outputs::ComposedField& field, std::vector<outputs::ComposedField>* out);

  std::string time_key_;
  std::string level_key_;
  std::string logger_key_;
  std::string message_key_;
  // Views of the four strings above.
  outputs::RecordKeys keys_;
  // The base layer, composed once: duplicates resolved, the record's fixed keys removed.
  std::vector<std::pair<std::string, std::string>> base_fields_;
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_FIELD_COMPOSER_H_
