#include "server/scheduler/scheduler.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sluice::scheduler {

Scheduler::Scheduler(const SchedulerConfig& config, BatchProcessor& processor, Ledger& ledger,
                     SchedulerMetrics* metrics)
    : config_(config), processor_(processor), ledger_(ledger), metrics_(metrics) {
  channels_.reserve(config_.workers);
  for (size_t i = 0; i < config_.workers; ++i) {
    channels_.push_back(std::make_unique<Channel>(i));
  }
}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
  for (auto& channel : channels_) {
    workers_.emplace_back([this, c = channel.get()] { WorkerLoop(*c); });
  }
}

bool Scheduler::Fits(const Channel& channel, size_t records, size_t bytes) const {
  return channel.queue.empty() || (channel.depth + records <= config_.channel_capacity &&
                                   channel.bytes + bytes <= config_.channel_capacity_bytes);
}

bool Scheduler::Enqueue(Channel& channel, RecordBatch&& batch, size_t bytes, absl::Time now) {
  channel.depth += batch.size();
  channel.bytes += bytes;
  channel.queue.push_back(QueuedBatch{std::move(batch), bytes, now});
  return channel.worker_waiting;
}

bool Scheduler::TryEnqueue(Channel& channel, RecordBatch& batch, size_t bytes) {
  std::unique_lock lock(channel.mu);
  if (!channel.parked.empty() || !Fits(channel, batch.size(), bytes)) return false;
  const bool wake = Enqueue(channel, std::move(batch), bytes, absl::Now());
  lock.unlock();
  if (wake) channel.work_ready.notify_one();
  return true;
}

void Scheduler::AddPending(int64_t records) {
  if (pending_records_.fetch_add(records, std::memory_order_acq_rel) + records != 0) return;
  // Under the mutex: a Drain that saw a count above 0 is then waiting, and is woken.
  std::lock_guard lock(pending_mu_);
  idle_.notify_all();
}

SubmitOutcome Scheduler::Submit(RecordBatch&& batch, ResumeCallback on_queued) {
  AddPending(static_cast<int64_t>(batch.size()));
  // Outside every lock: it walks the records once.
  const size_t bytes = batch.memory_bytes();
  const size_t count = channels_.size();
  size_t first;
  if (config_.dispatch == DispatchPolicy::kStreamAffinity) {
    first = batch.stream_id() % count;
  } else {
    first = next_channel_.fetch_add(1, std::memory_order_relaxed) % count;
    // Spill to the other channels before applying the overflow policy: one slow worker
    // should not hold up a stream while its neighbours have room.
    for (size_t step = 0; step < count; ++step) {
      if (TryEnqueue(*channels_[(first + step) % count], batch, bytes)) {
        return SubmitOutcome::kAccepted;
      }
    }
  }
  return Overflow(*channels_[first], std::move(batch), bytes, std::move(on_queued));
}

SubmitOutcome Scheduler::Overflow(Channel& channel, RecordBatch&& batch, size_t bytes,
                                  ResumeCallback on_queued) {
  const size_t records = batch.size();
  const absl::Time now = absl::Now();
  size_t evicted_records = 0;
  SubmitOutcome outcome;
  bool wake = false;
  {
    std::lock_guard lock(channel.mu);
    if (channel.stopping) {
      std::fprintf(stderr, "sluice: Scheduler::Submit called after Stop\n");
      std::abort();
    }
    // A worker may have freed room since the caller looked; parked batches go first.
    if (channel.parked.empty() && Fits(channel, records, bytes)) {
      wake = Enqueue(channel, std::move(batch), bytes, now);
      outcome = SubmitOutcome::kAccepted;
    } else {
      outcome = ApplyPolicyLocked(channel, std::move(batch), bytes, std::move(on_queued), now,
                                  &evicted_records, &wake);
    }
  }
  if (wake) channel.work_ready.notify_one();
  if (outcome == SubmitOutcome::kAccepted || outcome == SubmitOutcome::kParked) return outcome;
  const size_t dropped = outcome == SubmitOutcome::kDroppedNewest ? records : evicted_records;
  ledger_.AddDropped(dropped);
  if (metrics_ != nullptr) metrics_->OnDropped(channel.index, dropped);
  AddPending(-static_cast<int64_t>(dropped));
  return outcome;
}

SubmitOutcome Scheduler::ApplyPolicyLocked(Channel& channel, RecordBatch&& batch, size_t bytes,
                                           ResumeCallback on_queued, absl::Time now,
                                           size_t* evicted_records, bool* wake) {
  const size_t records = batch.size();
  switch (config_.overflow) {
    case OverflowPolicy::kBlock:
      channel.parked_records += records;
      channel.parked.push_back(ParkedBatch{std::move(batch), bytes, std::move(on_queued), now});
      parked_count_.fetch_add(1, std::memory_order_relaxed);
      if (metrics_ != nullptr) metrics_->OnParked(channel.index);
      return SubmitOutcome::kParked;
    case OverflowPolicy::kDropNewest:
      return SubmitOutcome::kDroppedNewest;
    case OverflowPolicy::kDropOldest:
      while (!channel.queue.empty() && !Fits(channel, records, bytes)) {
        RecordBatch& evicted = channel.queue.front().batch;
        const size_t n = evicted.size();
        if (evicted.awaits_delivery()) {
          channel.evictions.push_back(
              Eviction{evicted.TakeDeliveryCallback(), static_cast<uint32_t>(n)});
        }
        channel.depth -= n;
        channel.bytes -= channel.queue.front().bytes;
        *evicted_records += n;
        channel.queue.pop_front();
      }
      *wake = Enqueue(channel, std::move(batch), bytes, now);
      return SubmitOutcome::kAcceptedEvictedOldest;
  }
  return SubmitOutcome::kDroppedNewest;
}

