// ServerCredentialsFor: the gRPC server credentials of the ingest or admin port, from its
// `tls` block (config.h's TlsConfig): plaintext without one, else TLS (mTLS with a client
// CA) whose certificate, key and CA are re-read from their files every refresh_interval
// by gRPC's FileWatcherCertificateProvider, so that replaced certificates apply to new
// connections without touching open ones.
//
// Called by server/app once per port at start-up; the same credentials serve a rebuilt
// ingest listener.
#ifndef SLUICE_SERVER_AUTH_TLS_CREDENTIALS_H_
#define SLUICE_SERVER_AUTH_TLS_CREDENTIALS_H_

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/server_credentials.h"
#include "server/config/config.h"

namespace sluice::auth {

// `key` is the block's key path ("ingest.tls"). The files are read and checked first: an
// unreadable file, one without a PEM certificate or key, or a key that does not match the
// certificate is an error naming the key ("ingest.tls.key_file: ...").
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const std::optional<config::TlsConfig>& tls, absl::string_view key);

}  // namespace sluice::auth

#endif  // SLUICE_SERVER_AUTH_TLS_CREDENTIALS_H_
