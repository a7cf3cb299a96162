// The `redact` post-hook: replaces what its regular expressions match in chosen string
// fields and in the message. RE2 (linear time, no backtracking) so hostile input cannot
// stall a worker. Listed in builtin_hooks.cc.
#ifndef SLUICE_SERVER_PIPELINE_HOOKS_REDACT_HOOK_H_
#define SLUICE_SERVER_PIPELINE_HOOKS_REDACT_HOOK_H_

#include <memory>
#include <string>
#include <vector>

#include "server/pipeline/hooks/hook.h"

namespace sluice::pipeline::hooks {

class RedactHookFactory final : public HookFactory {
 public:
  absl::string_view type() const override { return "redact"; }
  HookPhase phase() const override { return HookPhase::kPost; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Hook>> Create(std::string id, const YAML::Node& config,
                                               const std::string& config_path) const override;
};

}  // namespace sluice::pipeline::hooks

#endif  // SLUICE_SERVER_PIPELINE_HOOKS_REDACT_HOOK_H_
