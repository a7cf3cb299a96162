// Fuzzes the config loader: bytes as YAML -> config::ParseConfig and, for a config that
// parses, each output factory's validation of its block (OutputRegistry::Create). Creating
// an output opens nothing (files and connections wait for Start(), never called here).
// A loader error is a normal outcome; a crash, a hang or an exception is a finding.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/config/config.h"
#include "server/outputs/builtin_outputs.h"
#include "server/outputs/encoding_registry.h"
#include "server/outputs/output_registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const sluice::outputs::OutputRegistry* registry = [] {
    auto* r = new sluice::outputs::OutputRegistry();
    sluice::outputs::RegisterBuiltinOutputs(*r);
    return r;
  }();

  absl::StatusOr<sluice::config::Config> config =
      sluice::config::ParseConfig(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!config.ok()) return 0;
  sluice::outputs::EncodingRegistry encodings;
  for (const sluice::config::OutputConfig& output : config->outputs) {
    // Each block on its own, so that every factory's validation runs, not only the
    // first failing one's.
    absl::StatusOr<std::unique_ptr<sluice::outputs::Output>> created =
        registry->Create(output, encodings);
    (void)created;
  }
  return 0;
}
