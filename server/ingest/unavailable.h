// The statuses ingest refuses or ends a whole call with. While the server drains or shuts
// down: UNAVAILABLE, which clients retry on their own (it is gRPC's retryable code),
// ideally on another replica. At a stream limit, or when the overflow policy dropped the
// call's batch: RESOURCE_EXHAUSTED. A stream idle past ingest.stream_idle_timeout:
// UNAVAILABLE. Made by IngestCall and the ingest reactors; docs: docs/ERRORS.md.
//
// Every refusal that asks the client to come back later says when, twice: gRPC's retry
// pushback (trailing metadata `grpc-retry-pushback-ms`), which gRPC's own retry policy
// honours, and a google.rpc.RetryInfo in the status details (`grpc-status-details-bin`),
// which OTLP exporters need before they retry RESOURCE_EXHAUSTED at all.
#ifndef SLUICE_SERVER_INGEST_UNAVAILABLE_H_
#define SLUICE_SERVER_INGEST_UNAVAILABLE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace sluice::ingest {

inline constexpr int kDrainingPushbackMs = 1000;
inline constexpr int kTooManyStreamsPushbackMs = 250;
inline constexpr int kOverloadedPushbackMs = 500;

// `code` and `message` with the retry delay of `pushback_ms` in both forms (see above);
// the pushback trailer is added to `call`.
grpc::Status RetryLaterStatus(grpc::ServerContextBase& call, grpc::StatusCode code,
                              std::string message, int pushback_ms);

// Adds the pushback to `call`; returns the status to finish it with.
grpc::Status DrainingStatus(grpc::ServerContextBase& call);

// The status a new ingest call gets while `limit` (ingest.max_concurrent_streams) calls
// are open. RESOURCE_EXHAUSTED, not UNAVAILABLE: the server is up but full, and a client
// should back off rather than retry at once.
grpc::Status TooManyStreamsStatus(grpc::ServerContextBase& call, uint32_t limit);

// Like TooManyStreamsStatus, when the calling peer has `limit`
// (ingest.max_streams_per_peer) calls open.
grpc::Status TooManyPeerStreamsStatus(grpc::ServerContextBase& call, uint32_t limit);

// The status a call ends with once scheduler.overflow (drop_newest or drop_oldest) dropped
// one of its batches: the server is over capacity, and a client that resends the batch
// should first back off. `why` says which policy dropped it.
grpc::Status OverloadedStatus(grpc::ServerContextBase& call, absl::string_view why);

// `status` with `detail` added to the google.rpc.Status of its details
// (`grpc-status-details-bin`), made from its code and message when it has none. A Push call
// carries its PushSummary this way: gRPC sends no response message with a status other
// than OK.
grpc::Status WithDetail(const grpc::Status& status, const google::protobuf::Message& detail);

// The status a stream ends with after sending nothing for `timeout`
// (ingest.stream_idle_timeout). No pushback: the client may open a new stream at once
// when it has records.
grpc::Status IdleStatus(absl::Duration timeout);

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_UNAVAILABLE_H_
