// IngestContext: what every ingest reactor needs, owned by server/app and outliving the
// gRPC server. Also the intake switch that Drain closes and Resume opens again, and the
// server-wide count of open ingest calls that enforces ingest.max_concurrent_streams
// (gRPC's own GRPC_ARG_MAX_CONCURRENT_STREAMS is per connection, so it cannot bound a
// server with many clients).
#ifndef SLUICE_SERVER_INGEST_INGEST_CONTEXT_H_
#define SLUICE_SERVER_INGEST_INGEST_CONTEXT_H_

#include <atomic>
#include <cstdint>

#include "server/admin/level_table.h"
#include "server/common/ledger.h"
#include "server/config/config.h"
#include "server/ingest/ingest_metrics.h"
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

struct IngestContext {
  const config::IngestConfig& config;
  scheduler::Scheduler& scheduler;
  const admin::LevelTable& levels;
  Ledger& ledger;
  IngestMetrics& metrics;
  Intake& intake;

  uint64_t NextStreamId() { return next_stream_id.fetch_add(1, std::memory_order_relaxed); }

  // Counts a new ingest call in; false, and nothing counted, when max_concurrent_streams
  // calls are open already. A call counted in is counted out by CloseStream in its OnDone.
  bool TryOpenStream() {
    uint32_t open = open_streams.load(std::memory_order_relaxed);
    do {
      if (open >= config.max_concurrent_streams) return false;
    } while (!open_streams.compare_exchange_weak(open, open + 1, std::memory_order_relaxed));
    return true;
  }
  void CloseStream() { open_streams.fetch_sub(1, std::memory_order_relaxed); }

  std::atomic<uint64_t> next_stream_id{1};
  std::atomic<uint32_t> open_streams{0};
};

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_INGEST_CONTEXT_H_
