// IngestContext: what every ingest reactor needs, owned by server/app and outliving the
// gRPC server. Also the intake switch that Drain closes and Resume opens again, and the
// count of open ingest calls that enforces ingest.max_concurrent_streams server-wide and
// ingest.max_streams_per_peer per client address (gRPC's own
// GRPC_ARG_MAX_CONCURRENT_STREAMS is per connection, so it cannot bound a server with many
// clients, nor one client with many connections).
#ifndef SLUICE_SERVER_INGEST_INGEST_CONTEXT_H_
#define SLUICE_SERVER_INGEST_INGEST_CONTEXT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "server/auth/ingest_authenticator.h"
#include "server/common/ledger.h"
#include "server/config/config.h"
#include "server/ingest/ingest_metrics.h"
#include "server/levels/level_table.h"
#include "server/pipeline/hooks/hook_chain.h"
#include "server/scheduler/scheduler.h"

namespace sluice::ingest {

// Open while the server accepts records. Closed, new calls are refused with UNAVAILABLE
// and calls in progress are finished with UNAVAILABLE at their next message.
class Intake {
 public:
  bool open() const { return open_.load(std::memory_order_acquire); }
  void Open() { open_.store(true, std::memory_order_release); }
  void Close() { open_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> open_{true};
};

// Why a new ingest call was not counted in.
enum class StreamRefusal { kNone, kServerFull, kPeerFull };

class StreamLimiter;

// One ingest call counted against ingest.max_concurrent_streams and
// ingest.max_streams_per_peer; counted out when destroyed. Move-only. A reactor keeps its
// slot as a member, so the slot is freed with the reactor whatever ended the call (a
// refusal, a parse failure, a failed allocation, the client going away). The slot shares
// ownership of its limiter: a reactor can outlive the server's teardown (a cancelled
// alarm's callback, a parked batch released with the scheduler), and its slot must still
// find the limiter then.
class StreamSlot {
 public:
  StreamSlot() = default;
  StreamSlot(StreamSlot&& other) noexcept
      : limiter_(std::move(other.limiter_)), peer_(std::move(other.peer_)) {}
  StreamSlot& operator=(StreamSlot&& other) noexcept {
    std::swap(limiter_, other.limiter_);
    std::swap(peer_, other.peer_);
    return *this;
  }
  ~StreamSlot();

  bool held() const { return limiter_ != nullptr; }

 private:
  friend class StreamLimiter;
  StreamSlot(std::shared_ptr<StreamLimiter> limiter, std::string peer)
      : limiter_(std::move(limiter)), peer_(std::move(peer)) {}

  std::shared_ptr<StreamLimiter> limiter_;
  std::string peer_;
};

// Counts open ingest calls, server-wide and per peer (client IP address). Opening and
// closing a call take a lock; the messages of a call never do. Owned by shared_ptr (see
// StreamSlot).
class StreamLimiter : public std::enable_shared_from_this<StreamLimiter> {
 public:
  StreamLimiter(uint32_t max_streams, uint32_t max_streams_per_peer)
      : max_streams_(max_streams), max_streams_per_peer_(max_streams_per_peer) {}

  // A held slot, or an empty one and why, when a limit is reached already. `peer` is
  // grpc::ServerContext::peer() ("ipv4:10.0.0.7:51234"); streams from one client host
  // (PeerHost, without the port) count together.
  StreamSlot TryOpen(absl::string_view peer, StreamRefusal& refusal);

  uint32_t open_streams() const;

 private:
  friend class StreamSlot;
  void Close(const std::string& host);

  const uint32_t max_streams_;
  const uint32_t max_streams_per_peer_;
  mutable std::mutex mu_;
  uint32_t open_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, uint32_t> open_by_host_ ABSL_GUARDED_BY(mu_);
};

inline StreamSlot::~StreamSlot() {
  if (limiter_ != nullptr) limiter_->Close(peer_);
}

struct IngestContext {
  const config::IngestConfig& config;
  scheduler::Scheduler& scheduler;
  const levels::LevelTable& levels;
  Ledger& ledger;
  IngestMetrics& metrics;
  Intake& intake;
  // The pre-hooks (`hooks.pre`) every call's Admission runs; null when none are configured,
  // and then no call pays for them. A config reload replaces them for the calls that start
  // afterwards; the replaced chain lives on for the calls that took it.
  std::atomic<const pipeline::hooks::HookChain*> pre_hooks = nullptr;
  // Checks every call's token (ingest.tokens_file); null when none is needed.
  const auth::IngestAuthenticator* authenticator = nullptr;

  uint64_t NextStreamId() { return next_stream_id.fetch_add(1, std::memory_order_relaxed); }

  std::atomic<uint64_t> next_stream_id{1};
  const std::shared_ptr<StreamLimiter> streams =
      std::make_shared<StreamLimiter>(config.max_concurrent_streams, config.max_streams_per_peer);
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_INGEST_CONTEXT_H_
