// FieldLayers: where a record's fields change layer in the override order of DESIGN.md
// (base < pre-hook < ad-hoc < post-hook; FieldComposer applies it).
//
// The layers live in one list, the record's `fields`, in the order they were added: the
// application's (ad-hoc) fields as the client sent them, then the fields pre-hooks set on
// the ingest RPC, then the fields post-hooks set on the worker. Each record's two
// boundaries travel with its batch (RecordBatch::field_layers) from the RPC to the worker,
// where HookChain moves them as post-hooks edit fields and hands them to the formatters.
// A record no hook touched has every field ad-hoc: FieldLayers{}.
#ifndef SLUICE_SERVER_COMMON_FIELD_LAYERS_H_
#define SLUICE_SERVER_COMMON_FIELD_LAYERS_H_

#include <limits>

#include "absl/strings/string_view.h"
#include "sluice/v1/logs.pb.h"

namespace sluice {

struct FieldLayers {
  // Past every field: all of them are in the layers below.
  static constexpr int kAll = std::numeric_limits<int>::max();

  // Fields [0, adhoc_end) are the application's.
  int adhoc_end = kAll;
  // Fields [adhoc_end, pre_end) are pre-hook fields, [pre_end, size) post-hook fields.
  int pre_end = kAll;

  // The layers of a record whose `fields` are all the application's, before any hook.
  static FieldLayers AllAdHoc(int fields) { return FieldLayers{fields, fields}; }

  friend bool operator==(const FieldLayers&, const FieldLayers&) = default;
};

// The index of the field with `key` that the outputs show — the last one of the strongest
// layer that has the key — or -1 when `record` has none. What a hook or a route that reads
// or renames a field by key must look at, so that it agrees with FieldComposer.
int ShownFieldIndex(const v1::LogRecord& record, absl::string_view key, FieldLayers layers);

}  // namespace sluice

#endif  // SLUICE_SERVER_COMMON_FIELD_LAYERS_H_
