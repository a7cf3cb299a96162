// The `drop` post-hook: removes the records that match all of its conditions — a level at
// most `level_at_most`, a logger under one of `loggers`, fields equal to `equals` and
// matching `match` (record_match.h, shared with the output routes) — so two
// drop hooks drop the records either matches. Listed in builtin_hooks.cc.
#ifndef SLUICE_SERVER_PIPELINE_HOOKS_DROP_HOOK_H_
#define SLUICE_SERVER_PIPELINE_HOOKS_DROP_HOOK_H_

#include <memory>
#include <string>
#include <vector>

#include "server/pipeline/hooks/hook.h"

namespace sluice::pipeline::hooks {

class DropHookFactory final : public HookFactory {
 public:
  absl::string_view type() const override { return "drop"; }
  HookPhase phase() const override { return HookPhase::kPost; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Hook>> Create(std::string id, const YAML::Node& config,
                                               const std::string& config_path) const override;
};

}  // namespace sluice::pipeline::hooks

#endif  // SLUICE_SERVER_PIPELINE_HOOKS_DROP_HOOK_H_
