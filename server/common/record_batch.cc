#include "server/common/record_batch.h"

#include <utility>

namespace sluice {

RecordBatch RecordBatch::FromRequest(LogBatchPool::Handle request) {
  RecordBatch batch;
  batch.request_ = std::move(request);
  return batch;
}

const RecordBatch::Records& RecordBatch::records() const {
  static const Records* const kEmpty = new Records();
  return request_ == nullptr ? *kEmpty : request_->records();
}

size_t RecordBatch::memory_bytes() {
  if (memory_bytes_ == kUnknownBytes) {
    if (request_ == nullptr) return memory_bytes_ = 0;
    memory_bytes_ = LogBatchPool::MemoryBytes(*request_);
    request_.get_deleter().measured = memory_bytes_;
  }
  return memory_bytes_ + field_layers_.capacity() * sizeof(FieldLayers);
}

void RecordBatch::Deliver(const Delivery& delivery) {
  if (on_delivered_ == nullptr) return;
  DeliveryCallback callback = std::move(on_delivered_);
  on_delivered_ = nullptr;
  std::move(callback)(delivery);
}

v1::LogBatch* RecordBatch::request() {
  if (request_ == nullptr) request_ = LogBatchPool::Shared().Get();
  return request_.get();
}

}  // namespace sluice
