// The statuses ingest refuses a whole call with. While the server drains or shuts down:
// UNAVAILABLE, which clients retry on their own (it is gRPC's retryable code), ideally on
// another replica. Docs: docs/ERRORS.md.
#ifndef SLUICE_SERVER_INGEST_UNAVAILABLE_H_
#define SLUICE_SERVER_INGEST_UNAVAILABLE_H_

#include <cstdint>
#include <string>

#include "grpcpp/support/status.h"

namespace sluice::ingest {

inline grpc::Status DrainingStatus() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      "sluice is draining and accepts no records; retry later or elsewhere");
}

// The status a new ingest call gets while `limit` (ingest.max_concurrent_streams) calls
// are open. RESOURCE_EXHAUSTED, not UNAVAILABLE: the server is up but full, and a client
// should back off rather than retry at once.
inline grpc::Status TooManyStreamsStatus(uint32_t limit) {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      "sluice has " + std::to_string(limit) +
                          " ingest calls open, the limit ingest.max_concurrent_streams; close "
                          "a stream or retry later");
}

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_UNAVAILABLE_H_
