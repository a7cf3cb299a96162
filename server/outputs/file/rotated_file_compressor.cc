#include "server/outputs/file/rotated_file_compressor.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "server/outputs/write_fully.h"

namespace sluice::outputs {

namespace {

// Below the workers and senders: compression is work that may wait.
constexpr int kCompressorNice = 10;
constexpr size_t kChunkBytes = 128 * 1024;

absl::Status FsyncPath(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open \"", path.string(), "\""));
  absl::Status status = absl::OkStatus();
  if (::fsync(fd) != 0) status = ErrnoStatus(errno, absl::StrCat("fsync \"", path.string(), "\""));
  ::close(fd);
  return status;
}

}  // namespace

RotatedFileCompressor::RotatedFileCompressor(std::string id, prometheus::Counter* compressed,
                                             prometheus::Counter* failed)
    : id_(std::move(id)), compressed_(compressed), failed_(failed) {
  thread_ = std::thread([this] { Run(); });
}

RotatedFileCompressor::~RotatedFileCompressor() {
  RequestStop();
  thread_.join();
}

void RotatedFileCompressor::Add(std::filesystem::path path) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(path));
  }
  wake_.notify_one();
}

void RotatedFileCompressor::RequestStop() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true, std::memory_order_relaxed);
  }
  wake_.notify_one();
}

void RotatedFileCompressor::Run() {
  // Linux gives each thread its own nice value; a failure only leaves it at the default.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kCompressorNice);
  while (true) {
    std::filesystem::path next;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stop_.load(std::memory_order_relaxed) || !queue_.empty(); });
      if (stop_.load(std::memory_order_relaxed)) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    const absl::Status status = CompressFile(next, stop_);
    if (status.ok()) {
      if (compressed_ != nullptr) compressed_->Increment();
    } else if (!absl::IsCancelled(status)) {
      if (failed_ != nullptr) failed_->Increment();
      std::fprintf(stderr, "%s: cannot compress \"%s\", left uncompressed: %s\n", id_.c_str(),
                   next.c_str(), std::string(status.message()).c_str());
    }
  }
}

absl::Status RotatedFileCompressor::CompressFile(const std::filesystem::path& source,
                                                 const std::atomic<bool>& stop) {
  const std::filesystem::path partial =
      source.parent_path() / absl::StrCat(".", source.filename().string(), kPartialSuffix);
  const std::filesystem::path done = std::filesystem::path(source.string() + ".gz");

  const int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0 && errno == ENOENT) return absl::CancelledError("removed by retention");
  if (in < 0) return ErrnoStatus(errno, absl::StrCat("open \"", source.string(), "\""));
  absl::Cleanup close_in = [in] { ::close(in); };
  const int out = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return ErrnoStatus(errno, absl::StrCat("create \"", partial.string(), "\""));
  bool keep_partial = false;
  absl::Cleanup remove_partial = [&] {
    if (!keep_partial) ::unlink(partial.c_str());
  };
  // zlib closes the descriptor it is given; this one stays open for the fsync.
  const int out_for_gzip = ::dup(out);
  absl::Cleanup close_out = [out] { ::close(out); };
  if (out_for_gzip < 0) return ErrnoStatus(errno, "dup");
  gzFile gz = ::gzdopen(out_for_gzip, "wb");
  if (gz == nullptr) {
    ::close(out_for_gzip);
    return absl::ResourceExhaustedError("gzdopen: out of memory");
  }

  const auto gzip_error = [&](absl::string_view what) {
    int code = Z_OK;
    const char* message = ::gzerror(gz, &code);
    return code == Z_ERRNO ? ErrnoStatus(errno, absl::StrCat(what, " \"", partial.string(), "\""))
                           : absl::InternalError(absl::StrCat(what, ": ", message));
  };
  std::vector<char> chunk(kChunkBytes);
  absl::Status status = absl::OkStatus();
  while (status.ok()) {
    if (stop.load(std::memory_order_relaxed)) {
      status = absl::CancelledError("stopping");
      break;
    }
    const ssize_t n = ::read(in, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      status = ErrnoStatus(errno, absl::StrCat("read \"", source.string(), "\""));
    } else if (n == 0) {
      break;
    } else if (::gzwrite(gz, chunk.data(), static_cast<unsigned>(n)) != n) {
      status = gzip_error("gzwrite");
    }
  }
  // gzclose writes the trailer; its errors count as much as gzwrite's.
  const int close_code = ::gzclose(gz);
  if (!status.ok()) return status;
  if (close_code != Z_OK) {
    return close_code == Z_ERRNO
               ? ErrnoStatus(errno, absl::StrCat("close \"", partial.string(), "\""))
               : absl::InternalError(absl::StrCat("gzclose: error ", close_code));
  }
  if (::fsync(out) != 0) {
    return ErrnoStatus(errno, absl::StrCat("fsync \"", partial.string(), "\""));
  }
  if (::rename(partial.c_str(), done.c_str()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("rename to \"", done.string(), "\""));
  }
  keep_partial = true;
  // The ".gz" must be on the disk under its name before the original goes.
  if (absl::Status synced = FsyncPath(source.parent_path(), O_RDONLY | O_DIRECTORY); !synced.ok()) {
    return synced;
  }
  if (::unlink(source.c_str()) != 0) {
    const int error_number = errno;
    if (error_number == ENOENT) {
      // Retention removed the original while it was being compressed: the ".gz" of a
      // file retention no longer wants goes too.
      ::unlink(done.c_str());
      return absl::CancelledError("removed by retention");
    }
    return ErrnoStatus(error_number, absl::StrCat("remove \"", source.string(), "\""));
  }
  return absl::OkStatus();
}

}  // namespace sluice::outputs
