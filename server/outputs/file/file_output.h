// The file output: appends each batch's lines to one file through an in-memory buffer.
//
//   outputs:
//     - type: file
//       name: audit
//       path: /var/log/sluice/audit.log  # required; a missing parent directory is created
//       format: json                      # json (default) | text | logfmt
//       buffer_bytes: 262144              # 0..64 MiB; 0 writes every batch straight away
//       flush_interval: 1s                # 1ms..1h
//       max_bytes: 0                      # rotate before a batch takes the file past this
//       rotate_every: 0s                  # rotate at each multiple of this, UTC (1h, 24h)
//       max_files: 0                      # rotated files kept; 0 = all
//       max_age: 0s                       # rotated files removed past this age; 0s = never
//       compress: none                    # none | gzip: rotated files are gzipped
//       fsync: never                      # never | interval | always
//       fsync_interval: 1s                # with fsync: interval
//
// Buffering. Batches are appended to a buffer of `buffer_bytes`; when one would overflow
// it, the buffer is written to the file first, so many batches share one write(2). A batch
// larger than the buffer is written directly after it. A thread owned by the output writes
// the buffer every `flush_interval`, so the lines of an idle output still reach the file;
// Flush() and Shutdown() write it at once. The file is opened O_APPEND, so other writers
// (logrotate's copytruncate included) do not make lines overlap.
//
// Durability. With `fsync: never`, Flush() hands the lines to the kernel: they survive a
// crash of sluiced, not a power loss. With `always`, every flush (Flush(), the flusher's
// tick, a rotation, Shutdown()) ends with fdatasync(2), so a flushed line is on the device.
// With `interval`, the flusher fdatasyncs at least every `fsync_interval` and Flush() does
// when the last one is older than that: a power loss costs at most the last interval. A
// rotation (under `interval` or `always`) syncs the old file before renaming it, and the
// directory after, so rotated names survive too. A failed fdatasync is UNAVAILABLE and
// counted by errno like a failed write.
//
// Rotation. Between two batches, never inside a line, the file is renamed to
// "<stem>-<UTC time of the rotation><extension>" (records.log ->
// records-20261202T103000Z.log; "-1", "-2"... follow the time when a second already has
// one) and `path` is opened anew. It rotates by size when the next batch would take it past
// `max_bytes` (the size is a counter: what the file held when opened plus what this output
// wrote), and by time at each multiple of `rotate_every` since the epoch, so `1h` rotates at
// the top of each UTC hour; an empty file is not rotated. The check costs an addition and a
// clock read per batch. A rotation first writes the buffer (a line the disk cut short is
// completed in the old file); if that, the rename or the open fails, the current file stays
// in use and Write() returns the error, UNAVAILABLE. Retention then removes, by their
// names, the rotated files beyond the newest `max_files` and those rotated more than
// `max_age` ago; it runs at each rotation and at Start(). Rotation applies to regular files
// only.
//
// Reopen() (sluiced calls it on SIGHUP, logrotate's postrotate) writes the buffer to the
// file open now, then opens `path` again, creating it: after logrotate renamed the file, the
// lines up to the signal are in the renamed file and the later ones in a new file at
// `path`. If `path` cannot be opened, the old file stays in use and the error is returned.
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
// Compression. With `compress: gzip` each rotated file is handed to a
// RotatedFileCompressor (rotated_file_compressor.h), which gzips it off the write path;
// Start() hands it the rotated files a previous run left uncompressed.
//
// Torn lines. Start() and Reopen() cut a file that does not end with '\n' back to just
// after its last '\n': those bytes are a partial line of a previous run (a crash during a
// write), and appending to them would glue two records into one line. One stderr line says
// how many bytes were cut.
#ifndef SLUICE_SERVER_OUTPUTS_FILE_FILE_OUTPUT_H_
#define SLUICE_SERVER_OUTPUTS_FILE_FILE_OUTPUT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/outputs/file/rotated_file_compressor.h"
#include "server/outputs/output.h"
#include "server/outputs/output_registry.h"
#include "server/outputs/serialized_output.h"

namespace sluice::outputs {

struct FileOutputConfig {
  enum class Fsync { kNever, kInterval, kAlways };
  enum class Compression { kNone, kGzip };

  static constexpr uint64_t kMaxBufferBytes = uint64_t{64} << 20;
  static constexpr absl::Duration kMinFlushInterval = absl::Milliseconds(1);
  static constexpr absl::Duration kMaxFlushInterval = absl::Hours(1);

