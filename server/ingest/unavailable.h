// The statuses ingest refuses a whole call with. While the server drains or shuts down:
// UNAVAILABLE, which clients retry on their own (it is gRPC's retryable code), ideally on
// another replica. At the stream limit, or when the overflow policy dropped the call's
// batch: RESOURCE_EXHAUSTED. Docs: docs/ERRORS.md.
#ifndef SLUICE_SERVER_INGEST_UNAVAILABLE_H_
#define SLUICE_SERVER_INGEST_UNAVAILABLE_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace sluice::ingest {

// Every refusal carries gRPC's retry pushback (trailing metadata `grpc-retry-pushback-ms`),
// which gRPC's own retry policy honours: a well-behaved client waits that long instead of
// retrying at once.
inline constexpr int kDrainingPushbackMs = 1000;
inline constexpr int kTooManyStreamsPushbackMs = 250;
inline constexpr int kOverloadedPushbackMs = 500;

inline void AddRetryPushback(grpc::ServerContextBase& call, int milliseconds) {
  call.AddTrailingMetadata("grpc-retry-pushback-ms", std::to_string(milliseconds));
}

// Adds the pushback to `call`; returns the status to finish it with.
inline grpc::Status DrainingStatus(grpc::ServerContextBase& call) {
  AddRetryPushback(call, kDrainingPushbackMs);
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      "sluice is draining and accepts no records; retry later or elsewhere");
}

// The status a new ingest call gets while `limit` (ingest.max_concurrent_streams) calls
// are open. RESOURCE_EXHAUSTED, not UNAVAILABLE: the server is up but full, and a client
// should back off rather than retry at once.
inline grpc::Status TooManyStreamsStatus(grpc::ServerContextBase& call, uint32_t limit) {
  AddRetryPushback(call, kTooManyStreamsPushbackMs);
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      "sluice has " + std::to_string(limit) +
                          " ingest calls open, the limit ingest.max_concurrent_streams; close "
                          "a stream or retry later");
}

// The status a call ends with once scheduler.overflow (drop_newest or drop_oldest) dropped
// one of its batches: the server is over capacity, and a client that resends the batch
// should first back off. `why` says which policy dropped it.
inline grpc::Status OverloadedStatus(grpc::ServerContextBase& call, absl::string_view why) {
  AddRetryPushback(call, kOverloadedPushbackMs);
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      absl::StrCat("sluice is over capacity, a batch was dropped: ", why,
                                   "; back off and resend it"));
}

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_UNAVAILABLE_H_
