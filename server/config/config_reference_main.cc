// config_reference: writes the generated key tables into docs/CONFIG.md.
//
//   config_reference docs/CONFIG.md   rewrites the marked blocks of the file in place
//   config_reference                  prints every block
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "server/config/config_reference.h"
#include "server/outputs/builtin_outputs.h"
#include "server/pipeline/hooks/builtin_hooks.h"

int main(int argc, char** argv) {
  sluice::outputs::OutputRegistry registry;
  sluice::outputs::RegisterBuiltinOutputs(registry);
  sluice::pipeline::hooks::HookRegistry hooks;
  sluice::pipeline::hooks::RegisterBuiltinHooks(hooks);
  const auto blocks = sluice::config::ReferenceBlocks(registry, hooks);
  if (argc < 2) {
    for (const auto& [name, markdown] : blocks) {
      std::printf("<!-- %s -->\n%s\n", name.c_str(), markdown.c_str());
    }
    return 0;
  }
  std::stringstream text;
  text << std::ifstream(argv[1], std::ios::binary).rdbuf();
  absl::StatusOr<std::string> updated = sluice::config::UpdateReference(text.str(), blocks);
  if (!updated.ok()) {
    std::fprintf(stderr, "config_reference: %s: %s\n", argv[1],
                 std::string(updated.status().message()).c_str());
    return 1;
  }
  std::ofstream(argv[1], std::ios::binary) << *updated;
  return 0;
}
