#include "server/pipeline/hooks/builtin_hooks.h"

#include <memory>

#include "server/pipeline/hooks/call_hooks.h"
#include "server/pipeline/hooks/drop_hook.h"
#include "server/pipeline/hooks/field_hooks.h"
#include "server/pipeline/hooks/parse_json_hook.h"
#include "server/pipeline/hooks/redact_hook.h"
#include "server/pipeline/hooks/sample_hook.h"

namespace sluice::pipeline::hooks {

void RegisterBuiltinHooks(HookRegistry& registry) {
  registry.Register(std::make_unique<AddFieldsHookFactory>());
  registry.Register(std::make_unique<DropHookFactory>());
  registry.Register(std::make_unique<SelectFieldsHookFactory>(/*keep=*/false));
  registry.Register(std::make_unique<SelectFieldsHookFactory>(/*keep=*/true));
  registry.Register(std::make_unique<ParseJsonHookFactory>());
  registry.Register(std::make_unique<RedactHookFactory>());
  registry.Register(std::make_unique<RenameHookFactory>());
  registry.Register(std::make_unique<SampleHookFactory>());
  registry.Register(std::make_unique<ReceiveTimeHookFactory>());
  registry.Register(std::make_unique<PeerHookFactory>());
  registry.Register(std::make_unique<MetadataHookFactory>());
  registry.Register(std::make_unique<SequenceHookFactory>());
}

}  // namespace sluice::pipeline::hooks
