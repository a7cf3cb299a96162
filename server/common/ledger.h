// Ledger: the server-wide record counts that must balance.
//
//   received = filtered + rejected + dropped + dropped_by_hook + unrouted + written + in_flight
//
// Ingest adds received, filtered and rejected; the scheduler adds the records its overflow
// policy drops; the pipeline adds, per batch, the records a post-hook dropped on purpose
// (dropped_by_hook, not a loss, so not part of dropped), the records no output is routed
// (unrouted: no output's level, loggers and match took them; not a loss either), the
// records every output they are routed to took (written) and the records some such output
// failed to take (dropped, reason output_failed). A record goes to exactly one outcome,
// however many outputs it is routed to: it is written once every one of them took it, and
// dropped as soon as one of them gave up on it — even if the others took it.
// docs/METRICS.md ("The books") says the same for operators.
//
// in_flight is not derived from the other counts: it is measured by whoever holds records
// (the scheduler's queued, parked and processing records, set with SetInFlightGauge), so
// that a record lost or counted twice shows as an imbalance instead of being absorbed.
// Admin reads a snapshot for Drain and GetStats; the e2e books test checks the balance.
//
// Updated once per batch with relaxed atomics, so it costs nothing per record. The
// Prometheus counters with labels live in each module's *_metrics.h; this is the total.
#ifndef SLUICE_SERVER_COMMON_LEDGER_H_
#define SLUICE_SERVER_COMMON_LEDGER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <utility>

namespace sluice {

struct LedgerCounts {
  uint64_t received = 0;
  uint64_t filtered = 0;
  uint64_t rejected = 0;
  // dropped_overflow + dropped_output_failed.
  uint64_t dropped = 0;
  // Records a post-hook dropped (hooks.post, e.g. a `drop` hook): removed on purpose.
  uint64_t dropped_by_hook = 0;
  // Records no output was routed (level, loggers, match): delivered where the config sends
  // them, nowhere.
  uint64_t unrouted = 0;
  uint64_t written = 0;
  // Queued, parked or being written now, as measured by the in-flight gauge (0 without one).
  uint64_t in_flight = 0;
  // The parts of `dropped`: by the scheduler's overflow policy (drop_newest, drop_oldest),
  // and by an output that refused them or ran out of retries.
  uint64_t dropped_overflow = 0;
  uint64_t dropped_output_failed = 0;
};

class Ledger {
 public:
  void AddReceived(uint64_t n) { received_.fetch_add(n, std::memory_order_relaxed); }
  void AddFiltered(uint64_t n) { filtered_.fetch_add(n, std::memory_order_relaxed); }
  void AddRejected(uint64_t n) { rejected_.fetch_add(n, std::memory_order_relaxed); }
  // Records the scheduler's overflow policy dropped.
  void AddDropped(uint64_t n) { dropped_overflow_.fetch_add(n, std::memory_order_relaxed); }
  // Records at least one of their outputs failed to take.
  void AddOutputFailed(uint64_t n) {
    dropped_output_failed_.fetch_add(n, std::memory_order_relaxed);
  }
  void AddDroppedByHook(uint64_t n) { dropped_by_hook_.fetch_add(n, std::memory_order_relaxed); }
  void AddUnrouted(uint64_t n) { unrouted_.fetch_add(n, std::memory_order_relaxed); }
  void AddWritten(uint64_t n) { written_.fetch_add(n, std::memory_order_relaxed); }

  // Where Snapshot() reads in_flight from. Set once at start-up, before any Snapshot; the
  // gauge must be callable from any thread and outlive the ledger's readers.
  void SetInFlightGauge(std::function<uint64_t()> gauge) { in_flight_gauge_ = std::move(gauge); }

  // Each count is read once; records moving meanwhile can make the sides differ by a batch
  // or two, so a balance is only exact while nothing moves (a held output, a drained server).
  LedgerCounts Snapshot() const {
    LedgerCounts counts;
    counts.received = received_.load(std::memory_order_acquire);
    counts.filtered = filtered_.load(std::memory_order_acquire);
    counts.rejected = rejected_.load(std::memory_order_acquire);
    counts.dropped_overflow = dropped_overflow_.load(std::memory_order_acquire);
    counts.dropped_output_failed = dropped_output_failed_.load(std::memory_order_acquire);
    counts.dropped = counts.dropped_overflow + counts.dropped_output_failed;
    counts.dropped_by_hook = dropped_by_hook_.load(std::memory_order_acquire);
    counts.unrouted = unrouted_.load(std::memory_order_acquire);
    counts.written = written_.load(std::memory_order_acquire);
    if (in_flight_gauge_) counts.in_flight = in_flight_gauge_();
    return counts;
  }

 private:
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> filtered_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> dropped_overflow_{0};
  std::atomic<uint64_t> dropped_output_failed_{0};
  std::atomic<uint64_t> dropped_by_hook_{0};
  std::atomic<uint64_t> unrouted_{0};
  std::atomic<uint64_t> written_{0};
  std::function<uint64_t()> in_flight_gauge_;
};

}  // namespace sluice

#endif  // SLUICE_SERVER_COMMON_LEDGER_H_
