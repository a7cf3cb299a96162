#include "server/outputs/console/console_output.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/config/yaml_reader.h"
#include "server/outputs/write_fully.h"

namespace sluice::outputs {

namespace {

const config::KeyTable<ConsoleOutputConfig>& Keys() {
  using S = ConsoleOutputConfig;
  static const config::KeyTable<S>* const table = new config::KeyTable<S>{
      config::ChoiceKey<S, EncodingId>("format", &S::format,
                                       {{"text", kTextEncoding}, {"json", kJsonEncoding}},
                                       "Line encoding."),
      config::ChoiceKey<S, S::Stream>(
          "stream", &S::stream, {{"stdout", S::Stream::kStdout}, {"stderr", S::Stream::kStderr}},
          "Where the lines go."),
  };
  return *table;
}

}  // namespace

absl::StatusOr<ConsoleOutputConfig> ConsoleOutputConfig::Parse(const YAML::Node& block,
                                                               absl::string_view path) {
  ConsoleOutputConfig parsed;
  if (absl::Status status = Keys().Read(block, path, parsed, kCommonOutputKeys); !status.ok()) {
    return status;
  }
  return parsed;
}

ConsoleOutput::ConsoleOutput(std::string id, EncodingId format, int fd)
    : SerializedOutput(id),
      format_(format),
      fd_(fd),
      write_context_(absl::StrCat(id, ": write to fd ", fd)) {}

absl::Status ConsoleOutput::StartLocked() { return absl::OkStatus(); }

absl::Status ConsoleOutput::WriteLocked(OutputBatch& batch) {
  size_t written = 0;
  return WriteFully(fd_, batch.Lines(format_), write_context_, &written);
}

// Every write goes straight to the descriptor; there is nothing to push.
absl::Status ConsoleOutput::FlushLocked(absl::Time /*deadline*/) { return absl::OkStatus(); }

absl::Status ConsoleOutput::ShutdownLocked(absl::Time /*deadline*/) { return absl::OkStatus(); }

std::vector<config::KeyDoc> ConsoleOutputFactory::keys() const { return Keys().docs(); }

std::string ConsoleOutputFactory::example_config() const {
  return "{type: console, stream: stderr}";
}

absl::StatusOr<std::unique_ptr<Output>> ConsoleOutputFactory::Create(absl::string_view id,
                                                                     const YAML::Node& config,
                                                                     OutputContext& context) const {
  absl::StatusOr<ConsoleOutputConfig> parsed =
      ConsoleOutputConfig::Parse(config, context.config_path);
  if (!parsed.ok()) return parsed.status();
  const int fd =
      parsed->stream == ConsoleOutputConfig::Stream::kStdout ? STDOUT_FILENO : STDERR_FILENO;
  return std::make_unique<ConsoleOutput>(std::string(id), parsed->format, fd);
}

}  // namespace sluice::outputs
