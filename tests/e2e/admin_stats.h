// GetStats against a test's own sluiced, for the e2e tests that check the books.
#ifndef SLUICE_TESTS_E2E_ADMIN_STATS_H_
#define SLUICE_TESTS_E2E_ADMIN_STATS_H_

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "sluice/v1/admin.grpc.pb.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {

// The server's GetStats answer; INTERNAL with the call's message when the call fails.
inline absl::StatusOr<v1::GetStatsResponse> GetStats(const SluicedProcess& server) {
  auto stub = v1::AdminService::NewStub(
      grpc::CreateChannel(server.admin_target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  v1::GetStatsResponse response;
  const grpc::Status status = stub->GetStats(&context, {}, &response);
  if (!status.ok()) return absl::InternalError(status.error_message());
  return response;
}

}  // namespace sluice::e2e

#endif  // SLUICE_TESTS_E2E_ADMIN_STATS_H_
