// RegisterBuiltinHooks: the hook types that come with Sluice, registered explicitly (one
// line each in builtin_hooks.cc). Called by server/app at start-up and by the reference
// generator and the tests that need every type.
#ifndef SLUICE_SERVER_PIPELINE_HOOKS_BUILTIN_HOOKS_H_
#define SLUICE_SERVER_PIPELINE_HOOKS_BUILTIN_HOOKS_H_

#include "server/pipeline/hooks/hook_registry.h"

namespace sluice::pipeline::hooks {

void RegisterBuiltinHooks(HookRegistry& registry);

}  // namespace sluice::pipeline::hooks

#endif  // SLUICE_SERVER_PIPELINE_HOOKS_BUILTIN_HOOKS_H_
