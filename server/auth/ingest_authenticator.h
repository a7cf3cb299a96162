// IngestAuthenticator: the bearer-token check of every ingest call (server/ingest's
// IngestCall, when the call opens), from ingest.tokens_file; each token names the tenant
// that the call's records carry.
//
// Built by server/app when ingest.tokens_file is set; without it there is none and ingest
// calls pay nothing. The file is re-read within a second of a change: server/app's
// housekeeping thread calls Refresh() once a second. Tenant() runs on gRPC callback
// threads: a short lock and one hash.
#ifndef SLUICE_SERVER_AUTH_INGEST_AUTHENTICATOR_H_
#define SLUICE_SERVER_AUTH_INGEST_AUTHENTICATOR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "server/auth/auth_failures.h"
#include "server/auth/token_file.h"

namespace sluice::auth {

class IngestAuthenticator {
 public:
  // Reads `tokens_file` (the ingest.tokens_file key); an error names the key and the line.
  // `failures` must outlive the authenticator.
  static absl::StatusOr<std::unique_ptr<IngestAuthenticator>> Create(const std::string& tokens_file,
                                                                     AuthFailures& failures);

  // OK with the tenant of the call's token in `tenant`; else UNAUTHENTICATED, counted and
  // logged under `method`.
  grpc::Status Tenant(const grpc::ServerContextBase& context, absl::string_view method,
                      std::string& tenant) const;

  // Re-reads the tokens file if it changed (token_file.h). From one thread only, never a
  // gRPC callback thread.
  void Refresh();

 private:
  IngestAuthenticator(std::unique_ptr<TokenFile> tokens, AuthFailures& failures);

  const std::unique_ptr<TokenFile> tokens_;
  AuthFailures& failures_;
};

}  // namespace sluice::auth

#endif  // SLUICE_SERVER_AUTH_INGEST_AUTHENTICATOR_H_
