// The console output: each batch's lines go to the process's stdout or stderr, unbuffered,
// in one write per batch under the output's lock, so concurrent workers' lines never
// interleave.
//
//   outputs:
//     - type: console
//       format: text      # text (default) | json
//       stream: stdout    # stdout (default) | stderr
//
// Meant for development and for containers whose runtime collects stdout. A reader that
// is too slow paces the workers (the write blocks), like any other slow output. A write
// that fails midway may have put part of the batch out; the pipeline's retry repeats that
// part (at-least-once).
#ifndef SLUICE_SERVER_OUTPUTS_CONSOLE_CONSOLE_OUTPUT_H_
#define SLUICE_SERVER_OUTPUTS_CONSOLE_CONSOLE_OUTPUT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/outputs/output.h"
#include "server/outputs/output_registry.h"
#include "server/outputs/serialized_output.h"

namespace sluice::outputs {

struct ConsoleOutputConfig {
  enum class Stream { kStdout, kStderr };

  EncodingId format = kTextEncoding;
  Stream stream = Stream::kStdout;

  // Reads and validates an output block (`path` is where it is in the config, e.g.
  // "outputs[0]"); errors name the key path.
  static absl::StatusOr<ConsoleOutputConfig> Parse(const YAML::Node& block, absl::string_view path);
};

class ConsoleOutput final : public SerializedOutput {
 public:
  std::optional<EncodingId> encoding() const override { return format_; }
  // Writes to `fd`, which it neither owns nor closes: STDOUT_FILENO or STDERR_FILENO from
  // the factory, a pipe in tests.
  ConsoleOutput(std::string id, EncodingId format, int fd);

 protected:
  absl::Status StartLocked() override;
  absl::Status WriteLocked(OutputBatch& batch) override;
  absl::Status FlushLocked(absl::Time deadline) override;
  absl::Status ShutdownLocked(absl::Time deadline) override;

 private:
  const EncodingId format_;
  const int fd_;
  // Names the stream in write errors.
  const std::string write_context_;
};

class ConsoleOutputFactory final : public OutputFactory {
 public:
  absl::string_view type() const override { return "console"; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Output>> Create(absl::string_view id, const YAML::Node& config,
                                                 OutputContext& context) const override;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_CONSOLE_CONSOLE_OUTPUT_H_
