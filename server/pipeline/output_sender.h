// OutputSender: one output's bounded buffer and the thread that writes it, retries it and
// flushes it, so that an output that is down or slow costs only its own records (under
// `buffer.when_full: drop_newest`) or paces the clients (under `block`), and never makes
// another output wait on its retries.
//
// The pipeline creates one per output and calls Enqueue() from the workers with each
// DispatchedBatch routed to the output. The sender's thread writes the batches in the order
// they came, one at a time, retrying transient errors (UNAVAILABLE, DEADLINE_EXCEEDED) with
// exponential backoff and jitter for up to `retry.max_elapsed` (0: until the output takes
// it or shutdown's deadline passes); any other error drops the batch for this output. A
// batch whose sender waits for `flushed` stays in the buffer after Write until a Flush of
// the output covers it: the thread flushes when the buffer holds no unwritten batch, or
// kMaxBatchesAwaitingFlush such batches; a failed flush is retried like a write, since the
// records it covers are in the output's hands and may still arrive. Each batch is finished
// exactly once per output (DispatchedBatch::Finish), outside the sender's lock.
//
// Memory: the buffer holds at most buffer.max_records records and buffer.max_bytes bytes
// (an empty buffer takes one batch of any size, so that no batch is refused for its size
// alone); what is written and awaits a flush still counts.
#ifndef SLUICE_SERVER_PIPELINE_OUTPUT_SENDER_H_
#define SLUICE_SERVER_PIPELINE_OUTPUT_SENDER_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/outputs/output.h"
#include "server/pipeline/dispatched_batch.h"
#include "server/pipeline/output_metrics.h"
#include "server/pipeline/output_sender_config.h"

namespace sluice::pipeline {

// One sender's state, for GetStats and the metrics (OutputCollector).
struct OutputSenderSnapshot {
  std::string id;
  // Routed to the output and not finished yet: queued, being written, awaiting a flush.
  size_t buffer_records = 0;
  size_t buffer_bytes = 0;
  size_t max_records = 0;
  size_t max_bytes = 0;
  // When the oldest buffered batch was received; absent when the buffer is empty.
  std::optional<absl::Time> oldest_received_at;
  // False while the output's last attempt (write or flush) failed.
  bool up = true;
  // Since when attempts have failed without one succeeding; absent while up.
  std::optional<absl::Time> failing_since;
  std::string last_error;
  absl::Duration unhealthy_after;

  // Failing for unhealthy_after or longer at `now`.
  bool healthy(absl::Time now) const {
    return !failing_since.has_value() || now - *failing_since < unhealthy_after;
  }
};

class OutputSender {
 public:
  // `index` is the output's metrics slot (OutputMetrics::AddOutput). `output` and `metrics`
  // (nullable) must outlive the sender.
  OutputSender(size_t index, outputs::Output& output, const OutputSenderConfig& config,
               OutputMetrics* metrics);
  // Closes with a deadline of now if Close() was not called.
  ~OutputSender();

  OutputSender(const OutputSender&) = delete;
  OutputSender& operator=(const OutputSender&) = delete;

  // Starts the thread. Once, before the first Enqueue.
  void Start();

  // Takes `records` records of `batch` (and `bytes` of memory) into the buffer; `slot` is
  // the output's entry in the batch (its position in the set of outputs the batch was
  // dispatched to, which a reload may change). When it is
  // full: under block, waits for room (the calling worker is the backpressure); under
  // drop_newest, finishes the batch at once as not taken. After Close, or while closing
  // with no room, finishes it at once as not taken (reason shutdown).
  void Enqueue(DispatchedBatch& batch, size_t slot, size_t records, size_t bytes);

  // Waits until the buffer is empty, then flushes the output; both by `deadline`.
  // DEADLINE_EXCEEDED says how many records were still buffered.
  absl::Status Drain(absl::Time deadline);

  // Stops: the thread goes on writing (and flushing) what is buffered, with no retry after
  // `deadline`; what is left then is finished as not taken (reason shutdown). Joins the
  // thread. Returns how many records were given up on that way. Safe twice.
  size_t Close(absl::Time deadline);

  OutputSenderSnapshot Snapshot() const;

 private:
  static constexpr size_t kMaxBatchesAwaitingFlush = 64;
  // One flush attempt may take this long before it counts as failed and is retried.
  static constexpr absl::Duration kFlushAttemptTimeout = absl::Seconds(5);

  struct Entry {
    DispatchedBatch* batch;
    size_t slot;
    size_t records;
    size_t bytes;
    absl::Time received_at;
  };

  void Run();
  // Writes one batch, retrying. Returns the reason it gave up, if it did.
  std::optional<OutputDropReason> WriteWithRetry(const Entry& entry);
  // Flushes the output for the batches awaiting it, retrying, and finishes them.
  void FlushAwaiting();
  // Waits `wait`, shortened by a Close whose deadline comes first. False: the deadline has
  // passed, give up.
  bool Backoff(absl::Duration wait);
  // The next wait, drawn from the upper half of `backoff`.
  absl::Duration Jittered(absl::Duration backoff);
  void OnAttemptFailed(const absl::Status& status, size_t records);
  void OnAttemptSucceeded();
  // Removes `entries` from the buffer's totals, then finishes them outside the lock.
  void Finish(absl::Span<const Entry> entries, std::optional<OutputDropReason> dropped);
  // With mu_ held.
  bool Fits(size_t records, size_t bytes) const;

  outputs::Output& output_;
  const OutputSenderConfig config_;
  OutputMetrics::Counters* const metrics_;
  // Used by the thread only.
  absl::BitGen random_;
  std::vector<Entry> awaiting_flush_;

  // std::mutex rather than absl::Mutex: Debian's Abseil is not built for ThreadSanitizer,
  // which would then not see this lock. Guards everything below it.
  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // the thread waits for batches, or Close
  std::condition_variable room_cv_;   // workers wait for room, Drain for an empty buffer
  std::condition_variable close_cv_;  // a backoff waits for Close
  std::deque<Entry> queue_;
  // When the oldest batch that left queue_ and is not finished (being written, or awaiting
  // a flush) was received.
  std::optional<absl::Time> oldest_taken_;
  size_t records_ = 0;
  size_t bytes_ = 0;
  // The thread waits on work_cv_: Enqueue wakes it.
  bool thread_waiting_ = false;
  bool closing_ = false;
  bool stopped_ = false;
  absl::Time close_deadline_ = absl::InfiniteFuture();
  size_t given_up_at_close_ = 0;
  bool up_ = true;
  std::optional<absl::Time> failing_since_;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_OUTPUT_SENDER_H_
