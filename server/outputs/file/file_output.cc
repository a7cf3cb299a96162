#include "server/outputs/file/file_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
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
      config::IntegerKey("max_bytes", &S::max_bytes, 0, S::kMaxMaxBytes,
                         "The file is rotated before a batch would take it past this size "
                         "(a batch larger than this gets a file of its own). 0: no size limit."),
      config::DurationKey("rotate_every", &S::rotate_every, absl::ZeroDuration(),
                          S::kMaxRotateEvery,
                          "The file is rotated at each multiple of this since the Unix epoch, "
                          "UTC: `1h` at the top of every hour, `24h` at midnight UTC. 0s: never."),
      config::IntegerKey("max_files", &S::max_files, 0, 1000000,
                         "Rotated files kept; the oldest beyond this are removed. 0: all."),
      config::DurationKey("max_age", &S::max_age, absl::ZeroDuration(), S::kMaxMaxAge,
                          "Rotated files whose rotation time is older than this are removed. "
                          "0s: kept forever."),
      config::ChoiceKey<S, S::Compression>(
          "compress", &S::compress,
          {{"none", S::Compression::kNone}, {"gzip", S::Compression::kGzip}},
          "`gzip`: each rotated file is gzipped to `<name>.gz` by a thread of its own, off the "
          "write path; the original is removed once the `.gz` is complete and synced."),
      config::ChoiceKey<S, S::Fsync>(
          "fsync", &S::fsync,
          {{"never", S::Fsync::kNever},
           {"interval", S::Fsync::kInterval},
           {"always", S::Fsync::kAlways}},
          "When written lines are fdatasync'ed to the device. `never`: left to the kernel "
          "(they survive a crash of sluiced, not a power loss). `always`: every flush ends "
          "with one, so `ack_on: flushed` means on the device. `interval`: at least every "
          "`fsync_interval`. See [Durability](#durability)."),
      config::DurationKey("fsync_interval", &S::fsync_interval, S::kMinFlushInterval,
                          S::kMaxFlushInterval,
                          "With `fsync: interval`: the longest a written line waits for its "
                          "fdatasync."),
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

// The first multiple of `every` since the epoch after `now`.
absl::Time NextMultiple(absl::Time now, absl::Duration every) {
  absl::Duration remainder;
  const int64_t periods = absl::IDivDuration(now - absl::UnixEpoch(), every, &remainder);
  return absl::UnixEpoch() + (periods + 1) * every;
}

constexpr absl::string_view kRotationTimeFormat = "%Y%m%dT%H%M%SZ";
constexpr size_t kRotationTimeLength = sizeof("20261202T103000Z") - 1;

// `path` split around the spot a rotation time goes: "dir/records" and ".log".
struct NameParts {
  std::filesystem::path dir;
  std::string stem;
  std::string extension;
};

NameParts SplitName(const std::string& path) {
  const std::filesystem::path p(path);
  return {.dir = p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path(),
          .stem = p.stem().string(),
          .extension = p.extension().string()};
}

// A rotated file of `parts`, found by its name: "<stem>-<time>[-<counter>]<extension>",
// possibly ending ".gz".
struct RotatedFile {
  std::string time;
  uint64_t counter = 0;
  std::filesystem::path path;
};

