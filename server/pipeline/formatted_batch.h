// FormattedBatch: a RecordBatch as the outputs see it, formatting its lines lazily and once
// per encoding and selection of records.
//
// The pipeline wraps each batch in one FormattedBatch on its worker, Selects for each output
// the records routed to it (its level, and its `loggers` and `match` if any) and hands the
// output a View of that selection (an outputs::OutputBatch). Lines are formatted on the
// first request and the same string is returned on later ones, so the file and console
// outputs asking for JSON at INFO share one formatting pass. Thresholds that admit the same
// records share their lines too: with only INFO and ERROR records, `level: trace` and
// `level: info` are one selection and one string. A route with `loggers` or `match` is a
// mask of its records; equal masks are one selection, so two outputs routed alike format
// once per encoding, and a mask that keeps every record of its level is that level's
// selection. Any number of registered encodings is cached alike; the level slots of the two
// built-in ones live inside the object, so without routes a batch allocates only for its
// lines (a mask allocates its bits and its slots). Level counts are taken once at
// construction, so counting a level selection is O(1).
//
// Used by one worker thread at a time, like the RecordFormatter it borrows, until Seal();
// then only read, by any number of threads. The batch and
// the formatter must outlive it; the views it returns live as long as it does.
#ifndef SLUICE_SERVER_PIPELINE_FORMATTED_BATCH_H_
#define SLUICE_SERVER_PIPELINE_FORMATTED_BATCH_H_

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/fixed_array.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/common/record_batch.h"
#include "server/outputs/output.h"
#include "server/pipeline/hooks/record_match.h"
#include "server/pipeline/record_formatter.h"
#include "sluice/level.h"

namespace sluice::pipeline {

class FormattedBatch final {
 public:
  // Which records of the batch one output takes, as Select made it. Default: none.
  struct Selection {
    int slot = kNone;
    bool operator==(const Selection&) const = default;
  };

  // A selection as its output sees it. Cheap; lives no longer than the batch.
  class View final : public outputs::OutputBatch {
   public:
    View(FormattedBatch& batch, Selection selection) : batch_(batch), selection_(selection) {}

    const RecordBatch& records() const override { return batch_.records_; }
    bool takes(int index) const override { return batch_.Takes(selection_, index); }
    size_t count() const override { return batch_.Count(selection_); }
    FieldLayers layers(int index) const override { return batch_.Layers(index); }
    absl::string_view Lines(outputs::EncodingId encoding) override {
      return batch_.Lines(encoding, selection_);
    }

   private:
    FormattedBatch& batch_;
    const Selection selection_;
  };

  // `layers`, when not empty, holds each record's field layers (HookChain); empty, every
  // field is ad-hoc. It must outlive the object.
  FormattedBatch(const RecordBatch& records, RecordFormatter& formatter,
                 absl::Span<const FieldLayers> layers = {});

  FormattedBatch(const FormattedBatch&) = delete;
  FormattedBatch& operator=(const FormattedBatch&) = delete;

  const RecordBatch& records() const { return records_; }
  size_t CountAtLeast(Level min_level) const;

  // The records at or above `min_level`.
  Selection Select(Level min_level);
  // The records at or above `min_level` that `route` matches (the fields it compares are
  // the ones the outputs show). `route` is not kept.
  Selection Select(Level min_level, const hooks::RecordMatch& route);

  bool Takes(Selection selection, int index) const;
  // Record `index`'s field layers: as given, or all ad-hoc when none were.
  FieldLayers Layers(int index) const;
  size_t Count(Selection selection) const;
  // How many records at least one of `selections` takes.
  size_t CountUnion(absl::Span<const Selection> selections) const;

  // The selected records, one line each in `encoding`. Aborts for an encoding the
  // formatter does not have: the outputs and the pipeline were built from different
  // registries.
  absl::string_view Lines(outputs::EncodingId encoding, Selection selection);

  // Ends the worker's part: no more Select, and Lines only returns lines already formatted
  // (aborting for others), so that the output senders may read the batch from their own
  // threads at once while nothing in it changes.
  void Seal() { sealed_ = true; }

 private:
  static constexpr size_t kLevels = std::size(kAllLevels);
  // Encodings whose slots need no allocation: the built-in text and json.
  static constexpr size_t kInlineEncodings = 2;
  // Slots: kNone; a level, by LevelIndex; kLevels + the index of a mask in masks_.
  static constexpr int kNone = -1;

  struct Mask {
    Mask(std::vector<bool> takes, size_t count, size_t encodings)
        : takes(std::move(takes)), count(count), lines(encodings) {}

    std::vector<bool> takes;
    size_t count;
    // Lines per EncodingIndex.
    absl::FixedArray<std::optional<std::string>, kInlineEncodings> lines;
  };

  static size_t LevelIndex(Level level) { return static_cast<size_t>(level) - 1; }

  void AbortIfSealed(size_t encoding_index) const;

  // Formats the records `take` accepts into `lines`.
  template <typename Take>
  void Format(outputs::EncodingId encoding, const Take& take, std::string& lines);

  const RecordBatch& records_;
  RecordFormatter& formatter_;
  absl::Span<const FieldLayers> layers_;
  // count_at_least_[LevelIndex(l)]: records at level l or above.
  std::array<size_t, kLevels> count_at_least_{};
  // Lines per encoding and lowest level they hold, at EncodingIndex * kLevels + level; sized
  // once, so views stay valid.
  absl::FixedArray<std::optional<std::string>, kInlineEncodings * kLevels> lines_;
  // Behind pointers so that a new mask does not move the lines of the others.
  std::vector<std::unique_ptr<Mask>> masks_;
  bool sealed_ = false;
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_FORMATTED_BATCH_H_
