// Scheduler: N worker threads, one bounded channel each, between ingest and the outputs.
//
// Ingest calls Submit() from gRPC callback threads; Submit never blocks. Each channel holds
// at most `channel_capacity` records and at most `channel_capacity_bytes` of their
// in-memory size (RecordBatch::memory_bytes(), computed once per batch at Submit); it is
// full when either bound is reached. The record bound alone does not bound memory: a
// channel of tiny records and one of 64 KiB messages differ a thousandfold. A single batch
// larger than a whole channel, by either measure, is admitted into an empty channel, so no
// batch is stuck forever. Dispatch is round_robin — the next channel in turn, spilling to
// the others when it is full — or stream_affinity — channel = stream_id mod workers, which
// keeps each stream's batches in order.
//
// When no channel has room, the overflow policy decides:
//   block        the batch is parked with its resume callback; a worker that frees room
//                queues it and runs the callback. Ingest stops reading the stream until
//                then, so HTTP/2 flow control pushes back on the client. Default.
//   drop_newest  the incoming batch is dropped and counted.
//   drop_oldest  the oldest queued batches of the channel are evicted and counted, until
//                both the records and the bytes of the new one fit; their senders learn it
//                through the batches' delivery callbacks, which that channel's worker runs
//                (never Submit, whose caller may hold its own lock).
// Queued memory is bounded by workers × (channel_capacity_bytes + one batch), plus one
// parked batch per stream.
//
// Parking is folded into Submit (rather than a separate NotifyWhenWritable) so the check
// for room and the park happen under one lock: no wake-up can be lost in between, and the
// caller never retries.
//
// Thread safety: every public method may be called from any thread. The locks are
// std::mutex rather than absl::Mutex so that ThreadSanitizer, which cannot see inside the
// distribution's prebuilt Abseil, checks the hand-offs (CI runs these tests under TSan).
#ifndef SLUICE_SERVER_SCHEDULER_SCHEDULER_H_
#define SLUICE_SERVER_SCHEDULER_SCHEDULER_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/common/ledger.h"
#include "server/common/record_batch.h"
#include "server/scheduler/batch_processor.h"
#include "server/scheduler/scheduler_config.h"
#include "server/scheduler/scheduler_metrics.h"

namespace sluice::scheduler {

enum class SubmitOutcome {
  kAccepted,               // queued
  kAcceptedEvictedOldest,  // queued after evicting older batches (drop_oldest)
  kDroppedNewest,          // dropped, counted (drop_newest)
  kParked,                 // held by the scheduler; the resume callback runs once queued
};

struct WorkerSnapshot {
  size_t queue_depth = 0;           // records queued
  size_t queue_capacity = 0;        // records
  size_t queue_bytes = 0;           // in-memory bytes of the queued batches
  size_t queue_capacity_bytes = 0;  // bytes
  absl::Duration oldest_record_age = absl::ZeroDuration();
  size_t parked_records = 0;      // records of the batches parked on the channel (block)
  size_t processing_records = 0;  // records of the batch the worker is processing now
  // Time streams spent parked on this channel: finished parks plus, for the batches
  // parked now, their time so far. Never decreases, and grows while a stream waits.
  absl::Duration blocked_time = absl::ZeroDuration();
};

class Scheduler {
 public:
  // Runs exactly once, on a worker thread, after a parked batch was queued. It must be
  // quick (ingest uses it to start the next read) and must not call Submit inline.
  using ResumeCallback = absl::AnyInvocable<void() &&>;

  // `processor`, `ledger` and `metrics` (nullable) must outlive the scheduler.
  Scheduler(const SchedulerConfig& config, BatchProcessor& processor, Ledger& ledger,
            SchedulerMetrics* metrics);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  // Stops, processing whatever is still queued or parked.
  ~Scheduler();

  // Starts the worker threads.
  void Start();

  // Hands `batch` to a worker. `on_queued` is called only when the outcome is kParked.
  SubmitOutcome Submit(RecordBatch&& batch, ResumeCallback on_queued);

  // Waits until every channel is empty and no worker is processing, or `deadline`
  // passes (DEADLINE_EXCEEDED with the records left). Intake is the caller's business:
  // batches submitted meanwhile are waited for too.
  absl::Status Drain(absl::Time deadline);

  // Lets the workers finish everything queued and parked, then joins them. Idempotent.
  void Stop();

