// Refresher: a thread that runs a task once a second until destroyed. The authenticators
// re-read their token files and flush their log summaries on it, so that no gRPC callback
// thread ever touches a file.
#ifndef SLUICE_SERVER_AUTH_REFRESHER_H_
#define SLUICE_SERVER_AUTH_REFRESHER_H_

#include <functional>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace sluice::auth {

class Refresher {
 public:
  explicit Refresher(std::function<void()> task, absl::Duration interval = absl::Seconds(1))
      : task_(std::move(task)), interval_(interval), thread_([this] { Loop(); }) {}
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;
  ~Refresher() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }

 private:
  void Loop() {
    absl::MutexLock lock(&mu_);
    while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) {
      mu_.Unlock();
      task_();
      mu_.Lock();
    }
  }

  const std::function<void()> task_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ = false;
  // Last: started once everything it uses is.
  std::thread thread_;
};

}  // namespace sluice::auth

#endif  // SLUICE_SERVER_AUTH_REFRESHER_H_
