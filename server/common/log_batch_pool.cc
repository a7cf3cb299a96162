#include "server/common/log_batch_pool.h"

namespace sluice {

LogBatchPool::~LogBatchPool() {
  for (v1::LogBatch* batch : free_) delete batch;
}

LogBatchPool& LogBatchPool::Shared() {
  static LogBatchPool* const pool = new LogBatchPool(64, 4096);
  return *pool;
}

LogBatchPool::Handle LogBatchPool::Get() {
  {
    std::lock_guard lock(mu_);
    if (!free_.empty()) {
      v1::LogBatch* batch = free_.back();
      free_.pop_back();
      return Handle(batch, Return{this});
    }
  }
  return Handle(new v1::LogBatch(), Return{this});
}

void LogBatchPool::Put(v1::LogBatch* batch) {
  // A cleared RepeatedPtrField keeps its cleared elements: records beyond the limit are
  // not worth keeping, so such a message is freed instead.
  if (batch->records_size() + batch->records().ClearedCount() > max_records_) {
    delete batch;
    return;
  }
  batch->Clear();
  {
    std::lock_guard lock(mu_);
    if (free_.size() < max_pooled_) {
      free_.push_back(batch);
      return;
    }
  }
  delete batch;
}

size_t LogBatchPool::pooled_for_test() const {
  std::lock_guard lock(mu_);
  return free_.size();
}

}  // namespace sluice