  static constexpr uint64_t kMaxMaxBytes = uint64_t{1} << 40;
  static constexpr absl::Duration kMaxRotateEvery = absl::Hours(24 * 31);
  static constexpr absl::Duration kMaxMaxAge = absl::Hours(24 * 3660);

  std::string path;
  EncodingId format = kJsonEncoding;
  uint64_t buffer_bytes = 256 * 1024;
  absl::Duration flush_interval = absl::Seconds(1);
  uint64_t max_bytes = 0;
  absl::Duration rotate_every = absl::ZeroDuration();
  uint32_t max_files = 0;
  absl::Duration max_age = absl::ZeroDuration();
  Compression compress = Compression::kNone;
  Fsync fsync = Fsync::kNever;
  absl::Duration fsync_interval = absl::Seconds(1);
  // The wall clock rotation and retention read; tests set their own.
  std::function<absl::Time()> now = &absl::Now;

  // Reads and validates an output block (`path` is where it is in the config, e.g.
  // "outputs[0]"); errors name the key path.
  static absl::StatusOr<FileOutputConfig> Parse(const YAML::Node& block, absl::string_view path);
};

class FileOutput final : public SerializedOutput {
 public:
  std::optional<EncodingId> encoding() const override { return config_.format; }
  // `metrics`, when not null, gets sluice_output_write_errors_total{output,errno}, and
  // with fsync or compression on, sluice_output_fsync_duration_seconds{output} and
  // sluice_output_files_compressed_total / _compress_failures_total{output}.
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
  // Takes `fd` as the open file: its size and kind, and when it rotates next.
  void AdoptLocked(int fd) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Whether the file rotates before `incoming` more bytes are appended: arithmetic on a
  // counter and one clock read, no system call.
  bool RotationDueLocked(size_t incoming) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Writes the buffer, renames the file to its rotated name, opens `path` anew and applies
  // retention. On error the current file stays in use.
  absl::Status RotateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Removes the rotated files beyond max_files and older than max_age.
  void ApplyRetention(absl::Time now) const;
  // Writes the buffer to the file, keeping the unwritten rest on error.
  absl::Status WriteBufferLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Writes the buffer, then fdatasyncs as `fsync` asks: `force` for a flush that must
  // sync whenever fsync is on (rotation, shutdown), else when `always` or the interval
  // has passed.
  absl::Status WriteBufferAndSyncLocked(bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // fdatasync(2) of a regular file that has unsynced bytes.
  absl::Status SyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // fsyncs the file's directory (a new or renamed name) when fsync is on; returns 0 or
  // the errno.
  int SyncDirectory() const;
  // Hands the compressor the rotated files not yet compressed, and removes partial
  // output a stopped compression left.
  void QueueUncompressed() const;
  // Writes `data` to the file; `*written` counts what went out, also on error.
  absl::Status WriteOutLocked(absl::string_view data, size_t* written)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Counts the failure by errno and returns it as UNAVAILABLE naming the errno.
  absl::Status IoErrorLocked(int error_number, absl::string_view context)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());

  const FileOutputConfig config_;
  const std::string write_context_;
  int fd_ ABSL_GUARDED_BY(mutex()) = -1;
  // Rotation applies to regular files only (not /dev/stdout, a FIFO).
  bool regular_ ABSL_GUARDED_BY(mutex()) = false;
  // Bytes in the file: its size when opened plus what this output wrote since.
  uint64_t file_bytes_ ABSL_GUARDED_BY(mutex()) = 0;
  absl::Time next_rotation_ ABSL_GUARDED_BY(mutex()) = absl::InfiniteFuture();
  std::string buffer_ ABSL_GUARDED_BY(mutex());
  // Bytes went to the file since its last fdatasync.
  bool unsynced_ ABSL_GUARDED_BY(mutex()) = false;
  absl::Time last_sync_ ABSL_GUARDED_BY(mutex()) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mutex()) = false;
  prometheus::Family<prometheus::Counter>* write_errors_ = nullptr;
  // Labelled counters of write_errors_, added at an errno's first failure.
  absl::flat_hash_map<int, prometheus::Counter*> errors_by_errno_ ABSL_GUARDED_BY(mutex());
  prometheus::Histogram* fsync_seconds_ = nullptr;
  prometheus::Counter* files_compressed_ = nullptr;
  prometheus::Counter* compress_failures_ = nullptr;
  // Created by StartLocked with `compress: gzip`; stopped by ShutdownLocked, joined by
  // the destructor.
  std::unique_ptr<RotatedFileCompressor> compressor_;
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
