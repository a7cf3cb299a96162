// The status ingest answers with while the server drains or shuts down. Clients retry
// UNAVAILABLE on their own (it is gRPC's retryable code), ideally on another replica.
#ifndef SLUICE_SERVER_INGEST_UNAVAILABLE_H_
#define SLUICE_SERVER_INGEST_UNAVAILABLE_H_

#include "grpcpp/support/status.h"

namespace sluice::ingest {

inline grpc::Status DrainingStatus() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      "sluice is draining and accepts no records; retry later or elsewhere");
}

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_UNAVAILABLE_H_
