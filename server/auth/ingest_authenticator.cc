#include "server/auth/ingest_authenticator.h"

#include <optional>
#include <utility>

#include "server/auth/bearer_token.h"

namespace sluice::auth {

absl::StatusOr<std::unique_ptr<IngestAuthenticator>> IngestAuthenticator::Create(
    const std::string& tokens_file, AuthFailures& failures) {
  absl::StatusOr<std::unique_ptr<TokenFile>> tokens =
      TokenFile::Open("ingest.tokens_file", tokens_file, TokenFormat::kTokenTenant);
  if (!tokens.ok()) return tokens.status();
  return std::unique_ptr<IngestAuthenticator>(
      new IngestAuthenticator(*std::move(tokens), failures));
}

IngestAuthenticator::IngestAuthenticator(std::unique_ptr<TokenFile> tokens, AuthFailures& failures)
    : tokens_(std::move(tokens)), failures_(failures) {}

void IngestAuthenticator::Refresh() { tokens_->Refresh(); }

grpc::Status IngestAuthenticator::Tenant(const grpc::ServerContextBase& context,
                                         absl::string_view method, std::string& tenant) const {
  const std::optional<absl::string_view> token = BearerToken(context);
  if (!token.has_value()) {
    failures_.Record(Port::kIngest, FailureReason::kMissingToken, context.peer(), method);
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "ingest calls need a token: authorization: Bearer <token>");
  }
  if (!token->empty()) {
    const std::shared_ptr<const TokenSet> tokens = tokens_->current();
    if (const TokenSet::Entry* entry = tokens->Find(*token); entry != nullptr) {
      tenant = entry->tenant;
      return grpc::Status::OK;
    }
  }
  failures_.Record(Port::kIngest, FailureReason::kInvalidToken, context.peer(), method);
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid ingest token");
}

}  // namespace sluice::auth
