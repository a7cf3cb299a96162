// The `parse_json` post-hook: a record whose message is a JSON object gets the object's
// members as post-hook fields, and the member named `message_key`, when it is a string, as
// its message. Listed in builtin_hooks.cc.
//
// A message that does not start with `{` is not JSON and is left alone. One that does but
// is not a whole, valid object within `max_depth` is a failure (Verdict::kFailed, counted
// by HookChain) and the record is left exactly as it was: the message is parsed in full
// before any field is set.
#ifndef SLUICE_SERVER_PIPELINE_HOOKS_PARSE_JSON_HOOK_H_
#define SLUICE_SERVER_PIPELINE_HOOKS_PARSE_JSON_HOOK_H_

#include <memory>
#include <string>
#include <vector>

#include "server/pipeline/hooks/hook.h"

namespace sluice::pipeline::hooks {

class ParseJsonHookFactory final : public HookFactory {
 public:
  absl::string_view type() const override { return "parse_json"; }
  HookPhase phase() const override { return HookPhase::kPost; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Hook>> Create(std::string id, const YAML::Node& config,
                                               const std::string& config_path) const override;
};

}  // namespace sluice::pipeline::hooks

#endif  // SLUICE_SERVER_PIPELINE_HOOKS_PARSE_JSON_HOOK_H_
