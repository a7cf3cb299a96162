// LogBatchPool: recycled request messages for ingest, so that parsing a batch reuses the
// records, strings and fields of an earlier one instead of allocating them anew.
//
// Protobuf's Clear() keeps a message's sub-objects and string capacity; parsing into a
// cleared LogBatch of similar shape allocates almost nothing. Ingest takes a message from
// the pool for each read (Get); when the worker is done with the batch, the handle's
// deleter puts the message back as it is, and Get clears it on the ingest thread that
// fills it next, so that clearing and parsing touch the message on one core instead of
// two (docs/BENCHMARKS.md, "The performance push").
//
// What a recycled message keeps is the capacity of the largest batch it ever held, so
// recycling an occasional huge message would pin its memory for good. The pool therefore
// measures each returned message (MemoryBytes, one walk of its records, or the measurement
// the scheduler already took of it) and frees, instead of keeping, a message that grew
// beyond `max_records` records or `max_message_bytes`; and it keeps at most `max_pooled`
// messages and `max_pooled_bytes` in total. Ordinary messages, the hot path, are still
// recycled; after a burst of large ones, their memory goes back to the allocator.
//
// Thread-safe; one short lock per Get and per return.
#ifndef SLUICE_SERVER_COMMON_LOG_BATCH_POOL_H_
#define SLUICE_SERVER_COMMON_LOG_BATCH_POOL_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "sluice/v1/logs.pb.h"

namespace sluice {

class LogBatchPool {
 public:
  // The defaults keep what the client library sends (batches of at most 1,000 records and
  // 1 MiB on the wire, a few MiB once parsed) and free rarer, larger messages, whose own
  // allocation is amortized over their many records anyway.
  struct Limits {
    size_t max_pooled = 64;              // messages kept
    int max_records = 4096;              // records a kept message may hold, cleared or not
    size_t max_message_bytes = 4 << 20;  // MemoryBytes of a kept message
    size_t max_pooled_bytes = 32 << 20;  // MemoryBytes of all kept messages together
  };

  // The handle's deleter; a default-constructed one (no pool) just deletes. `retained` is
  // what the message held when it was pooled: its cleared records are not visible to a
  // later walk, but their strings still hold that memory. `measured`, when not 0, is
  // MemoryBytes of the message as it is now: RecordBatch sets it when it measures the
  // batch for the scheduler and clears it when the records may change, which saves the
  // pool a second walk on the way back.
  struct Return {
    LogBatchPool* pool = nullptr;
    size_t retained = 0;
    size_t measured = 0;
    void operator()(v1::LogBatch* batch) const {
      if (pool != nullptr) {
        pool->Put(batch, retained, measured);
      } else {
        delete batch;
      }
    }
  };
  using Handle = std::unique_ptr<v1::LogBatch, Return>;

  explicit LogBatchPool(const Limits& limits) : limits_(limits) {}
  LogBatchPool(const LogBatchPool&) = delete;
  LogBatchPool& operator=(const LogBatchPool&) = delete;
  ~LogBatchPool();

  // An empty message, recycled when one is available.
  Handle Get();

  // The pool ingest uses, with the default Limits.
  static LogBatchPool& Shared();

  // An estimate of the heap memory `batch` holds, not its wire size: each record object and
  // its slot, every set string at its capacity, each field and its strings, and records and
  // fields kept cleared for reuse at their object size. Cheap (no reflection): a few
  // nanoseconds per record. The scheduler counts it against channel_capacity_bytes.
  static size_t MemoryBytes(const v1::LogBatch& batch);

  size_t pooled_for_test() const;
  size_t pooled_bytes_for_test() const;

 private:
  struct Pooled {
    v1::LogBatch* batch;
    size_t retained;
  };

  void Put(v1::LogBatch* batch, size_t retained, size_t measured);

  const Limits limits_;
  mutable std::mutex mu_;
  std::vector<Pooled> free_ ABSL_GUARDED_BY(mu_);
  size_t pooled_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sluice

#endif  // SLUICE_SERVER_COMMON_LOG_BATCH_POOL_H_
