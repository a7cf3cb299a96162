// OutputFactory and OutputRegistry: how the `outputs:` blocks of the config become Output
// objects.
//
// server/app builds one registry at start-up, calls RegisterBuiltinOutputs()
// (builtin_outputs.h) and then CreateAll(config.outputs); any error aborts start-up before
// anything listens. Each factory reads its block with the config's one YAML reader
// (server/config/yaml_reader.h) and a table of its keys: unknown keys and bad values are
// INVALID_ARGUMENT naming the key path ("outputs[1].path: ..."). The same table documents
// the type (keys(), rendered into docs/CONFIG.md), and example_config() is the block the
// conformance suite creates every registered type with. Creating an output does not start
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
#include "prometheus/registry.h"
#include "server/config/key_doc.h"
#include "server/outputs/encoding_registry.h"
#include "server/outputs/output.h"

namespace YAML {
class Node;
}  // namespace YAML

namespace sluice::config {
struct OutputConfig;
}  // namespace sluice::config

namespace sluice::outputs {

// The keys of every output block that the config module reads (config::OutputConfig);
// a factory accepts them in its block without reading them.
inline constexpr absl::string_view kCommonOutputKeys[] = {
    "type", "name", "level", "loggers", "match", "buffer", "retry", "unhealthy_after"};

// What an output gets from the server when it is created.
struct OutputContext {
  // Where the output's block is in the config ("outputs[1]"): every key path in the
  // factory's errors starts here.
  std::string config_path;
  // The encodings the pipeline will produce. The built-in ones (text, json) are there from
  // the start; an output that brings its own encoding adds it here, at creation.
  EncodingRegistry& encodings;
  // Where an output registers metrics of its own (e.g. the file output's write errors by
  // errno); null in tests that do not look at them.
  prometheus::Registry* metrics = nullptr;
};

// Creates outputs of one type. Stateless; the registry owns it.
class OutputFactory {
 public:
  virtual ~OutputFactory() = default;

  // The `type:` value this factory answers to, e.g. "file".
  virtual absl::string_view type() const = 0;

  // The keys of this type's block besides kCommonOutputKeys, as its table declares them.
  virtual std::vector<config::KeyDoc> keys() const = 0;

  // A minimal block that creates a working output, as YAML text. Four placeholders may
  // appear, which whoever uses the example replaces: ${DIR}, a writable directory,
  // ${SLUICE_TARGET}, the address of a Sluice ingest listener, ${HTTP_URL}, the base URL
  // of an HTTP server that answers every request with 200, and ${KAFKA_BROKERS}, the
  // bootstrap servers of a Kafka cluster.
  virtual std::string example_config() const = 0;

  // Validates `config` (the whole block, common keys included) and builds an output with
  // id `id`. Does not start it.
  virtual absl::StatusOr<std::unique_ptr<Output>> Create(absl::string_view id,
                                                         const YAML::Node& config,
                                                         OutputContext& context) const = 0;
};

class OutputRegistry {
 public:
  // Registering a type twice is a programming error: it aborts naming the type.
  void Register(std::unique_ptr<OutputFactory>&& factory);

  // INVALID_ARGUMENT for an unknown type, listing the known ones; otherwise whatever the
  // factory returns.
  absl::StatusOr<std::unique_ptr<Output>> Create(const config::OutputConfig& config,
                                                 EncodingRegistry& encodings,
                                                 prometheus::Registry* metrics = nullptr) const;

  // Creates every output in order; the first error wins and nothing is returned.
  absl::StatusOr<std::vector<std::unique_ptr<Output>>> CreateAll(
      const std::vector<config::OutputConfig>& configs, EncodingRegistry& encodings) const;

  // The registered types, sorted.
  std::vector<std::string> types() const;

  // The factory of `type`, or nullptr.
  const OutputFactory* factory(absl::string_view type) const;

 private:
  // Sorted so the list in error messages is stable.
  std::map<std::string, std::unique_ptr<OutputFactory>, std::less<>> factories_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_OUTPUT_REGISTRY_H_
