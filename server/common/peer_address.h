// Peer addresses as gRPC spells them (grpc::ServerContextBase::peer():
// "ipv4:10.0.0.7:51234", "ipv6:[::1]:51234", "unix:/run/sluice.sock"), cut into the parts
// Sluice uses: the host that ingest.max_streams_per_peer counts streams of
// (ingest::StreamLimiter) and the address the `peer` pre-hook writes into records
// (pipeline/hooks/call_hooks.h). Pure functions over the string, no allocation.
#ifndef SLUICE_SERVER_COMMON_PEER_ADDRESS_H_
#define SLUICE_SERVER_COMMON_PEER_ADDRESS_H_

#include "absl/strings/string_view.h"

namespace sluice {

// The peer's address without its port: "ipv4:10.0.0.7". A peer without a numeric port
// ("unix:/run/x.sock", "") is returned whole.
absl::string_view PeerHost(absl::string_view peer);

// `peer` without its "ipv4:" or "ipv6:" scheme; other peers are returned whole.
absl::string_view PeerWithoutScheme(absl::string_view peer);

}  // namespace sluice

#endif  // SLUICE_SERVER_COMMON_PEER_ADDRESS_H_
