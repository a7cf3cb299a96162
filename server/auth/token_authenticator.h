// TokenAuthenticator: the bearer-token check at the start of every AdminService call
// (server/admin/admin_service.cc), from admin.token_file and admin.read_only_token_file.
//
// Built by server/app from the admin config (Create), which also decides whether the port
// needs tokens at all (admin.auth, see config.h). Both files are re-read within a second
// of a change: server/app's housekeeping thread calls Refresh() once a second. Check() runs
// on gRPC callback threads: it takes a short lock and hashes one token, nothing else.
#ifndef SLUICE_SERVER_AUTH_TOKEN_AUTHENTICATOR_H_
#define SLUICE_SERVER_AUTH_TOKEN_AUTHENTICATOR_H_

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "server/auth/auth_failures.h"
#include "server/auth/token_file.h"
#include "server/config/config.h"

namespace sluice::auth {

// What a call does to the server.
enum class Access {
  kRead,   // GetStats, GetLevels, Tap: read-only tokens are enough
  kWrite,  // everything else
};

class TokenAuthenticator {
 public:
  // Null when the admin port needs no token (admin.auth: none, or not given on a loopback
  // address without a token file). An error names the key: a token file that cannot be
  // read or holds no token, admin.auth: token without admin.token_file, a non-loopback
  // address without tokens. `failures` must outlive the authenticator.
  static absl::StatusOr<std::unique_ptr<TokenAuthenticator>> Create(
      const config::AdminConfig& config, AuthFailures& failures);

  // OK when the call carries a token that allows `access`; else UNAUTHENTICATED (no token,
  // an unknown one) or PERMISSION_DENIED (a read-only token on a kWrite call), counted and
  // logged under `method`.
  grpc::Status Check(const grpc::ServerContextBase& context, Access access,
                     absl::string_view method) const;

  // Re-reads the token files that changed (token_file.h). From one thread only, never a
  // gRPC callback thread.
  void Refresh();

 private:
  TokenAuthenticator(std::unique_ptr<TokenFile> tokens, std::unique_ptr<TokenFile> read_only,
                     AuthFailures& failures);

  const std::unique_ptr<TokenFile> tokens_;
  // Null without admin.read_only_token_file.
  const std::unique_ptr<TokenFile> read_only_;
  AuthFailures& failures_;
};

// True for "127.0.0.1:4319", "localhost:4319", "[::1]:4319": addresses only this host's
// processes can reach.
bool IsLoopbackAddress(absl::string_view listen);

}  // namespace sluice::auth

#endif  // SLUICE_SERVER_AUTH_TOKEN_AUTHENTICATOR_H_
