// How the `sluice` command reaches a server: the addresses (--target, --admin, else
// $SLUICE_TARGET, $SLUICE_ADMIN), TLS (--tls-ca, --tls-cert, --tls-key, --tls-server-name)
// and the bearer token (--token-file, else $SLUICE_TOKEN_FILE). A flag wins over its
// environment variable.
//
// main() takes the dashed connection flags out of argv (ExtractConnectionFlags) before
// Abseil parses the rest; the subcommands build their channels and call contexts here, so
// every command connects alike. A TLS or token file that cannot be read ends the command
// with kExitUsage and the file named.
#ifndef SLUICE_CLIENT_CLI_CONNECTION_H_
#define SLUICE_CLIENT_CLI_CONNECTION_H_

#include <memory>
#include <string>

#include "client/loadgen/load_generator.h"
#include "grpcpp/grpcpp.h"
#include "sluice/client.h"

namespace sluice::cli {

// Removes the connection flags (`--tls-ca x`, `--tls-ca=x`, ...) from argv; the last of
// each wins.
void ExtractConnectionFlags(int& argc, char** argv);

std::string IngestTarget();
std::string AdminTarget();

// Channels to the admin and the ingest port, or to another target, over TLS when a
// --tls-* flag is given.
std::shared_ptr<grpc::Channel> AdminChannel();
std::shared_ptr<grpc::Channel> IngestChannel();
std::shared_ptr<grpc::Channel> ChannelTo(const std::string& target);

// Adds `authorization: Bearer <token>` when a token file is given.
void Authorize(grpc::ClientContext& context);

// The ingest target, TLS and token of `send` and `bench`.
void ConfigureClient(ClientOptions& options);
void ConfigureLoad(loadgen::LoadOptions& options);

}  // namespace sluice::cli

#endif  // SLUICE_CLIENT_CLI_CONNECTION_H_
