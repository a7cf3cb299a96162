// OutputRegistry: finds the factory for each `outputs:` block of the config and creates
// the outputs.
//
// server/app builds one registry at start-up, calls RegisterBuiltinOutputs()
// (builtin_outputs.h) and then CreateAll(config.outputs); any error aborts start-up before
// anything listens. A factory validates its block first (OutputOptions): unknown keys and
// bad values are INVALID_ARGUMENT naming the key path. Creating an output does not start
// it; the caller calls Start() on each.
//
// Not thread-safe: registration and creation happen on the start-up thread.
#ifndef SLUICE_SERVER_OUTPUTS_OUTPUT_REGISTRY_H_
#define SLUICE_SERVER_OUTPUTS_OUTPUT_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/config/config.h"
#include "server/outputs/output.h"

namespace sluice::outputs {

// Creates outputs of one type. Stateless; the registry owns it.
class OutputFactory {
 public:
  virtual ~OutputFactory() = default;

  // The `type:` value this factory answers to, e.g. "file".
  virtual absl::string_view type() const = 0;

  // Validates `config.options` and builds an output with id config.id(). Does not start it.
  virtual absl::StatusOr<std::unique_ptr<Output>> Create(
      const config::OutputConfig& config) const = 0;
};

class OutputRegistry {
 public:
  // Registering a type twice is a programming error: it aborts naming the type.
  void Register(std::unique_ptr<OutputFactory>&& factory);

  // INVALID_ARGUMENT for an unknown type, listing the known ones; otherwise whatever the
  // factory returns.
  absl::StatusOr<std::unique_ptr<Output>> Create(const config::OutputConfig& config) const;

  // Creates every output in order; the first error wins and nothing is returned.
  absl::StatusOr<std::vector<std::unique_ptr<Output>>> CreateAll(
      const std::vector<config::OutputConfig>& configs) const;

  // The registered types, sorted.
  std::vector<std::string> types() const;

 private:
  // Sorted so the list in error messages is stable.
  std::map<std::string, std::unique_ptr<OutputFactory>, std::less<>> factories_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_OUTPUT_REGISTRY_H_
