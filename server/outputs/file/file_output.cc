#include "server/outputs/file/file_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/config/yaml_reader.h"
#include "server/outputs/encoders/builtin_encodings.h"
#include "server/outputs/write_fully.h"

namespace sluice::outputs {

namespace {

const config::KeyTable<FileOutputConfig>& Keys() {
  using S = FileOutputConfig;
  static const config::KeyTable<S>* const table = new config::KeyTable<S>{
      config::StringKey("path", &S::path, config::StringRule::kRequired,
                        "The file records are appended to; a missing parent directory is "
                        "created."),
      config::ChoiceKey<S, EncodingId>(
          "format", &S::format,
          {{"json", kJsonEncoding}, {"text", kTextEncoding}, {"logfmt", kLogfmtEncoding}},
          "Line encoding."),
      config::IntegerKey("buffer_bytes", &S::buffer_bytes, 0, S::kMaxBufferBytes,
                         "Bytes buffered in memory before a write to the kernel. 0 writes "
                         "every batch straight away."),
      config::DurationKey("flush_interval", &S::flush_interval, S::kMinFlushInterval,
                          S::kMaxFlushInterval, "Buffered lines are written at least this often."),
  };
  return *table;
}

}  // namespace

absl::StatusOr<FileOutputConfig> FileOutputConfig::Parse(const YAML::Node& block,
                                                         absl::string_view path) {
  FileOutputConfig parsed;
  if (absl::Status status = Keys().Read(block, path, parsed, kCommonOutputKeys); !status.ok()) {
    return status;
  }
  return parsed;
}

FileOutput::FileOutput(std::string id, FileOutputConfig config)
    : SerializedOutput(id),
      config_(std::move(config)),
      write_context_(absl::StrCat(id, ": write to \"", config_.path, "\"")) {}

FileOutput::~FileOutput() {
  Shutdown(absl::InfiniteFuture()).IgnoreError();
  if (flusher_.joinable()) flusher_.join();
}

absl::StatusOr<int> FileOutput::OpenPath() const {
  const std::filesystem::path parent = std::filesystem::path(config_.path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    if (error) {
      return absl::ErrnoToStatus(
          error.value(), absl::StrCat(id(), ": cannot create directory \"", parent.string(), "\""));
    }
  }
  const int fd = ::open(config_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(id(), ": cannot open \"", config_.path, "\""));
  }
  return fd;
}

absl::Status FileOutput::StartLocked() {
  absl::StatusOr<int> fd = OpenPath();
  if (!fd.ok()) return fd.status();
  fd_ = *fd;
  if (config_.buffer_bytes > 0) {
    buffer_.reserve(config_.buffer_bytes);
    flusher_ = std::thread([this] { FlushPeriodically(); });
  }
  return absl::OkStatus();
}

absl::Status FileOutput::WriteLocked(OutputBatch& batch) {
  const absl::string_view lines = batch.Lines(config_.format);
  if (buffer_.size() + lines.size() <= config_.buffer_bytes) {
    buffer_.append(lines.data(), lines.size());
    return absl::OkStatus();
  }
  if (absl::Status status = WriteBufferLocked(); !status.ok()) return status;
  if (lines.size() <= config_.buffer_bytes) {
    buffer_.append(lines.data(), lines.size());
    return absl::OkStatus();
  }
  size_t written = 0;
  absl::Status status = WriteFully(fd_, lines, write_context_, &written);
  if (!status.ok() && written > 0) {
    // Part of the batch is in the file: taking the rest keeps it from being repeated.
    buffer_.append(lines.data() + written, lines.size() - written);
    return absl::OkStatus();
  }
  return status;
}

absl::Status FileOutput::FlushLocked(absl::Time /*deadline*/) { return WriteBufferLocked(); }

absl::Status FileOutput::ShutdownLocked(absl::Time /*deadline*/) {
  stopping_ = true;
  absl::Status status = WriteBufferLocked();
  buffer_.clear();
  if (::close(fd_) != 0 && status.ok()) {
    status = ErrnoStatus(errno, absl::StrCat(id(), ": close \"", config_.path, "\""));
  }
  fd_ = -1;
  return status;
}

absl::Status FileOutput::ReopenLocked() {
  // What was buffered before the signal belongs to the file that was open then. If that
  // write fails, the rest stays buffered and goes to the new file: late, but not lost.
  absl::Status status = WriteBufferLocked();
  absl::StatusOr<int> fd = OpenPath();
  if (!fd.ok()) return fd.status();
  // The old file's lines are all written or kept in the buffer; a close error cannot
  // lose any of them, so it only fails the call.
  if (::close(fd_) != 0 && status.ok()) {
    status = ErrnoStatus(errno, absl::StrCat(id(), ": close \"", config_.path, "\""));
  }
  fd_ = *fd;
  return status;
}

void FileOutput::FlushPeriodically() {
  absl::MutexLock lock(&mutex());
  while (!mutex().AwaitWithTimeout(absl::Condition(&stopping_), config_.flush_interval)) {
    // A failure leaves the data in the buffer; the next tick or write retries it.
    WriteBufferLocked().IgnoreError();
  }
}

absl::Status FileOutput::WriteBufferLocked() {
  if (buffer_.empty()) return absl::OkStatus();
  size_t written = 0;
  absl::Status status = WriteFully(fd_, buffer_, write_context_, &written);
  buffer_.erase(0, written);
  return status;
}

std::vector<config::KeyDoc> FileOutputFactory::keys() const { return Keys().docs(); }

std::string FileOutputFactory::example_config() const {
  return "{type: file, path: '${DIR}/records.log'}";
}

absl::StatusOr<std::unique_ptr<Output>> FileOutputFactory::Create(absl::string_view id,
                                                                  const YAML::Node& config,
                                                                  OutputContext& context) const {
  absl::StatusOr<FileOutputConfig> parsed = FileOutputConfig::Parse(config, context.config_path);
  if (!parsed.ok()) return parsed.status();
  return std::make_unique<FileOutput>(std::string(id), *std::move(parsed));
}

}  // namespace sluice::outputs
