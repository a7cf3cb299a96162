// The post-hooks that change a record's fields: add_fields, rename, drop_fields and
// keep_fields. Their factories are listed in builtin_hooks.cc; docs/CONFIG.md documents
// their keys from the factories' tables.
//
// They act on the record's fields, the application's, the pre-hooks' and earlier
// post-hooks', not on the base fields (pipeline.base_fields), which the composer adds
// beneath them after the hooks.
// Fields they set or rename are post-hook fields and win over ad-hoc fields with the same
// key.
#ifndef SLUICE_SERVER_PIPELINE_HOOKS_FIELD_HOOKS_H_
#define SLUICE_SERVER_PIPELINE_HOOKS_FIELD_HOOKS_H_

#include <memory>
#include <string>
#include <vector>

#include "server/pipeline/hooks/hook.h"

namespace sluice::pipeline::hooks {

// Sets static string fields. A value `${env:NAME}` is the server's environment variable
// NAME, read once at start-up; an unset one is a start-up error.
class AddFieldsHookFactory final : public HookFactory {
 public:
  absl::string_view type() const override { return "add_fields"; }
  HookPhase phase() const override { return HookPhase::kPost; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Hook>> Create(std::string id, const YAML::Node& config,
                                               const std::string& config_path) const override;
};

// Renames fields, `from: to`; a field that is absent is left alone.
class RenameHookFactory final : public HookFactory {
 public:
  absl::string_view type() const override { return "rename"; }
  HookPhase phase() const override { return HookPhase::kPost; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Hook>> Create(std::string id, const YAML::Node& config,
                                               const std::string& config_path) const override;
};

// Removes the listed fields (`drop_fields`), or every field but the listed ones
// (`keep_fields`).
class SelectFieldsHookFactory final : public HookFactory {
 public:
  // `keep` chooses keep_fields over drop_fields.
  explicit SelectFieldsHookFactory(bool keep) : keep_(keep) {}
  absl::string_view type() const override { return keep_ ? "keep_fields" : "drop_fields"; }
  HookPhase phase() const override { return HookPhase::kPost; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Hook>> Create(std::string id, const YAML::Node& config,
                                               const std::string& config_path) const override;

 private:
  const bool keep_;
};

}  // namespace sluice::pipeline::hooks

#endif  // SLUICE_SERVER_PIPELINE_HOOKS_FIELD_HOOKS_H_
