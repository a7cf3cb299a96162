#include "server/pipeline/hooks/hook_registry.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/config/yaml_reader.h"

namespace sluice::pipeline::hooks {
namespace {

absl::string_view PhaseName(HookPhase phase) { return phase == HookPhase::kPre ? "pre" : "post"; }

}  // namespace

void HookRegistry::Register(std::unique_ptr<HookFactory>&& factory) {
  const std::string type(factory->type());
  if (!factories_.emplace(type, std::move(factory)).second) {
    std::fprintf(stderr, "hook type \"%s\" registered twice\n", type.c_str());
    std::abort();
  }
}

absl::StatusOr<std::vector<std::unique_ptr<Hook>>> HookRegistry::CreateAll(
    HookPhase phase, const std::vector<config::HookConfig>& configs) const {
  std::vector<std::unique_ptr<Hook>> hooks;
  for (const config::HookConfig& hook_config : configs) {
    const HookFactory* found = factory(hook_config.type);
    if (found == nullptr || found->phase() != phase) {
      const std::vector<std::string> known = types(phase);
      return config::KeyError(
          config::ChildPath(hook_config.key_path, "type"),
          absl::StrCat("unknown hook type \"", hook_config.type, "\"; known ", PhaseName(phase),
                       "-hook types: ", absl::StrJoin(known, ", ")));
    }
    absl::StatusOr<std::unique_ptr<Hook>> hook =
        found->Create(hook_config.id(), hook_config.options, hook_config.key_path);
    if (!hook.ok()) return hook.status();
    hooks.push_back(std::move(*hook));
  }
  return hooks;
}

std::vector<std::string> HookRegistry::types(HookPhase phase) const {
  std::vector<std::string> types;
  for (const auto& [type, factory] : factories_) {
    if (factory->phase() == phase) types.push_back(type);
  }
  return types;
}

const HookFactory* HookRegistry::factory(absl::string_view type) const {
  auto it = factories_.find(type);
  return it == factories_.end() ? nullptr : it->second.get();
}

}  // namespace sluice::pipeline::hooks
