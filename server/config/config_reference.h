// The reference part of docs/CONFIG.md, generated from the key tables: one markdown table
// per server section, and one block with a table per registered output type.
//
// docs/CONFIG.md marks each generated block with a pair of HTML comments,
//   <!-- BEGIN config_reference scheduler -->  ...  <!-- END config_reference -->
// and the prose around the blocks is written by hand. The config_reference tool
// (config_reference_main.cc) rewrites the blocks in place; tests/config's reference test
// fails when the file differs from what the tables give, so a key cannot be accepted
// without being documented, nor documented without being accepted.
#ifndef SLUICE_SERVER_CONFIG_CONFIG_REFERENCE_H_
#define SLUICE_SERVER_CONFIG_CONFIG_REFERENCE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/config/key_doc.h"
#include "server/outputs/output_registry.h"
#include "server/pipeline/hooks/hook_registry.h"

namespace sluice::config {

// A markdown table of `keys`: key, type, default, range, meaning.
std::string RenderKeyTable(const std::vector<KeyDoc>& keys);

// Every generated block as (name, markdown): the server's sections under their names
// (ServerSectionDocs), then "hook_types": a heading (with the phase) and a table per type
// of `hooks`, then "output_types": a heading and a table per type of `registry`.
std::vector<std::pair<std::string, std::string>> ReferenceBlocks(
    const outputs::OutputRegistry& registry, const pipeline::hooks::HookRegistry& hooks);

// `document` with the text between each pair of markers replaced by its block. An
// unknown block name, a marker without its end, or a block that has no markers in
// `document` is INVALID_ARGUMENT naming it.
absl::StatusOr<std::string> UpdateReference(
    absl::string_view document, const std::vector<std::pair<std::string, std::string>>& blocks);

}  // namespace sluice::config

#endif  // SLUICE_SERVER_CONFIG_CONFIG_REFERENCE_H_
