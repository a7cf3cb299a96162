// AuthFailures: every call refused for its credentials, counted in
// sluice_auth_failures_total{port,reason} and logged without the secret, at most one line
// a second for each port and reason (the line says how many more there were).
//
// One per server, owned by server/app and shared by both ports' authenticators; Record()
// is called on gRPC callback threads and only takes a short lock.
#ifndef SLUICE_SERVER_AUTH_AUTH_FAILURES_H_
#define SLUICE_SERVER_AUTH_AUTH_FAILURES_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace sluice::auth {

enum class Port { kIngest, kAdmin };

enum class FailureReason {
  kMissingToken,  // no `authorization: Bearer` metadata
  kInvalidToken,  // a token no token file holds, or not a bearer token
  kReadOnly,      // a read-only token on a call that changes the server
};

class AuthFailures {
 public:
  explicit AuthFailures(prometheus::Registry& registry);

  // Counts and (rate-limited) logs one refused call; `peer` and `method` are what the log
  // line names, `now` decides whether it is written.
  void Record(Port port, FailureReason reason, absl::string_view peer, absl::string_view method,
              absl::Time now = absl::Now());

  // Writes the summary of the lines held back over the last second, if any.
  void Flush(absl::Time now = absl::Now());

 private:
  static constexpr size_t kKinds = 6;
  struct LogState {
    absl::Time last_line = absl::InfinitePast();
    uint64_t held_back = 0;
  };
  static size_t Index(Port port, FailureReason reason) {
    return static_cast<size_t>(port) * 3 + static_cast<size_t>(reason);
  }

  prometheus::Family<prometheus::Counter>& family_;
  // Every series exists from the start, so that rate() and alerts work before the first
  // refusal; read-only after construction.
  std::array<prometheus::Counter*, kKinds> counters_{};
  absl::Mutex mu_;
  std::array<LogState, kKinds> log_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::auth

#endif  // SLUICE_SERVER_AUTH_AUTH_FAILURES_H_
