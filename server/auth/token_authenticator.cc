#include "server/auth/token_authenticator.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/auth/bearer_token.h"

namespace sluice::auth {

bool IsLoopbackAddress(absl::string_view listen) {
  const size_t colon = listen.rfind(':');
  const absl::string_view host =
      colon == absl::string_view::npos ? listen : listen.substr(0, colon);
  return absl::StartsWith(host, "127.") || host == "localhost" || host == "[::1]";
}

absl::StatusOr<std::unique_ptr<TokenAuthenticator>> TokenAuthenticator::Create(
    const config::AdminConfig& config, AuthFailures& failures) {
  const bool has_files = !config.token_file.empty() || !config.read_only_token_file.empty();
  switch (config.auth) {
    case config::AdminAuthMode::kNone:
      if (has_files) {
        return absl::InvalidArgumentError(
            "admin.auth: none, but a token file is given; leave out the token files or "
            "set admin.auth: token");
      }
      return nullptr;
    case config::AdminAuthMode::kDefault:
      if (!has_files) {
        if (IsLoopbackAddress(config.listen)) return nullptr;
        return absl::InvalidArgumentError(absl::StrCat(
            "admin.token_file: required when admin.listen (", config.listen,
            ") is not a loopback address; or set admin.auth: none where something else "
            "(a mesh) authenticates the callers"));
      }
      break;
    case config::AdminAuthMode::kToken:
      break;
  }
  if (config.token_file.empty()) {
    return absl::InvalidArgumentError(
        "admin.token_file: required when admin calls need tokens (admin.auth: token, or a "
        "read_only_token_file)");
  }
  absl::StatusOr<std::unique_ptr<TokenFile>> tokens =
      TokenFile::Open("admin.token_file", config.token_file, TokenFormat::kTokens);
  if (!tokens.ok()) return tokens.status();
  std::unique_ptr<TokenFile> read_only;
  if (!config.read_only_token_file.empty()) {
    absl::StatusOr<std::unique_ptr<TokenFile>> opened = TokenFile::Open(
        "admin.read_only_token_file", config.read_only_token_file, TokenFormat::kTokens);
    if (!opened.ok()) return opened.status();
    read_only = *std::move(opened);
  }
  return std::unique_ptr<TokenAuthenticator>(
      new TokenAuthenticator(*std::move(tokens), std::move(read_only), failures));
}

TokenAuthenticator::TokenAuthenticator(std::unique_ptr<TokenFile> tokens,
                                       std::unique_ptr<TokenFile> read_only, AuthFailures& failures)
    : tokens_(std::move(tokens)), read_only_(std::move(read_only)), failures_(failures) {}

void TokenAuthenticator::Refresh() {
  tokens_->Refresh();
  if (read_only_ != nullptr) read_only_->Refresh();
}

grpc::Status TokenAuthenticator::Check(const grpc::ServerContextBase& context, Access access,
                                       absl::string_view method) const {
  const std::optional<absl::string_view> token = BearerToken(context);
  if (!token.has_value()) {
    failures_.Record(Port::kAdmin, FailureReason::kMissingToken, context.peer(), method);
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "this call needs an admin token: authorization: Bearer <token>");
  }
  if (!token->empty()) {
    if (tokens_->current()->Find(*token) != nullptr) return grpc::Status::OK;
    if (read_only_ != nullptr && read_only_->current()->Find(*token) != nullptr) {
      if (access == Access::kRead) return grpc::Status::OK;
      failures_.Record(Port::kAdmin, FailureReason::kReadOnly, context.peer(), method);
      return grpc::Status(
          grpc::StatusCode::PERMISSION_DENIED,
          absl::StrCat("a read-only token cannot call ", method, ": it changes the server"));
    }
  }
  failures_.Record(Port::kAdmin, FailureReason::kInvalidToken, context.peer(), method);
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid admin token");
}

}  // namespace sluice::auth
