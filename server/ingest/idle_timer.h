// IdleTimer: notices a stream that sends nothing for ingest.stream_idle_timeout, for the
// Push and PushBatches reactors, which use it under their own lock.
//
// One grpc::Alarm per timeout period, not one per message: the reactor notes when it
// starts waiting for the client's next message (a read is outstanding); when the alarm
// fires it asks ExpiredElseRearm — waiting for the whole timeout? — which either tells it to
// end the stream or sets the alarm again for the rest of the period. Time the reactor itself is not
// reading (a parked batch, too many acks outstanding) is backpressure, never idleness.
#ifndef SLUICE_SERVER_INGEST_IDLE_TIMER_H_
#define SLUICE_SERVER_INGEST_IDLE_TIMER_H_

#include <algorithm>
#include <functional>
#include <memory>
#include <utility>

#include "absl/time/time.h"
#include "grpcpp/alarm.h"

namespace sluice::ingest {

class IdleTimer {
 public:
  // A zero `timeout` disables the timer.
  explicit IdleTimer(absl::Duration timeout) : timeout_(timeout) {}

  bool enabled() const { return timeout_ > absl::ZeroDuration(); }
  absl::Duration timeout() const { return timeout_; }

  // A read was started at `now`: the stream waits for the client from then on.
  void StartWaiting(absl::Time now) { waiting_since_ = now; }
  // For the alarm's callback: true when the stream has been `waiting` (a read outstanding)
  // since StartWaiting for the whole timeout; otherwise sets the alarm again for the rest
  // of the period, with `on_alarm`.
  bool ExpiredElseRearm(absl::Time now, bool waiting, std::function<void(bool)> on_alarm) {
    if (waiting && now - waiting_since_ >= timeout_) return true;
    Arm(now, waiting, std::move(on_alarm));
    return false;
  }

  // Sets the alarm for the next check: the end of the current wait if `waiting`, else a
  // whole timeout from `now`. `on_alarm` runs once, with false if cancelled.
  void Arm(absl::Time now, bool waiting, std::function<void(bool)> on_alarm) {
    const absl::Time at = (waiting ? waiting_since_ : now) + timeout_;
    // A fresh alarm each time: destroying the one that fired is safe even while its
    // callback (which calls Arm) is still returning.
    alarm_ = std::make_unique<grpc::Alarm>();
    alarm_->Set(absl::ToChronoTime(std::max(at, now)), std::move(on_alarm));
  }
  // Runs a set alarm's callback at once with false; the reactor calls it from OnDone.
  void Cancel() {
    if (alarm_ != nullptr) alarm_->Cancel();
  }

 private:
  const absl::Duration timeout_;
  absl::Time waiting_since_ = absl::InfiniteFuture();
  std::unique_ptr<grpc::Alarm> alarm_;
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_IDLE_TIMER_H_
