#include "server/pipeline/output_sender.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/pipeline/formatted_batch.h"

namespace sluice::pipeline {
namespace {

bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

}  // namespace

OutputSender::OutputSender(size_t index, outputs::Output& output, const OutputSenderConfig& config,
                           OutputMetrics* metrics)
    : output_(output),
      config_(config),
      metrics_(metrics != nullptr ? &metrics->output(index) : nullptr) {}

OutputSender::~OutputSender() { Close(absl::Now()); }

void OutputSender::Start() {
  thread_ = std::thread([this] { Run(); });
}

bool OutputSender::Fits(size_t records, size_t bytes) const {
  return records_ == 0 || (records_ + records <= config_.buffer.max_records &&
                           bytes_ + bytes <= config_.buffer.max_bytes);
}

void OutputSender::Enqueue(DispatchedBatch& batch, size_t slot, size_t records, size_t bytes) {
  std::optional<OutputDropReason> dropped;
  bool wake = false;
  {
    std::unique_lock lock(mu_);
    if (config_.buffer.when_full == WhenFull::kBlock) {
      room_cv_.wait(lock, [&] { return Fits(records, bytes) || closing_; });
    }
    if (stopped_ || (closing_ && !Fits(records, bytes))) {
      dropped = OutputDropReason::kShutdown;
      given_up_at_close_ += records;
    } else if (!Fits(records, bytes)) {
      dropped = OutputDropReason::kBufferFull;
    } else {
      queue_.push_back(Entry{&batch, slot, records, bytes, batch.records().received_at()});
      records_ += records;
      bytes_ += bytes;
      wake = thread_waiting_;
    }
  }
  // Outside the lock, and only when the thread sleeps: a thread that is writing comes back
  // for the queue by itself, and one woken under the lock would only block on it.
  if (wake) work_cv_.notify_one();
  if (dropped.has_value()) {
    if (metrics_ != nullptr) metrics_->OnDropped(*dropped, records);
    batch.Finish(slot, /*taken=*/false);
  }
}

void OutputSender::Run() {
  for (;;) {
    Entry entry;
    bool flush_only = false;
    {
      std::unique_lock lock(mu_);
      thread_waiting_ = true;
      work_cv_.wait(lock,
                    [this] { return !queue_.empty() || !awaiting_flush_.empty() || closing_; });
      thread_waiting_ = false;
      if (queue_.empty()) {
        if (awaiting_flush_.empty()) {  // closing, and nothing is left
          stopped_ = true;
          room_cv_.notify_all();
          return;
        }
        flush_only = true;
      } else {
        entry = queue_.front();
        queue_.pop_front();
        if (!oldest_taken_.has_value()) oldest_taken_ = entry.received_at;
      }
    }
    if (flush_only) {
      FlushAwaiting();
      continue;
    }
    const std::optional<OutputDropReason> dropped = WriteWithRetry(entry);
    if (!dropped.has_value() && entry.batch->awaits_flush()) {
      awaiting_flush_.push_back(entry);
      bool flush_now = awaiting_flush_.size() >= kMaxBatchesAwaitingFlush;
      if (!flush_now) {
        std::unique_lock lock(mu_);
        flush_now = queue_.empty();
      }
      if (flush_now) FlushAwaiting();
      continue;
    }
    Finish(absl::MakeConstSpan(&entry, 1), dropped);
  }
}

std::optional<OutputDropReason> OutputSender::WriteWithRetry(const Entry& entry) {
  FormattedBatch::View view(entry.batch->formatted(), entry.batch->selection(entry.slot));
  absl::Duration backoff = config_.retry.initial_backoff;
  std::optional<absl::Time> first_failure;
  for (;;) {
    const absl::Time start = absl::Now();
    const absl::Status status = output_.Write(view);
    if (status.ok()) {
      if (metrics_ != nullptr) metrics_->OnWritten(entry.records, absl::Now() - start);
      OnAttemptSucceeded();
      return std::nullopt;
    }
    OnAttemptFailed(status, entry.records);
    if (!IsTransient(status)) return OutputDropReason::kPermanentError;
    if (!first_failure.has_value()) first_failure = start;
    const absl::Duration max_elapsed = config_.retry.max_elapsed;
    if (max_elapsed > absl::ZeroDuration() && absl::Now() - *first_failure >= max_elapsed) {
      return OutputDropReason::kRetriesExhausted;
    }
    if (!Backoff(outputs::RetryDelayOf(status).value_or(Jittered(backoff)))) {
      return OutputDropReason::kShutdown;
    }
    if (metrics_ != nullptr) metrics_->OnRetry();
    backoff = std::min(backoff * 2, config_.retry.max_backoff);
  }
}

void OutputSender::FlushAwaiting() {
  absl::Duration backoff = config_.retry.initial_backoff;
  std::optional<absl::Time> first_failure;
  std::optional<OutputDropReason> dropped;
  size_t records = 0;
  for (const Entry& entry : awaiting_flush_) records += entry.records;
  for (;;) {
    const absl::Time start = absl::Now();
    absl::Time deadline = start + kFlushAttemptTimeout;
    {
      std::unique_lock lock(mu_);
      if (closing_) deadline = std::min(deadline, std::max(close_deadline_, start));
    }
    const absl::Status status = output_.Flush(deadline);
    if (status.ok()) {
      OnAttemptSucceeded();
      break;
    }
    OnAttemptFailed(status, records);
    if (!IsTransient(status)) {
      dropped = OutputDropReason::kPermanentError;
      break;
    }
    if (!first_failure.has_value()) first_failure = start;
    const absl::Duration max_elapsed = config_.retry.max_elapsed;
    if (max_elapsed > absl::ZeroDuration() && absl::Now() - *first_failure >= max_elapsed) {
      dropped = OutputDropReason::kRetriesExhausted;
      break;
    }
    if (!Backoff(outputs::RetryDelayOf(status).value_or(Jittered(backoff)))) {
      dropped = OutputDropReason::kShutdown;
      break;
    }
    if (metrics_ != nullptr) metrics_->OnRetry();
    backoff = std::min(backoff * 2, config_.retry.max_backoff);
  }
  std::vector<Entry> flushed = std::move(awaiting_flush_);
  awaiting_flush_.clear();
  Finish(flushed, dropped);
}

bool OutputSender::Backoff(absl::Duration wait) {
  const absl::Time wake = absl::Now() + wait;
  std::unique_lock lock(mu_);
  for (;;) {
    const absl::Time now = absl::Now();
    if (closing_ && now >= close_deadline_) return false;
    if (now >= wake) return true;
    close_cv_.wait_until(lock,
                         absl::ToChronoTime(closing_ ? std::min(wake, close_deadline_) : wake));
  }
}

absl::Duration OutputSender::Jittered(absl::Duration backoff) {
  const double half = absl::ToDoubleSeconds(backoff) / 2;
  return absl::Seconds(half + absl::Uniform(random_, 0.0, half));
}

void OutputSender::OnAttemptFailed(const absl::Status& status, size_t records) {
  if (metrics_ != nullptr) metrics_->OnFailedAttempt(records);
  std::unique_lock lock(mu_);
  up_ = false;
  if (!failing_since_.has_value()) failing_since_ = absl::Now();
  last_error_ = std::string(status.message());
}

void OutputSender::OnAttemptSucceeded() {
  std::unique_lock lock(mu_);
  up_ = true;
  failing_since_.reset();
}

void OutputSender::Finish(absl::Span<const Entry> entries,
                          std::optional<OutputDropReason> dropped) {
  size_t records = 0;
  for (const Entry& entry : entries) records += entry.records;
  if (dropped.has_value() && metrics_ != nullptr) metrics_->OnDropped(*dropped, records);
  // Settled before they leave the buffer's totals, so that a Drain that saw the buffer empty
  // sees the books and the acks of its batches done too. A batch may be gone after Finish.
  for (const Entry& entry : entries) entry.batch->Finish(entry.slot, !dropped.has_value());
  std::unique_lock lock(mu_);
  for (const Entry& entry : entries) {
    records_ -= entry.records;
    bytes_ -= entry.bytes;
  }
  // What the thread still holds is awaiting_flush_ (the oldest first), or nothing.
  oldest_taken_.reset();
  if (!awaiting_flush_.empty()) oldest_taken_ = awaiting_flush_.front().received_at;
  if (dropped == OutputDropReason::kShutdown) given_up_at_close_ += records;
  room_cv_.notify_all();
}

absl::Status OutputSender::Drain(absl::Time deadline) {
  size_t left = 0;
  {
    std::unique_lock lock(mu_);
    room_cv_.wait_until(lock, absl::ToChronoTime(deadline), [this] { return records_ == 0; });
    left = records_;
  }
  if (left > 0) {
    return absl::DeadlineExceededError(
        absl::StrCat(output_.id(), ": ", left, " records still buffered"));
  }
  return output_.Flush(deadline);
}

size_t OutputSender::Close(absl::Time deadline) {
  {
    std::unique_lock lock(mu_);
    if (!closing_) {
      closing_ = true;
      close_deadline_ = deadline;
    }
    if (!thread_.joinable()) stopped_ = true;
    work_cv_.notify_all();
    room_cv_.notify_all();
    close_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  // Batches queued while the thread was gone (never started) are given up on here.
  std::vector<Entry> left;
  {
    std::unique_lock lock(mu_);
    left.assign(queue_.begin(), queue_.end());
    queue_.clear();
  }
  if (!left.empty()) Finish(left, OutputDropReason::kShutdown);
  std::unique_lock lock(mu_);
  return given_up_at_close_;
}

OutputSenderSnapshot OutputSender::Snapshot() const {
  OutputSenderSnapshot snapshot;
  snapshot.id = std::string(output_.id());
  snapshot.max_records = config_.buffer.max_records;
  snapshot.max_bytes = config_.buffer.max_bytes;
  snapshot.unhealthy_after = config_.unhealthy_after;
  std::unique_lock lock(mu_);
  snapshot.buffer_records = records_;
  snapshot.buffer_bytes = bytes_;
  snapshot.oldest_received_at = oldest_taken_;
  if (!snapshot.oldest_received_at.has_value() && !queue_.empty()) {
    snapshot.oldest_received_at = queue_.front().received_at;
  }
  snapshot.up = up_;
  snapshot.failing_since = failing_since_;
  snapshot.last_error = last_error_;
  return snapshot;
}

}  // namespace sluice::pipeline
