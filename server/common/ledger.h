// Ledger: the server-wide record counts that must balance.
//
//   received = filtered + rejected + dropped + written + in_flight
//
// Ingest adds received/filtered/rejected, the scheduler adds dropped, the pipeline adds
// written. Admin reads a snapshot for Drain and GetStats; a test checks the balance.
// Updated once per batch with relaxed atomics, so it costs nothing per record. The
// Prometheus counters with labels live in each module's *_metrics.h; this is the total.
#ifndef SLUICE_SERVER_COMMON_LEDGER_H_
#define SLUICE_SERVER_COMMON_LEDGER_H_

#include <atomic>
#include <cstdint>

namespace sluice {

struct LedgerCounts {
  uint64_t received = 0;
  uint64_t filtered = 0;
  uint64_t rejected = 0;
  uint64_t dropped = 0;
  uint64_t written = 0;
  // What is queued, parked or being written now: received minus every outcome.
  uint64_t in_flight = 0;
};

class Ledger {
 public:
  void AddReceived(uint64_t n) { received_.fetch_add(n, std::memory_order_relaxed); }
  void AddFiltered(uint64_t n) { filtered_.fetch_add(n, std::memory_order_relaxed); }
  void AddRejected(uint64_t n) { rejected_.fetch_add(n, std::memory_order_relaxed); }
  void AddDropped(uint64_t n) { dropped_.fetch_add(n, std::memory_order_relaxed); }
  void AddWritten(uint64_t n) { written_.fetch_add(n, std::memory_order_relaxed); }

  // Outcomes are read before `received`, so in_flight never underflows while records move.
  LedgerCounts Snapshot() const {
    LedgerCounts counts;
    counts.written = written_.load(std::memory_order_acquire);
    counts.dropped = dropped_.load(std::memory_order_acquire);
    counts.rejected = rejected_.load(std::memory_order_acquire);
    counts.filtered = filtered_.load(std::memory_order_acquire);
    counts.received = received_.load(std::memory_order_acquire);
    const uint64_t settled = counts.written + counts.dropped + counts.rejected + counts.filtered;
    counts.in_flight = counts.received > settled ? counts.received - settled : 0;
    return counts;
  }

 private:
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> filtered_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};
};

}  // namespace sluice

#endif  // SLUICE_SERVER_COMMON_LEDGER_H_
