// FormattedBatch: a RecordBatch as the outputs see it (outputs::OutputBatch), formatting
// its lines lazily and once per encoding.
//
// The pipeline wraps each batch in one FormattedBatch on its worker and hands it to every
// output. Lines(encoding, min_level) formats on the first request and returns the same
// string on later ones, so the file and console outputs asking for JSON at INFO share one
// formatting pass. Thresholds that admit the same records share their lines too: with
// only INFO and ERROR records, Lines(kJsonEncoding, kTrace) and Lines(kJsonEncoding,
// kInfo) are one string. Any number of registered encodings is cached alike (one slot per
// encoding and level); the slots of the two built-in ones live inside the object, so a
// batch allocates only for its lines. Level counts are taken once at construction, so
// CountAtLeast() is O(1).
//
// Used by one worker thread at a time, like the RecordFormatter it borrows. The batch and
// the formatter must outlive it; the views it returns live as long as it does.
#ifndef SLUICE_SERVER_PIPELINE_FORMATTED_BATCH_H_
#define SLUICE_SERVER_PIPELINE_FORMATTED_BATCH_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include "absl/container/fixed_array.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/common/record_batch.h"
#include "server/outputs/output.h"
#include "server/pipeline/record_formatter.h"
#include "sluice/level.h"

namespace sluice::pipeline {

class FormattedBatch final : public outputs::OutputBatch {
 public:
  // `layers`, when not empty, holds each record's field layers (HookChain); empty, every
  // field is ad-hoc. It must outlive the object.
  FormattedBatch(const RecordBatch& records, RecordFormatter& formatter,
                 absl::Span<const FieldLayers> layers = {});

  FormattedBatch(const FormattedBatch&) = delete;
  FormattedBatch& operator=(const FormattedBatch&) = delete;

  const RecordBatch& records() const override { return records_; }
  // Aborts for an encoding the formatter does not have: the outputs and the pipeline were
  // built from different registries.
  absl::string_view Lines(outputs::EncodingId encoding, Level min_level) override;
  size_t CountAtLeast(Level min_level) const override;

 private:
  static constexpr size_t kLevels = std::size(kAllLevels);
  // Encodings whose slots need no allocation: the built-in text and json.
  static constexpr size_t kInlineEncodings = 2;

  static size_t LevelIndex(Level level) { return static_cast<size_t>(level) - 1; }

  const RecordBatch& records_;
  RecordFormatter& formatter_;
  absl::Span<const FieldLayers> layers_;
  // count_at_least_[LevelIndex(l)]: records at level l or above.
  std::array<size_t, kLevels> count_at_least_{};
  // Lines per encoding and lowest level they hold, at EncodingIndex * kLevels + level; sized
  // once, so views stay valid.
  absl::FixedArray<std::optional<std::string>, kInlineEncodings * kLevels> lines_;
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_FORMATTED_BATCH_H_
