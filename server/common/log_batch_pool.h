// LogBatchPool: recycled request messages for ingest, so that parsing a batch reuses the
// records, strings and fields of an earlier one instead of allocating them anew.
//
// Protobuf's Clear() keeps a message's sub-objects and string capacity; parsing into a
// cleared LogBatch of similar shape allocates almost nothing. Ingest takes a message from
// the pool for each read (Get); when the worker is done with the batch, the handle's
// deleter clears the message on the worker thread and puts it back. The pool keeps at most
// `max_pooled` messages and refuses ones that grew beyond `max_records`, so the memory it
// retains stays bounded (about max_pooled × max_records × the size of a record).
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
  // The handle's deleter; a default-constructed one (no pool) just deletes.
  struct Return {
    LogBatchPool* pool = nullptr;
    void operator()(v1::LogBatch* batch) const {
      if (pool != nullptr) {
        pool->Put(batch);
      } else {
        delete batch;
      }
    }
  };
  using Handle = std::unique_ptr<v1::LogBatch, Return>;

  LogBatchPool(size_t max_pooled, int max_records)
      : max_pooled_(max_pooled), max_records_(max_records) {}
  LogBatchPool(const LogBatchPool&) = delete;
  LogBatchPool& operator=(const LogBatchPool&) = delete;
  ~LogBatchPool();

  // An empty message, recycled when one is available.
  Handle Get();

  // The pool ingest uses: 64 messages of up to 4,096 records.
  static LogBatchPool& Shared();

  size_t pooled_for_test() const;

 private:
  void Put(v1::LogBatch* batch);

  const size_t max_pooled_;
  const int max_records_;
  mutable std::mutex mu_;
  std::vector<v1::LogBatch*> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice

#endif  // SLUICE_SERVER_COMMON_LOG_BATCH_POOL_H_
