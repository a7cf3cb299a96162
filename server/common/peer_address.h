// Peer addresses as gRPC spells them (grpc::ServerContextBase::peer():
// "ipv4:10.0.0.7:51234", "ipv6:%5B::1%5D:51234" — gRPC percent-encodes the brackets of an
// IPv6 address — "unix:/run/sluice.sock"), cut into the parts
// Sluice uses: the host that ingest.max_streams_per_peer counts streams of
// (ingest::StreamLimiter) and the address the `peer` pre-hook writes into records
// (pipeline/hooks/call_hooks.h). Pure functions over the string.
#ifndef SLUICE_SERVER_COMMON_PEER_ADDRESS_H_
#define SLUICE_SERVER_COMMON_PEER_ADDRESS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace sluice {

// The peer's address without its port: "ipv4:10.0.0.7". A peer without a numeric port
// ("unix:/run/x.sock", "") is returned whole.
absl::string_view PeerHost(absl::string_view peer);

// Replaces `*out` with the address of `peer` as people write it: without the "ipv4:" or
// "ipv6:" scheme, percent-decoded ("[::1]:51234"), and without the port unless
// `with_port`. Other peers are written whole. Reuses `*out`'s capacity.
void WritePeerAddress(absl::string_view peer, bool with_port, std::string* out);

}  // namespace sluice

#endif  // SLUICE_SERVER_COMMON_PEER_ADDRESS_H_
