#include "server/pipeline/formatted_batch.h"

#include <cstdio>
#include <cstdlib>

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

absl::string_view FormattedBatch::Lines(outputs::EncodingId encoding, Level min_level) {
  const size_t encoding_index = outputs::EncodingIndex(encoding);
  if (encoding_index >= formatter_.encodings()) {
    std::fprintf(stderr, "lines asked for encoding %zu of %zu\n", encoding_index,
                 formatter_.encodings());
    std::abort();
  }
  // Raise the threshold to the lowest level present at or above it: same records, same
  // lines, one cache slot.
  size_t level = LevelIndex(min_level);
  const size_t count = count_at_least_[level];
  if (count == 0) return {};
  while (level + 1 < kLevels && count_at_least_[level + 1] == count) ++level;

  std::optional<std::string>& lines = lines_[encoding_index * kLevels + level];
  if (lines.has_value()) return *lines;
  lines.emplace();
  const Level threshold = kAllLevels[level];
  size_t estimate = 0;
  for (const v1::LogRecord& record : records_.records()) {
    if (RecordLevel(record) >= threshold) estimate += EstimateLineBytes(record);
  }
  lines->reserve(estimate);
  for (int i = 0; i < records_.records().size(); ++i) {
    const v1::LogRecord& record = records_.records()[i];
    if (RecordLevel(record) < threshold) continue;
    formatter_.Append(encoding, record, records_.received_at(), &*lines,
                      layers_.empty() ? FieldLayers{} : layers_[static_cast<size_t>(i)]);
  }
  return *lines;
}

}  // namespace sluice::pipeline
