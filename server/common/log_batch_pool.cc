#include "server/common/log_batch_pool.h"

#include <algorithm>
#include <string>

namespace sluice {
namespace {

// Protobuf keeps a set (or once set, then cleared) string field as a pointer to a
// std::string of its own; characters beyond the small-string buffer take a second
// allocation of capacity() + 1 bytes. A field never set points at the shared empty
// default and costs nothing.
size_t StringBytes(const std::string& value) {
  static const std::string* const kUnset = &v1::LogRecord::default_instance().logger();
  static const size_t kInlineCapacity = std::string().capacity();
  if (&value == kUnset) return 0;
  const size_t heap = value.capacity() > kInlineCapacity ? value.capacity() + 1 : 0;
  return sizeof(std::string) + heap;
}

template <typename Element>
size_t ArrayBytes(const google::protobuf::RepeatedPtrField<Element>& field) {
  return static_cast<size_t>(field.Capacity()) * sizeof(void*) +
         static_cast<size_t>(field.ClearedCount()) * sizeof(Element);
}

size_t FieldBytes(const v1::Field& field) {
  size_t bytes = sizeof(v1::Field) + StringBytes(field.key());
  if (field.has_string_value()) bytes += StringBytes(field.string_value());
  if (field.has_bytes_value()) bytes += StringBytes(field.bytes_value());
  return bytes;
}

size_t OriginBytes(const v1::OtlpOrigin& origin) {
  return sizeof(v1::OtlpOrigin) + StringBytes(origin.resource_keys()) +
         StringBytes(origin.scope_keys()) + StringBytes(origin.resource_schema_url()) +
         StringBytes(origin.scope_version()) + StringBytes(origin.scope_schema_url()) +
         StringBytes(origin.severity_text()) + StringBytes(origin.body());
}

size_t RecordBytes(const v1::LogRecord& record) {
  size_t bytes = sizeof(v1::LogRecord) + StringBytes(record.logger()) +
                 StringBytes(record.message()) + StringBytes(record.trace_id()) +
                 StringBytes(record.span_id()) + ArrayBytes(record.fields());
  for (const v1::Field& field : record.fields()) bytes += FieldBytes(field);
  if (record.has_otlp()) bytes += OriginBytes(record.otlp());
  return bytes;
}

}  // namespace

LogBatchPool::~LogBatchPool() {
  for (const Pooled& pooled : free_) delete pooled.batch;
}

LogBatchPool& LogBatchPool::Shared() {
  static LogBatchPool* const pool = new LogBatchPool(Limits{});
  return *pool;
}

size_t LogBatchPool::MemoryBytes(const v1::LogBatch& batch) {
  size_t bytes = sizeof(v1::LogBatch) + ArrayBytes(batch.records());
  for (const v1::LogRecord& record : batch.records()) bytes += RecordBytes(record);
  return bytes;
}

LogBatchPool::Handle LogBatchPool::Get() {
  Pooled pooled{nullptr, 0};
  {
    std::lock_guard lock(mu_);
    if (!free_.empty()) {
      pooled = free_.back();
      free_.pop_back();
      pooled_bytes_ -= pooled.retained;
    }
  }
  if (pooled.batch == nullptr) return Handle(new v1::LogBatch(), Return{this, 0, 0});
  // Cleared by the thread that fills it next, whose cache then holds the message it is
  // about to parse into, rather than by the worker that let it go.
  pooled.batch->Clear();
  return Handle(pooled.batch, Return{this, pooled.retained, 0});
}

void LogBatchPool::Put(v1::LogBatch* batch, size_t retained, size_t measured) {
  // A cleared RepeatedPtrField keeps its cleared elements, and cleared strings keep their
  // capacity: a message that once held a large batch keeps its size however small the
  // batches it carries later, so such a message is freed instead.
  if (batch->records_size() + batch->records().ClearedCount() > limits_.max_records) {
    delete batch;
    return;
  }
  retained = std::max(retained, measured != 0 ? measured : MemoryBytes(*batch));
  if (retained > limits_.max_message_bytes) {
    delete batch;
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (free_.size() < limits_.max_pooled && pooled_bytes_ + retained <= limits_.max_pooled_bytes) {
      free_.push_back(Pooled{batch, retained});
      pooled_bytes_ += retained;
      return;
    }
  }
  delete batch;
}

size_t LogBatchPool::pooled_for_test() const {
  std::lock_guard lock(mu_);
  return free_.size();
}

size_t LogBatchPool::pooled_bytes_for_test() const {
  std::lock_guard lock(mu_);
  return pooled_bytes_;
}

}  // namespace sluice