std::optional<RotatedFile> ParseRotatedName(const NameParts& parts, const std::string& name) {
  absl::string_view rest = name;
  if (!absl::ConsumePrefix(&rest, parts.stem) || !absl::ConsumePrefix(&rest, "-")) {
    return std::nullopt;
  }
  absl::ConsumeSuffix(&rest, ".gz");
  if (!absl::ConsumeSuffix(&rest, parts.extension) || rest.size() < kRotationTimeLength) {
    return std::nullopt;
  }
  RotatedFile file;
  file.time = std::string(rest.substr(0, kRotationTimeLength));
  // Checked by shape, not with absl::ParseTime, whose %Y would take all eight digits as the
  // year. Same-width UTC times compare as strings, which is how retention uses them.
  for (size_t i = 0; i < kRotationTimeLength; ++i) {
    const char c = file.time[i];
    const bool ok = i == 8                         ? c == 'T'
                    : i == kRotationTimeLength - 1 ? c == 'Z'
                                                   : absl::ascii_isdigit(c);
    if (!ok) return std::nullopt;
  }
  rest.remove_prefix(kRotationTimeLength);
  if (!rest.empty() &&
      (!absl::ConsumePrefix(&rest, "-") || !absl::SimpleAtoi(rest, &file.counter))) {
    return std::nullopt;
  }
  return file;
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
    if (config_.fsync != FileOutputConfig::Fsync::kNever) {
      fsync_seconds_ = &prometheus::BuildHistogram()
                            .Name("sluice_output_fsync_duration_seconds")
                            .Help("Time per fdatasync of an output's file, successful or not.")
                            .Register(*metrics)
                            .Add({{"output", id}}, prometheus::Histogram::BucketBoundaries{
                                                       0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                       0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    }
    if (config_.compress == FileOutputConfig::Compression::kGzip) {
      files_compressed_ = &prometheus::BuildCounter()
                               .Name("sluice_output_files_compressed_total")
                               .Help("Rotated files an output gzipped.")
                               .Register(*metrics)
                               .Add({{"output", id}});
      compress_failures_ = &prometheus::BuildCounter()
                                .Name("sluice_output_compress_failures_total")
                                .Help("Rotated files an output could not gzip (left as they were).")
                                .Register(*metrics)
                                .Add({{"output", id}});
    }
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

void FileOutput::AdoptLocked(int fd) {
  fd_ = fd;
  struct stat info;
  regular_ = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
  file_bytes_ = regular_ ? static_cast<uint64_t>(info.st_size) : 0;
  next_rotation_ = config_.rotate_every > absl::ZeroDuration()
                       ? NextMultiple(config_.now(), config_.rotate_every)
                       : absl::InfiniteFuture();
}

bool FileOutput::RotationDueLocked(size_t incoming) {
  if (!regular_) return false;
  const uint64_t held = file_bytes_ + buffer_.size();
  if (config_.max_bytes > 0 && held > 0 && held + incoming > config_.max_bytes) return true;
  return next_rotation_ != absl::InfiniteFuture() && config_.now() >= next_rotation_;
}

absl::Status FileOutput::RotateLocked() {
  const absl::Time now = config_.now();
  if (file_bytes_ + buffer_.size() == 0) {
    // Nothing to set aside: an empty file just starts its next period.
    if (config_.rotate_every > absl::ZeroDuration()) {
      next_rotation_ = NextMultiple(now, config_.rotate_every);
    }
    return absl::OkStatus();
  }
  // The buffered lines belong to the file being rotated, and a line the disk cut short
  // must be completed there before the file is set aside.
  if (absl::Status status = WriteBufferAndSyncLocked(/*force=*/true); !status.ok()) {
    return status;
  }
  const NameParts parts = SplitName(config_.path);
  const std::string time = absl::FormatTime(kRotationTimeFormat, now, absl::UTCTimeZone());
  std::filesystem::path rotated;
  for (uint64_t counter = 0;; ++counter) {
    const std::string name = absl::StrCat(
        parts.stem, "-", time, counter == 0 ? "" : absl::StrCat("-", counter), parts.extension);
    rotated = parts.dir / name;
    std::error_code ignored;
    if (!std::filesystem::exists(rotated, ignored) &&
        !std::filesystem::exists(rotated.string() + ".gz", ignored)) {
      break;
    }
  }
  if (::rename(config_.path.c_str(), rotated.c_str()) != 0) {
    return IoErrorLocked(
        errno, absl::StrCat(id(), ": rotate \"", config_.path, "\" to \"", rotated.string(), "\""));
  }
  absl::StatusOr<int> fd = OpenPath();
  if (!fd.ok()) {
    // Back to the name it had, so the lines keep going to `path`.
    ::rename(rotated.c_str(), config_.path.c_str());
    return absl::UnavailableError(fd.status().message());
  }
  ::close(fd_);
  AdoptLocked(*fd);
  if (const int error_number = SyncDirectory(); error_number != 0) {
    // Both names exist and every line is in one of them; only their survival of a power
    // loss is in doubt, so the rotation stands and the failure is counted and logged.
    const absl::Status failed = IoErrorLocked(
        error_number, absl::StrCat(id(), ": fsync the directory of \"", config_.path, "\""));
    std::fprintf(stderr, "%s\n", std::string(failed.message()).c_str());
  }
  ApplyRetention(now);
  if (compressor_ != nullptr) compressor_->Add(rotated);
  return absl::OkStatus();
}

void FileOutput::ApplyRetention(absl::Time now) const {
  if (config_.max_files == 0 && config_.max_age == absl::ZeroDuration()) return;
  const NameParts parts = SplitName(config_.path);
  std::vector<RotatedFile> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(parts.dir, error)) {
    std::optional<RotatedFile> file = ParseRotatedName(parts, entry.path().filename().string());
    if (!file.has_value()) continue;
    file->path = entry.path();
    files.push_back(*std::move(file));
  }
  // Newest first; a ".gz" and its uncompressed original are one rotation.
  std::sort(files.begin(), files.end(), [](const RotatedFile& a, const RotatedFile& b) {
    return std::tie(a.time, a.counter) > std::tie(b.time, b.counter);
  });
  const std::string oldest_kept =
      config_.max_age > absl::ZeroDuration()
          ? absl::FormatTime(kRotationTimeFormat, now - config_.max_age, absl::UTCTimeZone())
          : std::string();
  size_t rotations = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const bool same_rotation =
        i > 0 && files[i].time == files[i - 1].time && files[i].counter == files[i - 1].counter;
    if (!same_rotation) ++rotations;
    const bool too_many = config_.max_files > 0 && rotations > config_.max_files;
    const bool too_old = !oldest_kept.empty() && files[i].time < oldest_kept;
    if (too_many || too_old) {
      std::error_code ignored;
      std::filesystem::remove(files[i].path, ignored);
    }
  }
}

absl::Status FileOutput::WriteOutLocked(absl::string_view data, size_t* written) {
  const int error_number = WriteAll(fd_, data, written);
  file_bytes_ += *written;
  if (*written > 0) unsynced_ = true;
  return error_number == 0 ? absl::OkStatus() : IoErrorLocked(error_number, write_context_);
}

absl::Status FileOutput::StartLocked() {
  absl::StatusOr<int> fd = OpenPath();
  if (!fd.ok()) return fd.status();
  AdoptLocked(*fd);
  if (const int error_number = SyncDirectory(); error_number != 0) {
    ::close(fd_);
    fd_ = -1;
    return ErrnoStatus(error_number,
                       absl::StrCat(id(), ": fsync the directory of \"", config_.path, "\""));
  }
  ApplyRetention(config_.now());
  if (config_.compress == FileOutputConfig::Compression::kGzip) {
    compressor_ = std::make_unique<RotatedFileCompressor>(std::string(id()), files_compressed_,
                                                          compress_failures_);
    QueueUncompressed();
  }
  if (config_.buffer_bytes > 0) buffer_.reserve(config_.buffer_bytes);
  if (config_.buffer_bytes > 0 || config_.fsync != FileOutputConfig::Fsync::kNever) {
    flusher_ = std::thread([this] { FlushPeriodically(); });
  }
  return absl::OkStatus();
}

int FileOutput::SyncDirectory() const {
  if (config_.fsync == FileOutputConfig::Fsync::kNever) return 0;
  const int fd = ::open(SplitName(config_.path).dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int error_number = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return error_number;
}

absl::Status FileOutput::SyncLocked() {
  if (!regular_ || !unsynced_) return absl::OkStatus();
  const absl::Time start = absl::Now();
  const int result = ::fdatasync(fd_);
  const int error_number = errno;
  const absl::Time end = absl::Now();
  if (fsync_seconds_ != nullptr) fsync_seconds_->Observe(absl::ToDoubleSeconds(end - start));
  if (result != 0) {
    // Linux may already have dropped the pages that failed to reach the device and a later
    // fdatasync will not report it again; the error is all there is to go on.
    return IoErrorLocked(error_number, absl::StrCat(id(), ": fdatasync \"", config_.path, "\""));
  }
  unsynced_ = false;
  last_sync_ = end;
  return absl::OkStatus();
}

absl::Status FileOutput::WriteBufferAndSyncLocked(bool force) {
  if (absl::Status status = WriteBufferLocked(); !status.ok()) return status;
  switch (config_.fsync) {
    case FileOutputConfig::Fsync::kNever:
      return absl::OkStatus();
    case FileOutputConfig::Fsync::kAlways:
      return SyncLocked();
    case FileOutputConfig::Fsync::kInterval:
      if (force || absl::Now() - last_sync_ >= config_.fsync_interval) return SyncLocked();
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

void FileOutput::QueueUncompressed() const {
  const NameParts parts = SplitName(config_.path);
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(parts.dir, error)) {
    std::string name = entry.path().filename().string();
    absl::string_view partial = name;
    if (absl::ConsumePrefix(&partial, ".") &&
        absl::ConsumeSuffix(&partial, RotatedFileCompressor::kPartialSuffix) &&
        ParseRotatedName(parts, std::string(partial)).has_value()) {
      // A stopped compression's output; its original is still there and is queued anew.
      std::error_code ignored;
      std::filesystem::remove(entry.path(), ignored);
      continue;
    }
    if (absl::EndsWith(name, ".gz") || !ParseRotatedName(parts, name).has_value()) continue;
    std::error_code ignored;
    if (std::filesystem::exists(entry.path().string() + ".gz", ignored)) {
      // A crash between the ".gz"'s rename and the original's removal: the ".gz" is
      // complete (it is renamed only once synced), so the original goes.
      std::filesystem::remove(entry.path(), ignored);
      continue;
    }
    compressor_->Add(entry.path());
  }
}

absl::Status FileOutput::WriteLocked(OutputBatch& batch) {
  const absl::string_view lines = batch.Lines(config_.format);
  if (RotationDueLocked(lines.size())) {
    if (absl::Status status = RotateLocked(); !status.ok()) return status;
  }
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

absl::Status FileOutput::FlushLocked(absl::Time /*deadline*/) {
  return WriteBufferAndSyncLocked(/*force=*/false);
}

absl::Status FileOutput::ShutdownLocked(absl::Time /*deadline*/) {
  stopping_ = true;
  // The file in progress is abandoned; the next start compresses it.
  if (compressor_ != nullptr) compressor_->RequestStop();
  absl::Status status = WriteBufferAndSyncLocked(/*force=*/true);
  if (!status.ok() && !buffer_.empty()) {
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
  absl::Status status = WriteBufferAndSyncLocked(/*force=*/true);
  absl::StatusOr<int> fd = OpenPath();
  if (!fd.ok()) return fd.status();
  if (const int error_number = SyncDirectory(); error_number != 0 && status.ok()) {
    status = IoErrorLocked(error_number,
                           absl::StrCat(id(), ": fsync the directory of \"", config_.path, "\""));
  }
  // The old file's lines are all written or kept in the buffer; a close error cannot
  // lose any of them, so it only fails the call.
  if (::close(fd_) != 0 && status.ok()) {
    status = ErrnoStatus(errno, absl::StrCat(id(), ": close \"", config_.path, "\""));
  }
  AdoptLocked(*fd);
  return status;
}

void FileOutput::FlushPeriodically() {
  const absl::Duration tick = config_.fsync == FileOutputConfig::Fsync::kInterval
                                  ? std::min(config_.flush_interval, config_.fsync_interval)
                                  : config_.flush_interval;
  absl::MutexLock lock(&mutex());
  while (!mutex().AwaitWithTimeout(absl::Condition(&stopping_), tick)) {
    // A failure leaves the data in the buffer (or unsynced); the next tick, write or flush
    // retries it.
    WriteBufferAndSyncLocked(/*force=*/false).IgnoreError();
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
