// The pipeline's settings: the base fields added to every record and the key names of the
// record's own attributes in structured outputs. Filled from the `pipeline:` section by
// server/config (which declares the keys) and read by FieldComposer and RecordFormatter.
#ifndef SLUICE_SERVER_PIPELINE_PIPELINE_CONFIG_H_
#define SLUICE_SERVER_PIPELINE_PIPELINE_CONFIG_H_

#include <string>
#include <utility>
#include <vector>

namespace sluice::pipeline {

struct PipelineConfig {
  // Fields added to every record, weakest in the override order (DESIGN.md).
  std::vector<std::pair<std::string, std::string>> base_fields;
  // Key names under which the record's own attributes appear in structured outputs.
  std::string time_key = "time";
  std::string level_key = "level";
  std::string logger_key = "logger";
  std::string message_key = "message";
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_PIPELINE_CONFIG_H_
