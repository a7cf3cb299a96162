// RotatedFileCompressor: gzips the files a file output has rotated away, one at a time on a
// thread of its own at a lowered CPU priority, so compression never runs on the write path
// and never holds the output's lock. FileOutput owns one when `compress: gzip` is set and
// hands it each file right after the rotation's rename.
//
// A file "dir/records-20261202T103000Z.log" is compressed into the hidden
// "dir/.records-20261202T103000Z.log.gz.partial", which is fsynced and renamed to
// "records-20261202T103000Z.log.gz" only once complete; then the directory is fsynced and
// the original removed. So at any moment the uncompressed file, or a complete ".gz", or both
// exist: a crash or a stop in between loses nothing, and the output's next start queues
// the file again (FileOutput finds it by its name). A failure (a full disk, a file that
// retention removed first) removes the partial file, keeps the original, is counted and
// logged to stderr.
#ifndef SLUICE_SERVER_OUTPUTS_FILE_ROTATED_FILE_COMPRESSOR_H_
#define SLUICE_SERVER_OUTPUTS_FILE_ROTATED_FILE_COMPRESSOR_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "prometheus/counter.h"

namespace sluice::outputs {

class RotatedFileCompressor {
 public:
  // The suffix of a file being compressed; `.` in front of its name hides it.
  static constexpr char kPartialSuffix[] = ".gz.partial";

  // `compressed` and `failed`, when not null, count the files done and the attempts that
  // failed. `id` names the output in stderr lines.
  RotatedFileCompressor(std::string id, prometheus::Counter* compressed,
                        prometheus::Counter* failed);
  // Stops (abandoning the file in progress) and joins the thread.
  ~RotatedFileCompressor();

  RotatedFileCompressor(const RotatedFileCompressor&) = delete;
  RotatedFileCompressor& operator=(const RotatedFileCompressor&) = delete;

  // Queues `path` for compression. Returns at once.
  void Add(std::filesystem::path path);
  // Asks the thread to stop: the file in progress is abandoned (its partial output
  // removed), the queued ones are left uncompressed. Returns at once.
  void RequestStop();

  // Compresses `source` into `source` + ".gz" as described above, checking `stop` between
  // chunks. The original is removed only after the ".gz" is complete and durable.
  // CANCELLED when `stop` was set or retention removed `source` first: nothing failed.
  static absl::Status CompressFile(const std::filesystem::path& source,
                                   const std::atomic<bool>& stop);

 private:
  void Run();

  const std::string id_;
  prometheus::Counter* const compressed_;
  prometheus::Counter* const failed_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::filesystem::path> queue_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_FILE_ROTATED_FILE_COMPRESSOR_H_
