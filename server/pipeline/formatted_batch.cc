#include "server/pipeline/formatted_batch.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace sluice::pipeline {
namespace {

// A guess at a line's size that saves most re-allocations of the batch's string.
size_t EstimateLineBytes(const v1::LogRecord& record) {
  return 96 + record.logger().size() + record.message().size() +
         32 * static_cast<size_t>(record.fields_size());
}

}  // namespace

FormattedBatch::FormattedBatch(const RecordBatch& records, RecordFormatter& formatter,
                               absl::Span<const FieldLayers> layers)
    : records_(records),
      formatter_(formatter),
      layers_(layers),
      lines_(formatter.encodings() * kLevels) {
  for (const v1::LogRecord& record : records_.records()) {
    ++count_at_least_[LevelIndex(RecordLevel(record))];
  }
  for (size_t i = kLevels - 1; i > 0; --i) count_at_least_[i - 1] += count_at_least_[i];
}

size_t FormattedBatch::CountAtLeast(Level min_level) const {
  return count_at_least_[LevelIndex(min_level)];
}

FormattedBatch::Selection FormattedBatch::Select(Level min_level) {
  // Raise the threshold to the lowest level present at or above it: same records, same
  // selection, one cache slot.
  size_t level = LevelIndex(min_level);
  const size_t count = count_at_least_[level];
  if (count == 0) return {};
  while (level + 1 < kLevels && count_at_least_[level + 1] == count) ++level;
  return {static_cast<int>(level)};
}

FormattedBatch::Selection FormattedBatch::Select(Level min_level, const hooks::RecordMatch& route) {
  const Selection by_level = Select(min_level);
  if (route.empty() || by_level.slot == kNone) return by_level;
  const auto& records = records_.records();
  std::vector<bool> takes(static_cast<size_t>(records.size()));
  size_t count = 0;
  for (int i = 0; i < records.size(); ++i) {
    const v1::LogRecord& record = records[i];
    if (RecordLevel(record) < min_level) continue;
    if (!route.Matches(record, layers_.empty() ? FieldLayers{} : layers_[static_cast<size_t>(i)])) {
      continue;
    }
    takes[static_cast<size_t>(i)] = true;
    ++count;
  }
  if (count == 0) return {};
  // Every record of the level matched: the level's lines serve this output too.
  if (count == Count(by_level)) return by_level;
  for (size_t m = 0; m < masks_.size(); ++m) {
    if (masks_[m]->count == count && masks_[m]->takes == takes) {
      return {static_cast<int>(kLevels + m)};
    }
  }
  masks_.push_back(std::make_unique<Mask>(std::move(takes), count, formatter_.encodings()));
  return {static_cast<int>(kLevels + masks_.size() - 1)};
}

bool FormattedBatch::Takes(Selection selection, int index) const {
  if (selection.slot == kNone) return false;
  const auto slot = static_cast<size_t>(selection.slot);
  if (slot < kLevels) return LevelIndex(RecordLevel(records_.records()[index])) >= slot;
  return masks_[slot - kLevels]->takes[static_cast<size_t>(index)];
}

FieldLayers FormattedBatch::Layers(int index) const {
  if (layers_.empty()) return FieldLayers::AllAdHoc(records_.records()[index].fields_size());
  return layers_[static_cast<size_t>(index)];
}

size_t FormattedBatch::Count(Selection selection) const {
  if (selection.slot == kNone) return 0;
  const auto slot = static_cast<size_t>(selection.slot);
  if (slot < kLevels) return count_at_least_[slot];
  return masks_[slot - kLevels]->count;
}

size_t FormattedBatch::CountUnion(absl::Span<const Selection> selections) const {
  // Level selections nest, so without masks the union is the lowest level's records.
  size_t lowest = kLevels;
  bool masked = false;
  for (const Selection selection : selections) {
    if (selection.slot == kNone) continue;
    const auto slot = static_cast<size_t>(selection.slot);
    if (slot < kLevels) {
      lowest = std::min(lowest, slot);
    } else {
      masked = true;
    }
  }
  if (!masked) return lowest == kLevels ? 0 : count_at_least_[lowest];
  size_t count = 0;
  for (int i = 0; i < records_.records().size(); ++i) {
    for (const Selection selection : selections) {
      if (Takes(selection, i)) {
        ++count;
        break;
      }
    }
  }
  return count;
}

template <typename Take>
void FormattedBatch::Format(outputs::EncodingId encoding, const Take& take, std::string& lines) {
  const auto& records = records_.records();
  size_t estimate = 0;
  for (int i = 0; i < records.size(); ++i) {
    if (take(i)) estimate += EstimateLineBytes(records[i]);
  }
  lines.reserve(estimate);
  for (int i = 0; i < records.size(); ++i) {
    if (!take(i)) continue;
    formatter_.Append(encoding, records[i], records_.received_at(), &lines,
                      layers_.empty() ? FieldLayers{} : layers_[static_cast<size_t>(i)]);
  }
}

void FormattedBatch::AbortIfSealed(size_t encoding_index) const {
  if (!sealed_) return;
  std::fprintf(stderr,
               "lines asked for encoding %zu after the batch left its worker: an output asks "
               "Lines() for an encoding other than the one its encoding() declares\n",
               encoding_index);
  std::abort();
}

absl::string_view FormattedBatch::Lines(outputs::EncodingId encoding, Selection selection) {
  const size_t encoding_index = outputs::EncodingIndex(encoding);
  if (encoding_index >= formatter_.encodings()) {
    std::fprintf(stderr, "lines asked for encoding %zu of %zu\n", encoding_index,
                 formatter_.encodings());
    std::abort();
  }
  if (selection.slot == kNone) return {};
  const auto slot = static_cast<size_t>(selection.slot);
  if (slot >= kLevels) {
    Mask& mask = *masks_[slot - kLevels];
    std::optional<std::string>& lines = mask.lines[encoding_index];
    if (lines.has_value()) return *lines;
    AbortIfSealed(encoding_index);
    lines.emplace();
    Format(
        encoding, [&mask](int i) { return mask.takes[static_cast<size_t>(i)]; }, *lines);
    return *lines;
  }
  std::optional<std::string>& lines = lines_[encoding_index * kLevels + slot];
  if (lines.has_value()) return *lines;
  AbortIfSealed(encoding_index);
  lines.emplace();
  const Level threshold = kAllLevels[slot];
  const auto& records = records_.records();
  Format(
      encoding, [&](int i) { return RecordLevel(records[i]) >= threshold; }, *lines);
  return *lines;
}

}  // namespace sluice::pipeline
