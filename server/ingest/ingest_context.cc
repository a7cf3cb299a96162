#include "server/ingest/ingest_context.h"

#include "absl/strings/ascii.h"

namespace sluice::ingest {

absl::string_view StreamLimiter::PeerHost(absl::string_view peer) {
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

StreamSlot StreamLimiter::TryOpen(absl::string_view peer, StreamRefusal& refusal) {
  std::string host(PeerHost(peer));
  std::lock_guard lock(mu_);
  if (open_ >= max_streams_) {
    refusal = StreamRefusal::kServerFull;
    return StreamSlot();
  }
  uint32_t& of_host = open_by_host_[host];
  if (of_host >= max_streams_per_peer_) {
    refusal = StreamRefusal::kPeerFull;
    return StreamSlot();
  }
  ++of_host;
  ++open_;
  refusal = StreamRefusal::kNone;
  return StreamSlot(shared_from_this(), std::move(host));
}

void StreamLimiter::Close(const std::string& host) {
  std::lock_guard lock(mu_);
  --open_;
  auto it = open_by_host_.find(host);
  if (--it->second == 0) open_by_host_.erase(it);
}

uint32_t StreamLimiter::open_streams() const {
  std::lock_guard lock(mu_);
  return open_;
}

}  // namespace sluice::ingest
