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

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void WritePeerAddress(absl::string_view peer, bool with_port, std::string* out) {
  out->clear();
  if (!absl::StartsWith(peer, "ipv4:") && !absl::StartsWith(peer, "ipv6:")) {
    out->append(peer.data(), peer.size());
    return;
  }
  if (!with_port) peer = PeerHost(peer);
  peer.remove_prefix(sizeof("ipv4:") - 1);
  for (size_t i = 0; i < peer.size(); ++i) {
    if (peer[i] == '%' && i + 2 < peer.size()) {
      const int high = HexDigit(peer[i + 1]);
      const int low = HexDigit(peer[i + 2]);
      if (high >= 0 && low >= 0) {
        out->push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out->push_back(peer[i]);
  }
}

}  // namespace sluice
