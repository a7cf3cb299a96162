// SerializedOutput: the base for outputs that need exclusive access to their destination
// (a file descriptor, a buffer, a connection). It takes the lock so the plugin never does.
//
// The public Output methods lock one mutex and call the protected *Locked hooks, so a
// derived class sees one call at a time even though several workers call Write() at once.
// The base also keeps the lifecycle, so the hooks only see legal sequences:
//   * StartLocked runs at most once; a second Start() is FAILED_PRECONDITION.
//   * WriteLocked runs only between a successful Start and Shutdown; otherwise Write() is
//     FAILED_PRECONDITION.
//   * FlushLocked runs only while started; Flush() is OK (nothing to push) otherwise.
//   * ShutdownLocked runs once, only after a successful Start. Shutdown() is OK when
//     called again or without Start().
//   * ReopenLocked runs only while started; Reopen() is OK (nothing open) otherwise.
// A derived class with a thread of its own (e.g. a periodic flusher) may wait on mutex()
// and must join that thread outside the lock (its destructor), never in a *Locked hook.
#ifndef SLUICE_SERVER_OUTPUTS_SERIALIZED_OUTPUT_H_
#define SLUICE_SERVER_OUTPUTS_SERIALIZED_OUTPUT_H_

#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/outputs/output.h"

namespace sluice::outputs {

class SerializedOutput : public Output {
 public:
  SerializedOutput(const SerializedOutput&) = delete;
  SerializedOutput& operator=(const SerializedOutput&) = delete;

  absl::string_view id() const final { return id_; }
  absl::Status Start() final;
  // A batch without records routed here is taken without calling the hooks.
  absl::Status Write(OutputBatch& batch) final;
  absl::Status Flush(absl::Time deadline) final;
  absl::Status Shutdown(absl::Time deadline) final;
  absl::Status Reopen() final;

 protected:
  explicit SerializedOutput(std::string id) : id_(std::move(id)) {}

  virtual absl::Status StartLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  virtual absl::Status WriteLocked(OutputBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  virtual absl::Status FlushLocked(absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // Flushes and releases the destination.
  virtual absl::Status ShutdownLocked(absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // Opens the destination again by name (see Output::Reopen); by default nothing to do.
  virtual absl::Status ReopenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return absl::OkStatus();
  }

  // The lock the *Locked hooks run under; for a derived class's own thread.
  absl::Mutex& mutex() ABSL_LOCK_RETURNED(mu_) { return mu_; }

 private:
  enum class State { kCreated, kStarted, kShutDown };

  const std::string id_;
  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kCreated;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_SERIALIZED_OUTPUT_H_
