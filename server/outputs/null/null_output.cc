#include "server/outputs/null/null_output.h"

#include <utility>

#include "server/config/yaml_reader.h"

namespace sluice::outputs {
namespace {

const config::KeyTable<NullOutputConfig>& Keys() {
  static const config::KeyTable<NullOutputConfig>* const table =
      new config::KeyTable<NullOutputConfig>{
          config::DurationKey("write_latency", &NullOutputConfig::write_latency,
                              absl::ZeroDuration(), absl::Seconds(10),
                              "Each write takes this long, standing in for a slow destination "
                              "(overload benchmarks, backpressure tests)."),
      };
  return *table;
}

}  // namespace

absl::Status NullOutput::Write(OutputBatch& batch) {
  // Sleeping is the point: it stands for a destination that takes this long per write.
  if (write_latency_ > absl::ZeroDuration()) absl::SleepFor(write_latency_);
  records_.fetch_add(batch.count(), std::memory_order_relaxed);
  return absl::OkStatus();
}

std::vector<config::KeyDoc> NullOutputFactory::keys() const { return Keys().docs(); }

std::string NullOutputFactory::example_config() const { return "{type: \"null\"}"; }

absl::StatusOr<std::unique_ptr<Output>> NullOutputFactory::Create(absl::string_view id,
                                                                  const YAML::Node& config,
                                                                  OutputContext& context) const {
  NullOutputConfig parsed;
  if (absl::Status status = Keys().Read(config, context.config_path, parsed, kCommonOutputKeys);
      !status.ok()) {
    return status;
  }
  return std::make_unique<NullOutput>(std::string(id), parsed.write_latency);
}

}  // namespace sluice::outputs
