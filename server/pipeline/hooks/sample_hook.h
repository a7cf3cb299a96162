// The `sample` post-hook: keeps one in `one_in` of the records at or below `level_at_most`
// and every record above it. Listed in builtin_hooks.cc; TraceSampleHash is public so that
// its tests can pin it.
//
// A record with a trace id is kept or dropped by its trace id and `hash_seed` alone, so
// every record of a trace shares one fate and every Sluice instance with the same seed
// keeps the same traces. A record without one is kept at random, one in `one_in` on
// average.
#ifndef SLUICE_SERVER_PIPELINE_HOOKS_SAMPLE_HOOK_H_
#define SLUICE_SERVER_PIPELINE_HOOKS_SAMPLE_HOOK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/pipeline/hooks/hook.h"

namespace sluice::pipeline::hooks {

// FNV-1a 64 over the 8 little-endian bytes of `seed`, then the bytes of `trace_id`, then
// MurmurHash3's 64-bit finalizer. Fixed forever: instances and versions must agree on it.
// The finalizer is there because FNV-1a's low bits depend only on the inputs' low bits,
// and the decision (hash % one_in) reads mostly the low bits.
uint64_t TraceSampleHash(uint64_t seed, absl::string_view trace_id);

class SampleHookFactory final : public HookFactory {
 public:
  absl::string_view type() const override { return "sample"; }
  HookPhase phase() const override { return HookPhase::kPost; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Hook>> Create(std::string id, const YAML::Node& config,
                                               const std::string& config_path) const override;
};

}  // namespace sluice::pipeline::hooks

#endif  // SLUICE_SERVER_PIPELINE_HOOKS_SAMPLE_HOOK_H_
