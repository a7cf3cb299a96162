// Hooks for the hook tests, created the way sluiced creates them: from config YAML,
// through the registry of built-in types.
#ifndef SLUICE_TESTS_PIPELINE_HOOKS_HOOK_TEST_UTIL_H_
#define SLUICE_TESTS_PIPELINE_HOOKS_HOOK_TEST_UTIL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "server/config/config.h"
#include "server/pipeline/hooks/builtin_hooks.h"
#include "server/pipeline/hooks/hook.h"
#include "server/pipeline/hooks/hook_registry.h"

namespace sluice::pipeline::hooks {

// The `hooks.pre` or `hooks.post` list of `yaml`, a whole config document.
inline absl::StatusOr<std::vector<std::unique_ptr<Hook>>> CreateHooks(HookPhase phase,
                                                                      const std::string& yaml) {
  absl::StatusOr<config::Config> parsed = config::ParseConfig(yaml);
  if (!parsed.ok()) return parsed.status();
  HookRegistry registry;
  RegisterBuiltinHooks(registry);
  return registry.CreateAll(phase,
                            phase == HookPhase::kPre ? parsed->hooks.pre : parsed->hooks.post);
}

// The hook of one block of `phase`'s list, e.g. "{type: sample, one_in: 4}".
inline absl::StatusOr<std::unique_ptr<Hook>> CreateHook(HookPhase phase, const std::string& block) {
  const std::string list = phase == HookPhase::kPre ? "pre" : "post";
  auto hooks = CreateHooks(phase, "hooks: {" + list + ": [" + block + "]}");
  if (!hooks.ok()) return hooks.status();
  return std::move(hooks->front());
}

// CreateHook, failing the test (and returning null) when the block makes no hook.
inline std::unique_ptr<Hook> CreateOneHook(HookPhase phase, const std::string& block) {
  auto hook = CreateHook(phase, block);
  EXPECT_TRUE(hook.ok()) << hook.status();
  return hook.ok() ? std::move(*hook) : nullptr;
}

}  // namespace sluice::pipeline::hooks

#endif  // SLUICE_TESTS_PIPELINE_HOOKS_HOOK_TEST_UTIL_H_
