#include "server/outputs/file/file_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"
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

// "ENOSPC" for ENOSPC: the `errno` label and the part of a message one can grep for.
absl::string_view ErrnoName(int error_number) {
  const char* name = ::strerrorname_np(error_number);
  return name != nullptr ? name : "EUNKNOWN";
}

// Writes all of `data`, continuing after partial writes and EINTR. Returns 0 or the errno
// that stopped it; `*written` counts the bytes that went out either way.
int WriteAll(int fd, absl::string_view data, size_t* written) {
  *written = 0;
  while (*written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + *written, data.size() - *written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    *written += static_cast<size_t>(n);
  }
  return 0;
}

// Cuts a regular file back to just after its last '\n', so that the partial line a
// previous run (or a failed write) left at its end is not completed by unrelated bytes.
// Returns how many bytes were cut.
absl::StatusOr<uint64_t> CutPartialLine(int fd, absl::string_view context) {
  struct stat info;
  if (::fstat(fd, &info) != 0) return absl::ErrnoToStatus(errno, context);
  if (!S_ISREG(info.st_mode) || info.st_size == 0) return 0;
  const auto size = static_cast<uint64_t>(info.st_size);
  char chunk[4096];
  uint64_t end = size;
  uint64_t keep = 0;
  while (end > 0) {
    const uint64_t begin = end > sizeof(chunk) ? end - sizeof(chunk) : 0;
    const ssize_t n = ::pread(fd, chunk, end - begin, static_cast<off_t>(begin));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, context);
    }
    if (static_cast<uint64_t>(n) != end - begin) return absl::DataLossError(context);
    const char* last = static_cast<const char*>(::memrchr(chunk, '\n', end - begin));
    if (last != nullptr) {
      keep = begin + static_cast<uint64_t>(last - chunk) + 1;
      break;
    }
    end = begin;
  }
  if (keep == size) return 0;
  if (::ftruncate(fd, static_cast<off_t>(keep)) != 0) return absl::ErrnoToStatus(errno, context);
  return size - keep;
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

FileOutput::FileOutput(std::string id, FileOutputConfig config, prometheus::Registry* metrics)
    : SerializedOutput(id),
      config_(std::move(config)),
      write_context_(absl::StrCat(id, ": write to \"", config_.path, "\"")) {
  if (metrics != nullptr) {
    // A second file output on the same registry gets the family the first one built
    // (prometheus-cpp merges families of one name, type and constant labels).
    write_errors_ = &prometheus::BuildCounter()
                         .Name("sluice_output_write_errors_total")
                         .Help("Failed writes, syncs and opens of an output's file, by errno.")
                         .Register(*metrics);
  }
}

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
  // Read access too, to find a partial line at the end.
  const int fd = ::open(config_.path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat(id(), ": cannot open \"", config_.path, "\""));
  }
  const absl::StatusOr<uint64_t> cut = CutPartialLine(fd, write_context_);
  if (!cut.ok()) {
    ::close(fd);
    return cut.status();
  }
  if (*cut > 0) {
    std::fprintf(stderr, "%s: cut %llu bytes of a partial line at the end of \"%s\"\n",
                 std::string(id()).c_str(), static_cast<unsigned long long>(*cut),
                 config_.path.c_str());
  }
  return fd;
}

absl::Status FileOutput::IoErrorLocked(int error_number, absl::string_view context) {
  if (write_errors_ != nullptr) {
    prometheus::Counter*& counter = errors_by_errno_[error_number];
    if (counter == nullptr) {
      counter = &write_errors_->Add(
          {{"output", std::string(id())}, {"errno", std::string(ErrnoName(error_number))}});
    }
    counter->Increment();
  }
  // Whatever failed, a later attempt may succeed (space freed, quota raised, the device
  // back): the pipeline retries rather than dropping the batch.
  return absl::UnavailableError(
      absl::StrCat(context, ": ", ErrnoText(error_number), " (", ErrnoName(error_number), ")"));
}

absl::Status FileOutput::WriteOutLocked(absl::string_view data, size_t* written) {
  const int error_number = WriteAll(fd_, data, written);
  return error_number == 0 ? absl::OkStatus() : IoErrorLocked(error_number, write_context_);
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
  absl::Status status = WriteOutLocked(lines, &written);
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
  if (!status.ok()) {
    // What is left cannot wait for space any longer; a line whose head is in the file
    // would stay torn, so the file is cut back to its last complete line.
    const auto records = std::count(buffer_.begin(), buffer_.end(), '\n');
    CutPartialLine(fd_, write_context_).IgnoreError();
    status = absl::Status(status.code(), absl::StrCat(status.message(), "; ", records,
                                                      " records could not be written"));
  }
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
  absl::Status status = WriteOutLocked(buffer_, &written);
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
  return std::make_unique<FileOutput>(std::string(id), *std::move(parsed), context.metrics);
}

}  // namespace sluice::outputs