void Scheduler::WorkerLoop(Channel& channel) {
  std::vector<ParkedBatch> resumed;
  std::vector<Eviction> evicted;
  // A batch with a delivery callback went through Process since the last OnIdle: the
  // processor may hold its delivery. Without one, going idle costs no extra lock round.
  bool may_hold_deliveries = false;
  for (;;) {
    QueuedBatch item;
    bool has_item = false;
    {
      std::unique_lock lock(channel.mu);
      if (may_hold_deliveries && channel.queue.empty() && channel.evictions.empty()) {
        // About to sleep: a processor holding deliveries (waiting for a flush) settles them.
        lock.unlock();
        processor_.OnIdle(channel.index);
        may_hold_deliveries = false;
        lock.lock();
      }
      channel.worker_waiting = true;
      channel.work_ready.wait(lock, [&channel] {
        return !channel.queue.empty() || !channel.evictions.empty() || channel.stopping;
      });
      channel.worker_waiting = false;
      evicted.swap(channel.evictions);
      if (channel.queue.empty() && evicted.empty()) return;  // stopping, and nothing is left
      if (!channel.queue.empty()) {
        has_item = true;
        item = std::move(channel.queue.front());
        channel.queue.pop_front();
        channel.depth -= item.batch.size();
        channel.bytes -= item.bytes;
        channel.processing_records.store(item.batch.size(), std::memory_order_relaxed);
        const absl::Time now = channel.parked.empty() ? absl::Time() : absl::Now();
        while (!channel.parked.empty() &&
               Fits(channel, channel.parked.front().batch.size(), channel.parked.front().bytes)) {
          ParkedBatch& parked = channel.parked.front();
          channel.parked_records -= parked.batch.size();
          channel.resumed_blocked_time += now - parked.parked_at;
          // This worker is awake: no need to wake it.
          (void)Enqueue(channel, std::move(parked.batch), parked.bytes, now);
          resumed.push_back(std::move(parked));
          channel.parked.pop_front();
        }
      }
    }
    // Callbacks run outside the channel lock: they start gRPC reads and writes.
    for (ParkedBatch& parked : resumed) {
      parked_count_.fetch_sub(1, std::memory_order_relaxed);
      std::move(parked.on_queued)();
    }
    resumed.clear();
    for (Eviction& eviction : evicted) {
      std::move(eviction.on_delivered)(Delivery{
          .delivered = 0, .dropped = eviction.records, .reason = DropReason::kOverflowDropOldest});
    }
    evicted.clear();
    if (!has_item) continue;

    const size_t records = item.batch.size();
    may_hold_deliveries |= item.batch.awaits_delivery();
    processor_.Process(channel.index, item.batch);
    channel.processing_records.store(0, std::memory_order_release);
    item.batch.Deliver(Delivery{.delivered = static_cast<uint32_t>(records)});
    AddPending(-static_cast<int64_t>(records));
  }
}

absl::Status Scheduler::Drain(absl::Time deadline) {
  std::unique_lock lock(pending_mu_);
  const bool idle = idle_.wait_until(lock, absl::ToChronoTime(deadline), [this] {
    return pending_records_.load(std::memory_order_acquire) == 0;
  });
  if (idle) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat(
      "drain deadline passed with ", pending_records_.load(), " records not yet written"));
}

void Scheduler::Stop() {
  for (auto& channel : channels_) {
    {
      std::lock_guard lock(channel->mu);
      channel->stopping = true;
    }
    channel->work_ready.notify_one();
  }
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

std::vector<WorkerSnapshot> Scheduler::Snapshot() const {
  std::vector<WorkerSnapshot> snapshot;
  snapshot.reserve(channels_.size());
  for (const auto& channel : channels_) {
    std::lock_guard lock(channel->mu);
    // Read under the lock: every queued or parked batch's time is then at most `now`, so
    // neither the age nor the blocked time can come out negative or shrink.
    const absl::Time now = absl::Now();
    WorkerSnapshot worker;
    worker.queue_depth = channel->depth;
    worker.queue_capacity = config_.channel_capacity;
    worker.queue_bytes = channel->bytes;
    worker.queue_capacity_bytes = config_.channel_capacity_bytes;
    if (!channel->queue.empty())
      worker.oldest_record_age = now - channel->queue.front().enqueued_at;
    worker.parked_records = channel->parked_records;
    worker.processing_records = channel->processing_records.load(std::memory_order_acquire);
    worker.blocked_time = channel->resumed_blocked_time;
    for (const ParkedBatch& parked : channel->parked) worker.blocked_time += now - parked.parked_at;
    snapshot.push_back(worker);
  }
  return snapshot;
}

uint64_t Scheduler::InFlightRecords() const {
  uint64_t records = 0;
  for (const auto& channel : channels_) {
    std::lock_guard lock(channel->mu);
    records += channel->depth + channel->parked_records +
               channel->processing_records.load(std::memory_order_acquire);
  }
  return records;
}

}  // namespace sluice::scheduler
