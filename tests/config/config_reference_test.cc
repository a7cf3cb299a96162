#include "server/config/config_reference.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/config.h"
#include "server/outputs/builtin_outputs.h"
#include "server/pipeline/hooks/builtin_hooks.h"

namespace sluice::config {
namespace {

using ::testing::HasSubstr;

std::vector<std::pair<std::string, std::string>> BuiltinBlocks() {
  outputs::OutputRegistry registry;
  outputs::RegisterBuiltinOutputs(registry);
  pipeline::hooks::HookRegistry hooks;
  pipeline::hooks::RegisterBuiltinHooks(hooks);
  return ReferenceBlocks(registry, hooks);
}

TEST(ConfigReferenceTest, DocsConfigMdMatchesTheKeyTables) {
  const std::string path = std::string(SLUICE_SOURCE_DIR) + "/docs/CONFIG.md";
  std::stringstream text;
  text << std::ifstream(path, std::ios::binary).rdbuf();
  ASSERT_FALSE(text.str().empty()) << "cannot read " << path;
  absl::StatusOr<std::string> updated = UpdateReference(text.str(), BuiltinBlocks());
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_TRUE(*updated == text.str())
      << "docs/CONFIG.md does not match the key tables (a key was added, removed or changed). "
         "Regenerate its reference blocks:\n"
         "  cmake --build build-test --target config_reference && "
         "build-test/bin/config_reference "
         "docs/CONFIG.md";
}

TEST(ConfigReferenceTest, EveryServerSectionAndEveryOutputTypeHasABlock) {
  std::vector<std::string> names;
  std::string output_types;
  std::string hook_types;
  for (const auto& [name, markdown] : BuiltinBlocks()) {
    names.push_back(name);
    if (name == "output_types") output_types = markdown;
    if (name == "hook_types") hook_types = markdown;
  }
  EXPECT_THAT(
      names, ::testing::ElementsAre("ingest", "admin", "tls", "metrics", "scheduler", "levels",
                                    "pipeline", "hooks", "hook_entries", "outputs", "output_buffer",
                                    "output_retry", "shutdown", "hook_types", "output_types"));
  pipeline::hooks::HookRegistry hooks;
  pipeline::hooks::RegisterBuiltinHooks(hooks);
  ASSERT_FALSE(hooks.types(pipeline::hooks::HookPhase::kPost).empty());
  for (const std::string& type : hooks.types(pipeline::hooks::HookPhase::kPost)) {
    EXPECT_THAT(hook_types, HasSubstr(absl::StrCat("#### `type: ", type, "` (post)")));
  }
  outputs::OutputRegistry registry;
  outputs::RegisterBuiltinOutputs(registry);
  ASSERT_FALSE(registry.types().empty());
  for (const std::string& type : registry.types()) {
    EXPECT_THAT(output_types, HasSubstr(absl::StrCat("#### `type: ", type, "`")));
  }
}

// The config module reads these keys of every output block and each factory lets them
// through; the two lists must agree or a block would be refused or half read.
TEST(ConfigReferenceTest, TheCommonOutputKeysAreTheOnesFactoriesLetThrough) {
  std::vector<std::string> documented;
  for (const SectionDoc& section : ServerSectionDocs()) {
    if (section.name != "outputs") continue;
    for (const KeyDoc& key : section.keys) documented.push_back(key.name);
  }
  EXPECT_THAT(documented, ::testing::ElementsAreArray(outputs::kCommonOutputKeys));
}

TEST(ConfigReferenceTest, TheCommonHookKeysAreTheOnesFactoriesLetThrough) {
  std::vector<std::string> documented;
  for (const SectionDoc& section : ServerSectionDocs()) {
    if (section.name != "hook_entries") continue;
    for (const KeyDoc& key : section.keys) documented.push_back(key.name);
  }
  EXPECT_THAT(documented, ::testing::ElementsAreArray(pipeline::hooks::kCommonHookKeys));
}

TEST(ConfigReferenceTest, RendersOneRowPerKey) {
  EXPECT_EQ(RenderKeyTable({{.name = "workers",
                             .type = "integer",
                             .default_value = "`4`",
                             .range = "1..256",
                             .description = "Worker threads."}}),
            "| Key | Type | Default | Range | Meaning |\n"
            "|---|---|---|---|---|\n"
            "| `workers` | integer | `4` | 1..256 | Worker threads. |\n");
}

TEST(ConfigReferenceTest, ReplacesTheTextBetweenTheMarkers) {
  absl::StatusOr<std::string> updated = UpdateReference(
      "intro\n<!-- BEGIN config_reference a -->\nold\n<!-- END config_reference "
      "-->\noutro\n",
      {{"a", "new\n"}});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(
      *updated,
      "intro\n<!-- BEGIN config_reference a -->\nnew\n<!-- END config_reference -->\noutro\n");
}

TEST(ConfigReferenceTest, ABlockWithoutMarkersIsAnError) {
  absl::StatusOr<std::string> updated = UpdateReference("no markers\n", {{"a", "table\n"}});
  EXPECT_EQ(updated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(updated.status().message()), HasSubstr("the block \"a\" is missing"));
}

TEST(ConfigReferenceTest, MarkersOfAnUnknownBlockAreAnError) {
  absl::StatusOr<std::string> updated = UpdateReference(
      "<!-- BEGIN config_reference gone -->\nx\n<!-- END config_reference -->\n", {});
  EXPECT_THAT(std::string(updated.status().message()),
              HasSubstr("the block \"gone\" is not generated by any key table"));
}

TEST(ConfigReferenceTest, AMarkerWithoutItsEndIsAnError) {
  absl::StatusOr<std::string> updated =
      UpdateReference("<!-- BEGIN config_reference a -->\nx\n", {{"a", "t\n"}});
  EXPECT_THAT(std::string(updated.status().message()), HasSubstr("has no"));
}

}  // namespace
}  // namespace sluice::config