  std::vector<WorkerSnapshot> Snapshot() const;
  // Records the scheduler holds now: queued, parked, or in the batch a worker is processing
  // (its outputs writing it). Counted from the channels themselves, not from the ledger, so
  // that the ledger's balance is a check (server/common/ledger.h).
  uint64_t InFlightRecords() const;
  size_t parked_streams() const { return parked_count_.load(std::memory_order_relaxed); }

 private:
  struct QueuedBatch {
    RecordBatch batch;
    size_t bytes = 0;  // batch.memory_bytes() when queued: what the channel counted
    absl::Time enqueued_at;
  };
  struct Eviction {
    DeliveryCallback on_delivered;
    uint32_t records = 0;
  };
  struct ParkedBatch {
    RecordBatch batch;
    size_t bytes = 0;
    ResumeCallback on_queued;
    absl::Time parked_at;
  };
  struct Channel {
    explicit Channel(size_t index) : index(index) {}
    const size_t index;
    mutable std::mutex mu;
    // Signalled when a batch is queued while the worker waits, or when stopping.
    std::condition_variable work_ready;
    bool worker_waiting ABSL_GUARDED_BY(mu) = false;
    std::deque<QueuedBatch> queue ABSL_GUARDED_BY(mu);
    std::deque<ParkedBatch> parked ABSL_GUARDED_BY(mu);
    // Evicted batches whose senders wait for a delivery report; the worker reports.
    std::vector<Eviction> evictions ABSL_GUARDED_BY(mu);
    size_t depth ABSL_GUARDED_BY(mu) = 0;           // records in `queue`
    size_t bytes ABSL_GUARDED_BY(mu) = 0;           // sum of QueuedBatch::bytes in `queue`
    size_t parked_records ABSL_GUARDED_BY(mu) = 0;  // records in `parked`
    // Records in the worker's hands: set under `mu` as the worker takes a batch, cleared
    // without it once the batch is processed, so a batch costs the worker one lock round.
    std::atomic<size_t> processing_records{0};
    // Parked time of the batches that left `parked`, summed when they left it.
    absl::Duration resumed_blocked_time ABSL_GUARDED_BY(mu) = absl::ZeroDuration();
    bool stopping ABSL_GUARDED_BY(mu) = false;
  };

  // True when a batch of `records` and `bytes` may be queued: the channel is empty, or both
  // capacities leave room for it.
  bool Fits(const Channel& channel, size_t records, size_t bytes) const
      ABSL_SHARED_LOCKS_REQUIRED(channel.mu);
  // Queues `batch` (`bytes` in memory); the caller wakes the worker after unlocking if told to.
  [[nodiscard]] bool Enqueue(Channel& channel, RecordBatch&& batch, size_t bytes, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(channel.mu);
  void AddPending(int64_t records);
  // Tries to queue without parking or dropping; consumes `batch` only on success.
  bool TryEnqueue(Channel& channel, RecordBatch& batch, size_t bytes);
  // Queues on `channel` if a worker freed room meanwhile, else applies the overflow policy.
  SubmitOutcome Overflow(Channel& channel, RecordBatch&& batch, size_t bytes,
                         ResumeCallback on_queued);
  SubmitOutcome ApplyPolicyLocked(Channel& channel, RecordBatch&& batch, size_t bytes,
                                  ResumeCallback on_queued, absl::Time now, size_t* evicted_records,
                                  bool* wake) ABSL_EXCLUSIVE_LOCKS_REQUIRED(channel.mu);
  void WorkerLoop(Channel& channel);

  const SchedulerConfig config_;
  BatchProcessor& processor_;
  Ledger& ledger_;
  SchedulerMetrics* const metrics_;
  std::vector<std::unique_ptr<Channel>> channels_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> next_channel_{0};
  std::atomic<size_t> parked_count_{0};

  // Records queued, parked or being processed, across all channels; Drain waits for 0.
  // An atomic, so that every ingest call and worker does not meet at one lock per batch;
  // the mutex is taken only to wake Drain when the count reaches 0.
  std::atomic<int64_t> pending_records_{0};
  std::mutex pending_mu_;
  std::condition_variable idle_;  // signalled under pending_mu_ when pending_records_ is 0
};

}  // namespace sluice::scheduler

#endif  // SLUICE_SERVER_SCHEDULER_SCHEDULER_H_
