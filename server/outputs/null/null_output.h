// The null output: takes every batch and discards it, counting the records.
//
//   outputs:
//     - type: "null"
//       write_latency: 0s     # optional: each Write takes this long, like a slow destination
//
// For benchmarks (the cost of the pipeline without a destination; with write_latency, an
// overloaded output) and for tests. It never asks for lines, so nothing is formatted on
// its behalf. Thread-safe without a lock.
#ifndef SLUICE_SERVER_OUTPUTS_NULL_NULL_OUTPUT_H_
#define SLUICE_SERVER_OUTPUTS_NULL_NULL_OUTPUT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/outputs/output.h"
#include "server/outputs/output_registry.h"

namespace sluice::outputs {

struct NullOutputConfig {
  // Each Write takes this long, like a slow destination.
  absl::Duration write_latency = absl::ZeroDuration();
};

class NullOutput final : public Output {
 public:
  explicit NullOutput(std::string id, absl::Duration write_latency = absl::ZeroDuration())
      : id_(std::move(id)), write_latency_(write_latency) {}

  absl::string_view id() const override { return id_; }
  absl::Status Start() override { return absl::OkStatus(); }
  absl::Status Write(OutputBatch& batch) override;
  absl::Status Flush(absl::Time /*deadline*/) override { return absl::OkStatus(); }
  absl::Status Shutdown(absl::Time /*deadline*/) override { return absl::OkStatus(); }

  // Records taken so far (those routed here in each Write).
  uint64_t records_for_test() const { return records_.load(std::memory_order_relaxed); }

 private:
  const std::string id_;
  const absl::Duration write_latency_;
  std::atomic<uint64_t> records_{0};
};

class NullOutputFactory final : public OutputFactory {
 public:
  absl::string_view type() const override { return "null"; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Output>> Create(absl::string_view id, const YAML::Node& config,
                                                 OutputContext& context) const override;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_NULL_NULL_OUTPUT_H_
