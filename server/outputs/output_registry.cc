#include "server/outputs/output_registry.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/config/config.h"

namespace sluice::outputs {

void OutputRegistry::Register(std::unique_ptr<OutputFactory>&& factory) {
  std::string type(factory->type());
  if (!factories_.emplace(type, std::move(factory)).second) {
    std::fprintf(stderr, "output type \"%s\" registered twice\n", type.c_str());
    std::abort();
  }
}

absl::StatusOr<std::unique_ptr<Output>> OutputRegistry::Create(
    const config::OutputConfig& config, EncodingRegistry& encodings,
    prometheus::Registry* metrics) const {
  const OutputFactory* type = factory(config.type);
  if (type == nullptr) {
    return config::KeyError(config::ChildPath(config.key_path, "type"),
                            absl::StrCat("unknown output type \"", config.type,
                                         "\" (known: ", absl::StrJoin(types(), ", "), ")"));
  }
  OutputContext context{.config_path = config.key_path, .encodings = encodings, .metrics = metrics};
  return type->Create(config.id(), config.options, context);
}

absl::StatusOr<std::vector<std::unique_ptr<Output>>> OutputRegistry::CreateAll(
    const std::vector<config::OutputConfig>& configs, EncodingRegistry& encodings) const {
  std::vector<std::unique_ptr<Output>> outputs;
  outputs.reserve(configs.size());
  for (const config::OutputConfig& config : configs) {
    absl::StatusOr<std::unique_ptr<Output>> output = Create(config, encodings);
    if (!output.ok()) return output.status();
    outputs.push_back(*std::move(output));
  }
  return outputs;
}

const OutputFactory* OutputRegistry::factory(absl::string_view type) const {
  auto it = factories_.find(type);
  return it == factories_.end() ? nullptr : it->second.get();
}

std::vector<std::string> OutputRegistry::types() const {
  std::vector<std::string> types;
  types.reserve(factories_.size());
  for (const auto& entry : factories_) types.push_back(entry.first);
  return types;
}

}  // namespace sluice::outputs
