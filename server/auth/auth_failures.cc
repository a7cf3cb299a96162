#include "server/auth/auth_failures.h"

#include <cstdio>

namespace sluice::auth {
namespace {

constexpr absl::Duration kLogInterval = absl::Seconds(1);

const char* PortName(Port port) { return port == Port::kIngest ? "ingest" : "admin"; }

const char* ReasonName(FailureReason reason) {
  switch (reason) {
    case FailureReason::kMissingToken:
      return "missing_token";
    case FailureReason::kInvalidToken:
      return "invalid_token";
    case FailureReason::kReadOnly:
      return "read_only";
  }
  return "invalid_token";
}

}  // namespace

AuthFailures::AuthFailures(prometheus::Registry& registry)
    : family_(prometheus::BuildCounter()
                  .Name("sluice_auth_failures_total")
                  .Help("Calls refused for their credentials, by port and reason")
                  .Register(registry)) {
  for (Port port : {Port::kIngest, Port::kAdmin}) {
    for (FailureReason reason :
         {FailureReason::kMissingToken, FailureReason::kInvalidToken, FailureReason::kReadOnly}) {
      counters_[Index(port, reason)] =
          &family_.Add({{"port", PortName(port)}, {"reason", ReasonName(reason)}});
    }
  }
}

void AuthFailures::Record(Port port, FailureReason reason, absl::string_view peer,
                          absl::string_view method, absl::Time now) {
  const size_t index = Index(port, reason);
  counters_[index]->Increment();
  bool write = false;
  uint64_t held_back = 0;
  {
    absl::MutexLock lock(&mu_);
    LogState& state = log_[index];
    if (now - state.last_line >= kLogInterval) {
      write = true;
      held_back = state.held_back;
      state.held_back = 0;
      state.last_line = now;
    } else {
      ++state.held_back;
    }
  }
  if (!write) return;
  std::fprintf(stderr, "sluiced: %s call %.*s from %.*s refused: %s", PortName(port),
               static_cast<int>(method.size()), method.data(), static_cast<int>(peer.size()),
               peer.data(), ReasonName(reason));
  if (held_back > 0) {
    std::fprintf(stderr, " (%lu more refused for %s in the last second)", held_back,
                 ReasonName(reason));
  }
  std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

void AuthFailures::Flush(absl::Time now) {
  for (Port port : {Port::kIngest, Port::kAdmin}) {
    for (FailureReason reason :
         {FailureReason::kMissingToken, FailureReason::kInvalidToken, FailureReason::kReadOnly}) {
      uint64_t held_back = 0;
      {
        absl::MutexLock lock(&mu_);
        LogState& state = log_[Index(port, reason)];
        if (state.held_back == 0 || now - state.last_line < kLogInterval) continue;
        held_back = state.held_back;
        state.held_back = 0;
        state.last_line = now;
      }
      std::fprintf(stderr, "sluiced: %s calls refused: %s, %lu more in the last second\n",
                   PortName(port), ReasonName(reason), held_back);
      std::fflush(stderr);
    }
  }
}

}  // namespace sluice::auth
