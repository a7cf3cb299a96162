#include "server/common/peer_address.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace sluice {

absl::string_view PeerHost(absl::string_view peer) {
  // "ipv4:127.0.0.1:5000", "ipv6:[::1]:5000": the port follows the last colon. Anything
  // else ("unix:/run/x.sock", an empty peer) is one host as a whole.
  const size_t colon = peer.rfind(':');
  if (colon == absl::string_view::npos || colon + 1 == peer.size()) return peer;
  for (char c : peer.substr(colon + 1)) {
    if (!absl::ascii_isdigit(c)) return peer;
  }
  const absl::string_view host = peer.substr(0, colon);
  // "ipv4:5000" has no address left: keep the whole.
  if (host.find(':') == absl::string_view::npos) return peer;
  return host;
}

absl::string_view PeerWithoutScheme(absl::string_view peer) {
  if (absl::StartsWith(peer, "ipv4:") || absl::StartsWith(peer, "ipv6:")) {
    peer.remove_prefix(sizeof("ipv4:") - 1);
  }
  return peer;
}

}  // namespace sluice
