#include "server/outputs/null/null_output.h"

#include <utility>

#include "server/outputs/output_options.h"

namespace sluice::outputs {

absl::Status NullOutput::Write(OutputBatch& batch, Level min_level) {
  records_.fetch_add(batch.CountAtLeast(min_level), std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Output>> NullOutputFactory::Create(
    const config::OutputConfig& config) const {
  if (absl::StatusOr<OutputOptions> options = OutputOptions::Create(config, {}); !options.ok()) {
    return options.status();
  }
  return std::make_unique<NullOutput>(config.id());
}

}  // namespace sluice::outputs
