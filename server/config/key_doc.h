// KeyDoc and SectionDoc: what docs/CONFIG.md says about each config key, as declared in
// the key tables of yaml_reader.h.
//
// Kept apart from the reader so that output factories (server/outputs) can hand out the
// documentation of their keys without their headers including yaml-cpp. Read by the
// reference generator (config_reference.h) and its test.
#ifndef SLUICE_SERVER_CONFIG_KEY_DOC_H_
#define SLUICE_SERVER_CONFIG_KEY_DOC_H_

#include <string>
#include <vector>

namespace sluice::config {

// One key; every field is markdown.
struct KeyDoc {
  std::string name = "";
  std::string type = "";
  std::string default_value = "";
  std::string range = "";  // empty when the type bounds the value itself
  std::string description = "";
};

// The documented keys of one section, under the name its reference block carries in
// docs/CONFIG.md ("scheduler", "outputs.file").
struct SectionDoc {
  std::string name;
  std::vector<KeyDoc> keys;
};

}  // namespace sluice::config

#endif  // SLUICE_SERVER_CONFIG_KEY_DOC_H_
