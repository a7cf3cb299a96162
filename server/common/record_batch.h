// RecordBatch: the unit that travels from ingest through the scheduler to the outputs.
//
// A batch holds records of one stream in arrival order. The records stay in their wire
// form (sluice.v1.LogRecord): ingest moves them out of the parsed request without copying,
// and the pipeline formats them straight from there. Created by ingest (and by tests),
// owned by the scheduler while queued, read by the pipeline and the outputs on a worker.
#ifndef SLUICE_SERVER_COMMON_RECORD_BATCH_H_
#define SLUICE_SERVER_COMMON_RECORD_BATCH_H_

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "sluice/v1/logs.pb.h"

namespace sluice {

struct RecordBatch {
  // Identifies the ingest stream the records came from; stream_affinity dispatch keys on it.
  uint64_t stream_id = 0;
  // When ingest received the first record of the batch; stamps records without a time.
  absl::Time received_at = absl::UnixEpoch();
  google::protobuf::RepeatedPtrField<v1::LogRecord> records;

  size_t size() const { return static_cast<size_t>(records.size()); }
  bool empty() const { return records.empty(); }
};

}  // namespace sluice

#endif  // SLUICE_SERVER_COMMON_RECORD_BATCH_H_
