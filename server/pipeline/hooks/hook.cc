#include "server/pipeline/hooks/hook.h"

namespace sluice::pipeline::hooks {

v1::Field& HookRecord::SetPostField(absl::string_view key) {
  auto& fields = *record_.mutable_fields();
  for (int i = adhoc_fields_; i < fields.size(); ++i) {
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
  for (int i = 0; i < fields.size(); ++i) {
    if (remove(fields[i])) continue;
    if (i < adhoc_fields_) ++kept_adhoc;
    if (kept != i) fields.SwapElements(kept, i);
    ++kept;
  }
  if (kept < fields.size()) fields.DeleteSubrange(kept, fields.size() - kept);
  adhoc_fields_ = kept_adhoc;
}

void HookRecord::RenameField(int index, absl::string_view key) {
  auto& fields = *record_.mutable_fields();
  v1::Field renamed = std::move(fields[index]);
  renamed.set_key(key.data(), key.size());
  fields.DeleteSubrange(index, 1);
  if (index < adhoc_fields_) --adhoc_fields_;
  // A post-hook field with the new key is replaced, so the layer keeps one field per key.
  for (int i = adhoc_fields_; i < fields.size(); ++i) {
    if (fields[i].key() == key) {
      fields[i] = std::move(renamed);
      return;
    }
  }
  *fields.Add() = std::move(renamed);
}

}  // namespace sluice::pipeline::hooks
