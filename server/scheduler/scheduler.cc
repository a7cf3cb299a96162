#include "server/scheduler/scheduler.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sluice::scheduler {

using config::DispatchPolicy;
using config::OverflowPolicy;

Scheduler::Scheduler(const config::SchedulerConfig& config, BatchProcessor& processor,
                     Ledger& ledger, SchedulerMetrics* metrics)
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

bool Scheduler::Fits(const Channel& channel, size_t records) const {
  return channel.queue.empty() || channel.depth + records <= config_.channel_capacity;
}

void Scheduler::Enqueue(Channel& channel, RecordBatch&& batch, absl::Time now) {
  channel.depth += batch.size();
  channel.queue.push_back(QueuedBatch{std::move(batch), now});
}

bool Scheduler::TryEnqueue(Channel& channel, RecordBatch& batch) {
  absl::MutexLock lock(&channel.mu);
  if (!channel.parked.empty() || !Fits(channel, batch.size())) return false;
  Enqueue(channel, std::move(batch), absl::Now());
  return true;
}

SubmitOutcome Scheduler::Submit(RecordBatch&& batch, ResumeCallback on_queued) {
  const size_t records = batch.size();
  {
    absl::MutexLock lock(&pending_mu_);
    pending_records_ += records;
  }
  const size_t count = channels_.size();
  size_t first;
  if (config_.dispatch == DispatchPolicy::kStreamAffinity) {
    first = batch.stream_id() % count;
  } else {
    first = next_channel_.fetch_add(1, std::memory_order_relaxed) % count;
    // Spill to the other channels before applying the overflow policy: one slow worker
    // should not hold up a stream while its neighbours have room.
    for (size_t step = 0; step < count; ++step) {
      if (TryEnqueue(*channels_[(first + step) % count], batch)) return SubmitOutcome::kAccepted;
    }
  }
  return Overflow(*channels_[first], std::move(batch), std::move(on_queued));
}

SubmitOutcome Scheduler::Overflow(Channel& channel, RecordBatch&& batch, ResumeCallback on_queued) {
  const size_t records = batch.size();
  const absl::Time now = absl::Now();
  size_t evicted_records = 0;
  SubmitOutcome outcome = SubmitOutcome::kDroppedNewest;
  {
    absl::MutexLock lock(&channel.mu);
    if (channel.stopping) {
      std::fprintf(stderr, "sluice: Scheduler::Submit called after Stop\n");
      std::abort();
    }
    // A worker may have freed room since the caller looked; parked batches go first.
    if (channel.parked.empty() && Fits(channel, records)) {
      Enqueue(channel, std::move(batch), now);
      return SubmitOutcome::kAccepted;
    }
    switch (config_.overflow) {
      case OverflowPolicy::kBlock:
        channel.parked.push_back(ParkedBatch{std::move(batch), std::move(on_queued), now});
        parked_count_.fetch_add(1, std::memory_order_relaxed);
        if (metrics_ != nullptr) metrics_->OnParked(channel.index);
        return SubmitOutcome::kParked;
      case OverflowPolicy::kDropNewest:
        outcome = SubmitOutcome::kDroppedNewest;
        break;
      case OverflowPolicy::kDropOldest:
        while (!channel.queue.empty() && !Fits(channel, records)) {
          const size_t n = channel.queue.front().batch.size();
          channel.depth -= n;
          evicted_records += n;
          channel.queue.pop_front();
        }
        Enqueue(channel, std::move(batch), now);
        outcome = SubmitOutcome::kAcceptedEvictedOldest;
        break;
    }
  }
  const size_t dropped = outcome == SubmitOutcome::kDroppedNewest ? records : evicted_records;
  ledger_.AddDropped(dropped);
  if (metrics_ != nullptr) metrics_->OnDropped(channel.index, dropped);
  absl::MutexLock lock(&pending_mu_);
  pending_records_ -= dropped;
  return outcome;
}

void Scheduler::WorkerLoop(Channel& channel) {
  std::vector<ParkedBatch> resumed;
  for (;;) {
    QueuedBatch item;
    {
      absl::MutexLock lock(&channel.mu);
      channel.mu.Await(absl::Condition(
          +[](Channel* c)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return !c->queue.empty() || c->stopping; },
          &channel));
      if (channel.queue.empty()) return;  // stopping, and nothing is left
      item = std::move(channel.queue.front());
      channel.queue.pop_front();
      channel.depth -= item.batch.size();
      const absl::Time now = absl::Now();
      while (!channel.parked.empty() && Fits(channel, channel.parked.front().batch.size())) {
        ParkedBatch& parked = channel.parked.front();
        Enqueue(channel, std::move(parked.batch), now);
        resumed.push_back(std::move(parked));
        channel.parked.pop_front();
      }
    }
    // Resume callbacks run outside the channel lock: they start gRPC reads.
    const absl::Time now = absl::Now();
    for (ParkedBatch& parked : resumed) {
      parked_count_.fetch_sub(1, std::memory_order_relaxed);
      if (metrics_ != nullptr) metrics_->OnResumed(now - parked.parked_at);
      std::move(parked.on_queued)();
    }
    resumed.clear();

    const size_t records = item.batch.size();
    processor_.Process(channel.index, item.batch);
    absl::MutexLock lock(&pending_mu_);
    pending_records_ -= records;
  }
}

absl::Status Scheduler::Drain(absl::Time deadline) {
  absl::MutexLock lock(&pending_mu_);
  const bool idle = pending_mu_.AwaitWithDeadline(
      absl::Condition(
          +[](uint64_t* pending) { return *pending == 0; }, &pending_records_),
      deadline);
  if (idle) return absl::OkStatus();
  return absl::DeadlineExceededError(
      absl::StrCat("drain deadline passed with ", pending_records_, " records not yet written"));
}

void Scheduler::Stop() {
  for (auto& channel : channels_) {
    absl::MutexLock lock(&channel->mu);
    channel->stopping = true;
  }
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

std::vector<WorkerSnapshot> Scheduler::Snapshot() const {
  std::vector<WorkerSnapshot> snapshot;
  snapshot.reserve(channels_.size());
  const absl::Time now = absl::Now();
  for (const auto& channel : channels_) {
    absl::MutexLock lock(&channel->mu);
    WorkerSnapshot worker;
    worker.queue_depth = channel->depth;
    worker.queue_capacity = config_.channel_capacity;
    if (!channel->queue.empty())
      worker.oldest_record_age = now - channel->queue.front().enqueued_at;
    snapshot.push_back(worker);
  }
  return snapshot;
}

}  // namespace sluice::scheduler
