#include "server/ingest/ingest_context.h"

#include "server/common/peer_address.h"

namespace sluice::ingest {

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
