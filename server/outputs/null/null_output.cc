#include "server/outputs/null/null_output.h"

#include <utility>

#include "server/outputs/output_options.h"

namespace sluice::outputs {

absl::Status NullOutput::Write(OutputBatch& batch, Level min_level) {
  // Sleeping is the point: it stands for a destination that takes this long per write.
  if (write_latency_ > absl::ZeroDuration()) absl::SleepFor(write_latency_);
  records_.fetch_add(batch.CountAtLeast(min_level), std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Output>> NullOutputFactory::Create(
    const config::OutputConfig& config) const {
  absl::StatusOr<OutputOptions> options = OutputOptions::Create(config, {"write_latency"});
  if (!options.ok()) return options.status();
  absl::Duration write_latency = absl::ZeroDuration();
  if (absl::Status status = options->GetDuration("write_latency", absl::ZeroDuration(),
                                                 absl::Seconds(10), &write_latency);
      !status.ok()) {
    return status;
  }
  return std::make_unique<NullOutput>(config.id(), write_latency);
}

}  // namespace sluice::outputs
