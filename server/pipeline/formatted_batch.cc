#include "server/pipeline/formatted_batch.h"

namespace sluice::pipeline {
namespace {

// A guess at a line's size that saves most re-allocations of the batch's string.
size_t EstimateLineBytes(const v1::LogRecord& record) {
  return 96 + record.logger().size() + record.message().size() +
         32 * static_cast<size_t>(record.fields_size());
}

}  // namespace

FormattedBatch::FormattedBatch(const RecordBatch& records, RecordFormatter& formatter)
    : records_(records), formatter_(formatter) {
  for (const v1::LogRecord& record : records_.records()) {
    ++count_at_least_[LevelIndex(RecordLevel(record))];
  }
  for (size_t i = kLevels - 1; i > 0; --i) count_at_least_[i - 1] += count_at_least_[i];
}

size_t FormattedBatch::CountAtLeast(Level min_level) const {
  return count_at_least_[LevelIndex(min_level)];
}

absl::string_view FormattedBatch::Lines(outputs::Format format, Level min_level) {
  // Raise the threshold to the lowest level present at or above it: same records, same
  // lines, one cache slot.
  size_t level = LevelIndex(min_level);
  const size_t count = count_at_least_[level];
  if (count == 0) return {};
  while (level + 1 < kLevels && count_at_least_[level + 1] == count) ++level;

  std::optional<std::string>& lines = lines_[static_cast<size_t>(format) * kLevels + level];
  if (lines.has_value()) return *lines;
  lines.emplace();
  const Level threshold = kAllLevels[level];
  size_t estimate = 0;
  for (const v1::LogRecord& record : records_.records()) {
    if (RecordLevel(record) >= threshold) estimate += EstimateLineBytes(record);
  }
  lines->reserve(estimate);
  for (const v1::LogRecord& record : records_.records()) {
    if (RecordLevel(record) < threshold) continue;
    if (format == outputs::Format::kJson) {
      formatter_.AppendJson(record, records_.received_at(), &*lines);
    } else {
      formatter_.AppendText(record, records_.received_at(), &*lines);
    }
  }
  return *lines;
}

}  // namespace sluice::pipeline
