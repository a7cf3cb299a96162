// The file output: appends each batch's lines to one file through an in-memory buffer.
//
//   outputs:
//     - type: file
//       name: audit
//       path: /var/log/sluice/audit.log  # required; a missing parent directory is created
//       format: json                      # json (default) | text | logfmt
//       buffer_bytes: 262144              # 0..64 MiB; 0 writes every batch straight away
//       flush_interval: 1s                # 1ms..1h
//
// Buffering. Batches are appended to a buffer of `buffer_bytes`; when one would overflow
// it, the buffer is written to the file first, so many batches share one write(2). A batch
// larger than the buffer is written directly after it. A thread owned by the output writes
// the buffer every `flush_interval`, so the lines of an idle output still reach the file;
// Flush() and Shutdown() write it at once. "Flushed" means handed to the kernel, not
// fsynced. The file is opened O_APPEND, so other writers (logrotate's copytruncate
// included) do not make lines overlap.
//
// Rotation. Reopen() (sluiced calls it on SIGHUP, logrotate's postrotate) writes the
// buffer to the file open now, then opens `path` again, creating it: after logrotate
// renamed the file, the lines up to the signal are in the renamed file and the later ones
// in a new file at `path`. If `path` cannot be opened, the old file stays in use and the
// error is returned.
//
// Errors. A failed write (disk full, quota, I/O error) is UNAVAILABLE with the errno's
// name in the message ("... (ENOSPC)") and counted in
// sluice_output_write_errors_total{output,errno}. It keeps whatever was not written at the
// head of the buffer; the next write, flush or tick retries it, so a line cut by a partial
// write is completed, lines stay in order and none is repeated. While the disk is failing
// and the buffer cannot take a batch, Write() returns UNAVAILABLE without taking it: memory
// stays bounded by `buffer_bytes` (plus the unwritten tail of at most one oversized batch,
// which is taken) and the pipeline retries with backoff. Shutdown() that still cannot write
// the buffer cuts the file back to the end of its last complete line and returns the error
// with how many records were not written.
//
// Torn lines. Start() and Reopen() cut a file that does not end with '\n' back to just
// after its last '\n': those bytes are a partial line of a previous run (a crash during a
// write), and appending to them would glue two records into one line. One stderr line says
// how many bytes were cut.
#ifndef SLUICE_SERVER_OUTPUTS_FILE_FILE_OUTPUT_H_
#define SLUICE_SERVER_OUTPUTS_FILE_FILE_OUTPUT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"
#include "server/outputs/output.h"
#include "server/outputs/output_registry.h"
#include "server/outputs/serialized_output.h"

namespace sluice::outputs {

struct FileOutputConfig {
  static constexpr uint64_t kMaxBufferBytes = uint64_t{64} << 20;
  static constexpr absl::Duration kMinFlushInterval = absl::Milliseconds(1);
  static constexpr absl::Duration kMaxFlushInterval = absl::Hours(1);

  std::string path;
  EncodingId format = kJsonEncoding;
  uint64_t buffer_bytes = 256 * 1024;
  absl::Duration flush_interval = absl::Seconds(1);

  // Reads and validates an output block (`path` is where it is in the config, e.g.
  // "outputs[0]"); errors name the key path.
  static absl::StatusOr<FileOutputConfig> Parse(const YAML::Node& block, absl::string_view path);
};

class FileOutput final : public SerializedOutput {
 public:
  std::optional<EncodingId> encoding() const override { return config_.format; }
  // `metrics`, when not null, gets sluice_output_write_errors_total{output,errno}.
  FileOutput(std::string id, FileOutputConfig config, prometheus::Registry* metrics = nullptr);
  // Shuts down (writing the buffer) if that has not happened, and joins the flusher.
  ~FileOutput() override;

 protected:
  // Creates the parent directory and opens the file; errors name the path.
  absl::Status StartLocked() override;
  absl::Status WriteLocked(OutputBatch& batch) override;
  // Writes the buffer. A write to a local file cannot be abandoned halfway, so the
  // deadline is not enforced.
  absl::Status FlushLocked(absl::Time deadline) override;
  absl::Status ShutdownLocked(absl::Time deadline) override;
  absl::Status ReopenLocked() override;

 private:
  // Creates the parent directory and opens `path` for appending; errors name the path.
  absl::StatusOr<int> OpenPath() const;
  // Body of the flusher thread: writes the buffer every flush_interval until shutdown.
  void FlushPeriodically();
  // Writes the buffer to the file, keeping the unwritten rest on error.
  absl::Status WriteBufferLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Writes `data` to the file; `*written` counts what went out, also on error.
  absl::Status WriteOutLocked(absl::string_view data, size_t* written)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Counts the failure by errno and returns it as UNAVAILABLE naming the errno.
  absl::Status IoErrorLocked(int error_number, absl::string_view context)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());

  const FileOutputConfig config_;
  const std::string write_context_;
  int fd_ ABSL_GUARDED_BY(mutex()) = -1;
  std::string buffer_ ABSL_GUARDED_BY(mutex());
  bool stopping_ ABSL_GUARDED_BY(mutex()) = false;
  prometheus::Family<prometheus::Counter>* write_errors_ = nullptr;
  // Labelled counters of write_errors_, added at an errno's first failure.
  absl::flat_hash_map<int, prometheus::Counter*> errors_by_errno_ ABSL_GUARDED_BY(mutex());
  // Started by StartLocked when there is a buffer; joined by the destructor, outside the
  // lock it waits on.
  std::thread flusher_;
};

class FileOutputFactory final : public OutputFactory {
 public:
  absl::string_view type() const override { return "file"; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Output>> Create(absl::string_view id, const YAML::Node& config,
                                                 OutputContext& context) const override;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_FILE_FILE_OUTPUT_H_
