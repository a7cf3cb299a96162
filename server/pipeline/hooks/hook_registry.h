// HookRegistry: how the `hooks: { pre, post }` lists of the config become Hook objects.
//
// server/app builds one registry at start-up, calls RegisterBuiltinHooks()
// (builtin_hooks.h) and then CreateAll for each phase; any error aborts start-up. A type
// is known to one phase only: an entry of `hooks.post` naming a pre-hook type, or an
// unknown one, is INVALID_ARGUMENT listing the types of that phase. The reference
// generator (server/config/config_reference.h) documents every registered type.
//
// Not thread-safe: registration and creation happen on the start-up thread.
#ifndef SLUICE_SERVER_PIPELINE_HOOKS_HOOK_REGISTRY_H_
#define SLUICE_SERVER_PIPELINE_HOOKS_HOOK_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/config/config.h"
#include "server/pipeline/hooks/hook.h"

namespace sluice::pipeline::hooks {

class HookRegistry {
 public:
  // Registering a type twice is a programming error: it aborts naming the type.
  void Register(std::unique_ptr<HookFactory>&& factory);

  // Creates the hooks of `configs`, in order, as hooks of `phase`; the first error wins.
  absl::StatusOr<std::vector<std::unique_ptr<Hook>>> CreateAll(
      HookPhase phase, const std::vector<config::HookConfig>& configs) const;

  // The registered types of `phase`, sorted.
  std::vector<std::string> types(HookPhase phase) const;

  // The factory of `type`, or nullptr.
  const HookFactory* factory(absl::string_view type) const;

 private:
  std::map<std::string, std::unique_ptr<HookFactory>, std::less<>> factories_;
};

}  // namespace sluice::pipeline::hooks

#endif  // SLUICE_SERVER_PIPELINE_HOOKS_HOOK_REGISTRY_H_
