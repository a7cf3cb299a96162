// RecordBatch: the unit that travels from ingest through the scheduler to the outputs.
//
// A batch holds records of one stream in arrival order. The records stay in their wire
// form (sluice.v1.LogRecord) inside a request message taken from the LogBatchPool: ingest
// parses a request straight into the message that becomes the batch, so no record is
// copied between the wire and the outputs, and since the pool recycles messages, parsing
// reuses the records and string buffers of earlier batches instead of allocating. When
// the batch is destroyed (on the worker that wrote it) the message goes back to the pool.
// Created by ingest (and by tests), owned by the scheduler while queued, read by the
// pipeline and the outputs on a worker. Move-only; moving keeps the records where they are.
//
// Records that pre-hooks ran over on the RPC carry their field layers (field_layers.h) in
// the batch, one entry per record; a batch without them has only ad-hoc fields.
//
// A batch may carry a delivery callback (delivery.h): the ingest call waiting to learn how
// far the batch got. Whoever finishes with the batch calls Deliver() once. A batch that
// Scheduler::Submit drops (drop_newest) is destroyed without reporting: the submitter
// learns it from the outcome.
#ifndef SLUICE_SERVER_COMMON_RECORD_BATCH_H_
#define SLUICE_SERVER_COMMON_RECORD_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "server/common/delivery.h"
#include "server/common/field_layers.h"
#include "server/common/log_batch_pool.h"
#include "sluice/v1/logs.pb.h"

namespace sluice {

class RecordBatch {
 public:
  using Records = google::protobuf::RepeatedPtrField<v1::LogRecord>;

  // An empty batch; its message is taken from the pool when records are first added.
  RecordBatch() = default;
  RecordBatch(RecordBatch&&) = default;
  RecordBatch& operator=(RecordBatch&&) = default;

  // Takes over a parsed request: its records become the batch's, without a copy.
  static RecordBatch FromRequest(LogBatchPool::Handle request);

  // Mutable access forgets the cached memory_bytes(): the records may change.
  Records& records() {
    memory_bytes_ = kUnknownBytes;
    v1::LogBatch* message = request();
    request_.get_deleter().measured = 0;
    return *message->mutable_records();
  }
  const Records& records() const;

  size_t size() const { return request_ == nullptr ? 0 : request_->records_size(); }
  bool empty() const { return size() == 0; }

  // An estimate of the heap memory the batch's message holds (LogBatchPool::MemoryBytes),
  // not its wire size: a parsed record costs several times its encoding, and memory is
  // what the scheduler's channel_capacity_bytes bounds. Walks the records on the first
  // call and caches the result until records() is next taken mutably, so the scheduler
  // pays for it once per batch; the pool, taking the message back, reuses it too.
  size_t memory_bytes();

  // Per record, where its fields change layer; empty when no pre-hook ran, which means
  // FieldLayers{} for every record. Pre-hooks fill it, HookChain takes it on the worker.
  std::vector<FieldLayers>& field_layers() { return field_layers_; }
  const std::vector<FieldLayers>& field_layers() const { return field_layers_; }

  // The ingest stream the records came from; stream_affinity dispatch keys on it.
  uint64_t stream_id() const { return stream_id_; }
  void set_stream_id(uint64_t id) { stream_id_ = id; }
  // When ingest received the batch; records without a time get it.
  absl::Time received_at() const { return received_at_; }
  void set_received_at(absl::Time at) { received_at_ = at; }

  // The stage the sender waits for, and the callback to report it; ingest sets both.
  void set_delivery(DeliveryStage stage, DeliveryCallback on_delivered) {
    delivery_stage_ = stage;
    on_delivered_ = std::move(on_delivered);
  }
  DeliveryStage delivery_stage() const { return delivery_stage_; }
  bool awaits_delivery() const { return on_delivered_ != nullptr; }
  // Hands the callback over to whoever reports later (the pipeline, waiting for a flush).
  DeliveryCallback TakeDeliveryCallback() { return std::move(on_delivered_); }
  // Reports `delivery` to the sender, if one waits; at most once.
  void Deliver(const Delivery& delivery);

 private:
  v1::LogBatch* request();

  static constexpr size_t kUnknownBytes = ~size_t{0};

  LogBatchPool::Handle request_;
  size_t memory_bytes_ = kUnknownBytes;
  std::vector<FieldLayers> field_layers_;
  uint64_t stream_id_ = 0;
  absl::Time received_at_ = absl::UnixEpoch();
  DeliveryStage delivery_stage_ = DeliveryStage::kAccepted;
  DeliveryCallback on_delivered_;
};

}  // namespace sluice

#endif  // SLUICE_SERVER_COMMON_RECORD_BATCH_H_
