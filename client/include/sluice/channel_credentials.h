// How a Sluice client connects: the gRPC channel credentials for ClientTlsOptions, plaintext
// without them. sluice::Client, the load generator and the `sluice` command make their
// channels with it, so that TLS works the same everywhere; an application that builds its
// own gRPC channel to Sluice may use it too.
#ifndef SLUICE_CLIENT_INCLUDE_SLUICE_CHANNEL_CREDENTIALS_H_
#define SLUICE_CLIENT_INCLUDE_SLUICE_CHANNEL_CREDENTIALS_H_

#include <memory>
#include <optional>

#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "sluice/client.h"

namespace sluice {

// TLS credentials trusting `tls`'s roots, with its client certificate when it has one;
// InsecureChannelCredentials() for nullopt. A server name override goes into `args`.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(
    const std::optional<ClientTlsOptions>& tls, grpc::ChannelArguments& args);

}  // namespace sluice

#endif  // SLUICE_CLIENT_INCLUDE_SLUICE_CHANNEL_CREDENTIALS_H_
