// RecordBatch: the unit that travels from ingest through the scheduler to the outputs.
//
// A batch holds records of one stream in arrival order. The records stay in their wire
// form (sluice.v1.LogRecord) and live on a protobuf Arena owned by the batch: ingest parses
// a request straight onto the arena of the batch it becomes, so neither parsing nor
// moving the records between threads allocates per record, and the worker that wrote them
// frees the whole batch at once. Created by ingest (and by tests), owned by the scheduler
// while queued, read by the pipeline and the outputs on a worker. Move-only; moving keeps
// the records where they are.
#ifndef SLUICE_SERVER_COMMON_RECORD_BATCH_H_
#define SLUICE_SERVER_COMMON_RECORD_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/time/time.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "sluice/v1/logs.pb.h"

namespace sluice {

class RecordBatch {
 public:
  using Records = google::protobuf::RepeatedPtrField<v1::LogRecord>;

  // An empty batch; its arena is made when records are first added.
  RecordBatch() = default;
  RecordBatch(RecordBatch&&) = default;
  RecordBatch& operator=(RecordBatch&&) = default;

  // Takes over a request parsed on `arena` (`request` must live on it): its records
  // become the batch's, without a copy.
  static RecordBatch FromRequest(std::unique_ptr<google::protobuf::Arena> arena,
                                 v1::LogBatch* request);

  // An arena sized for ingest batches; pass it to FromRequest.
  static std::unique_ptr<google::protobuf::Arena> NewArena();

  // The arena the records live on; made on first use. New records for this batch must be
  // allocated on it (Arena::CreateMessage, then records().AddAllocated).
  google::protobuf::Arena* arena() { return request()->GetArena(); }
  Records& records() { return *request()->mutable_records(); }
  const Records& records() const;

  size_t size() const { return request_ == nullptr ? 0 : request_->records_size(); }
  bool empty() const { return size() == 0; }

  // The ingest stream the records came from; stream_affinity dispatch keys on it.
  uint64_t stream_id() const { return stream_id_; }
  void set_stream_id(uint64_t id) { stream_id_ = id; }
  // When ingest received the batch; records without a time get it.
  absl::Time received_at() const { return received_at_; }
  void set_received_at(absl::Time at) { received_at_ = at; }

 private:
  v1::LogBatch* request();

  std::unique_ptr<google::protobuf::Arena> arena_;
  v1::LogBatch* request_ = nullptr;  // on arena_
  uint64_t stream_id_ = 0;
  absl::Time received_at_ = absl::UnixEpoch();
};

}  // namespace sluice

#endif  // SLUICE_SERVER_COMMON_RECORD_BATCH_H_
