#include "server/outputs/console/console_output.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/outputs/output_options.h"
#include "server/outputs/write_fully.h"

namespace sluice::outputs {

absl::StatusOr<ConsoleOutputConfig> ConsoleOutputConfig::Parse(const config::OutputConfig& config) {
  absl::StatusOr<OutputOptions> options = OutputOptions::Create(config, {"format", "stream"});
  if (!options.ok()) return options.status();
  ConsoleOutputConfig parsed;
  if (absl::Status status = options->GetFormat("format", &parsed.format); !status.ok()) {
    return status;
  }
  if (absl::Status status = options->GetChoice<Stream>(
          "stream", {{"stdout", Stream::kStdout}, {"stderr", Stream::kStderr}}, &parsed.stream);
      !status.ok()) {
    return status;
  }
  return parsed;
}

ConsoleOutput::ConsoleOutput(std::string id, EncodingId format, int fd)
    : SerializedOutput(id),
      format_(format),
      fd_(fd),
      write_context_(absl::StrCat(id, ": write to fd ", fd)) {}

void ConsoleOutput::PrepareBatch(OutputBatch& batch, Level min_level) {
  batch.Lines(format_, min_level);
}

absl::Status ConsoleOutput::StartLocked() { return absl::OkStatus(); }

absl::Status ConsoleOutput::WriteLocked(OutputBatch& batch, Level min_level) {
  size_t written = 0;
  return WriteFully(fd_, batch.Lines(format_, min_level), write_context_, &written);
}

// Every write goes straight to the descriptor; there is nothing to push.
absl::Status ConsoleOutput::FlushLocked(absl::Time /*deadline*/) { return absl::OkStatus(); }

absl::Status ConsoleOutput::ShutdownLocked(absl::Time /*deadline*/) { return absl::OkStatus(); }

absl::StatusOr<std::unique_ptr<Output>> ConsoleOutputFactory::Create(
    const config::OutputConfig& config) const {
  absl::StatusOr<ConsoleOutputConfig> parsed = ConsoleOutputConfig::Parse(config);
  if (!parsed.ok()) return parsed.status();
  const int fd =
      parsed->stream == ConsoleOutputConfig::Stream::kStdout ? STDOUT_FILENO : STDERR_FILENO;
  return std::make_unique<ConsoleOutput>(config.id(), parsed->format, fd);
}

}  // namespace sluice::outputs
