#include "server/common/field_layers.h"

#include <algorithm>

namespace sluice {

int ShownFieldIndex(const v1::LogRecord& record, absl::string_view key, FieldLayers layers) {
  // The layers' ends may lie past the fields (FieldLayers::kAll).
  const int size = record.fields_size();
  const int adhoc_end = std::min(layers.adhoc_end, size);
  const int pre_end = std::clamp(layers.pre_end, adhoc_end, size);
  const auto last_in = [&](int begin, int end) {
    for (int i = end - 1; i >= begin; --i) {
      if (record.fields(i).key() == key) return i;
    }
    return -1;
  };
  if (const int post = last_in(pre_end, size); post >= 0) return post;
  if (const int adhoc = last_in(0, adhoc_end); adhoc >= 0) return adhoc;
  return last_in(adhoc_end, pre_end);
}

}  // namespace sluice
