// BearerToken: the token of a call's `authorization: Bearer <token>` metadata, as both
// authenticators (token_authenticator.h, ingest_authenticator.h) read it.
#ifndef SLUICE_SERVER_AUTH_BEARER_TOKEN_H_
#define SLUICE_SERVER_AUTH_BEARER_TOKEN_H_

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"

namespace sluice::auth {

// What the call's metadata says: nullopt without an `authorization` entry; else the
// token after "Bearer " (the scheme in any case), empty when the entry is not a bearer
// token.
inline std::optional<absl::string_view> BearerToken(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("authorization");
  if (it == metadata.end()) return std::nullopt;
  absl::string_view value(it->second.data(), it->second.size());
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return absl::string_view();
  }
  return value.substr(kScheme.size());
}

}  // namespace sluice::auth

#endif  // SLUICE_SERVER_AUTH_BEARER_TOKEN_H_
