#include "server/outputs/serialized_output.h"

#include "absl/strings/str_cat.h"

namespace sluice::outputs {

absl::Status SerializedOutput::Start() {
  absl::MutexLock lock(&mu_);
  if (state_ != State::kCreated) {
    return absl::FailedPreconditionError(absl::StrCat(id_, ": already started"));
  }
  absl::Status status = StartLocked();
  if (status.ok()) state_ = State::kStarted;
  return status;
}

absl::Status SerializedOutput::Write(OutputBatch& batch) {
  if (batch.count() == 0) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  if (state_ != State::kStarted) {
    return absl::FailedPreconditionError(absl::StrCat(
        id_, state_ == State::kCreated ? ": write before start" : ": write after shutdown"));
  }
  return WriteLocked(batch);
}

absl::Status SerializedOutput::Flush(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  if (state_ != State::kStarted) return absl::OkStatus();
  return FlushLocked(deadline);
}

absl::Status SerializedOutput::Shutdown(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  const State previous = state_;
  state_ = State::kShutDown;
  if (previous != State::kStarted) return absl::OkStatus();
  return ShutdownLocked(deadline);
}

absl::Status SerializedOutput::Reopen() {
  absl::MutexLock lock(&mu_);
  if (state_ != State::kStarted) return absl::OkStatus();
  return ReopenLocked();
}

}  // namespace sluice::outputs
