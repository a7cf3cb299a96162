#include "server/pipeline/hooks/hook.h"

#include <algorithm>

namespace sluice::pipeline::hooks {

HookRecord::HookRecord(v1::LogRecord& record, HookPhase phase, FieldLayers layers,
                       const HookCall* call)
    : record_(record),
      phase_(phase),
      call_(call),
      adhoc_end_(std::min(layers.adhoc_end, record.fields_size())),
      pre_end_(std::clamp(layers.pre_end, adhoc_end_, record.fields_size())) {}

FieldLayers HookRecord::layers() const {
  return FieldLayers{adhoc_end_, phase_ == HookPhase::kPre ? record_.fields_size() : pre_end_};
}

v1::Field& HookRecord::SetField(absl::string_view key) {
  auto& fields = *record_.mutable_fields();
  for (int i = own_begin(); i < fields.size(); ++i) {
    if (fields[i].key() == key) return fields[i];
  }
  v1::Field* field = fields.Add();
  field->set_key(key.data(), key.size());
  return *field;
}

void HookRecord::RemoveFieldsIf(absl::FunctionRef<bool(const v1::Field&)> remove) {
  auto& fields = *record_.mutable_fields();
  int kept = 0;
  int kept_adhoc = 0;
  int kept_before_post = 0;
  for (int i = 0; i < fields.size(); ++i) {
    if (remove(fields[i])) continue;
    if (i < adhoc_end_) ++kept_adhoc;
    if (i < pre_end_) ++kept_before_post;
    if (kept != i) fields.SwapElements(kept, i);
    ++kept;
  }
  if (kept < fields.size()) fields.DeleteSubrange(kept, fields.size() - kept);
  adhoc_end_ = kept_adhoc;
  pre_end_ = kept_before_post;
}

void HookRecord::RenameField(int index, absl::string_view key) {
  auto& fields = *record_.mutable_fields();
  fields[index].set_key(key.data(), key.size());
  // The renamed field joins the running layer, at its end: moved there by swapping
  // pointers, so that no field is freed or allocated.
  const int last = fields.size() - 1;
  for (int i = index; i < last; ++i) fields.SwapElements(i, i + 1);
  if (index < adhoc_end_) --adhoc_end_;
  if (index < pre_end_) --pre_end_;
  // A field of the running layer with the new key is replaced, so the layer keeps one
  // field per key.
  for (int i = own_begin(); i < last; ++i) {
    if (fields[i].key() == key) {
      fields.SwapElements(i, last);
      fields.DeleteSubrange(last, 1);
      return;
    }
  }
}

}  // namespace sluice::pipeline::hooks
