// Conversions between the server's delivery types (server/common/delivery.h) and their wire
// forms in sluice.v1 acks, and the words used for them in OTLP responses. Used by the
// ingest reactors.
#ifndef SLUICE_SERVER_INGEST_ACK_STAGE_H_
#define SLUICE_SERVER_INGEST_ACK_STAGE_H_

#include "absl/strings/string_view.h"
#include "server/common/delivery.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::ingest {

inline v1::AckStage AckStageOf(DeliveryStage stage) {
  switch (stage) {
    case DeliveryStage::kAccepted:
      return v1::ACK_STAGE_ACCEPTED;
    case DeliveryStage::kWritten:
      return v1::ACK_STAGE_WRITTEN;
    case DeliveryStage::kFlushed:
      return v1::ACK_STAGE_FLUSHED;
  }
  return v1::ACK_STAGE_UNSPECIFIED;
}

inline v1::DropReason DropReasonOf(DropReason reason) {
  switch (reason) {
    case DropReason::kNone:
      return v1::DROP_REASON_UNSPECIFIED;
    case DropReason::kOverflowDropNewest:
      return v1::DROP_REASON_OVERFLOW_DROP_NEWEST;
    case DropReason::kOverflowDropOldest:
      return v1::DROP_REASON_OVERFLOW_DROP_OLDEST;
    case DropReason::kOutputFailed:
      return v1::DROP_REASON_OUTPUT_FAILED;
  }
  return v1::DROP_REASON_UNSPECIFIED;
}

// Why records were dropped, as a sentence fragment for error messages.
inline absl::string_view DropReasonText(DropReason reason) {
  switch (reason) {
    case DropReason::kNone:
      return "not dropped";
    case DropReason::kOverflowDropNewest:
      return "every scheduler channel was full (scheduler.overflow: drop_newest)";
    case DropReason::kOverflowDropOldest:
      return "evicted from a full scheduler channel (scheduler.overflow: drop_oldest)";
    case DropReason::kOutputFailed:
      return "an output could not write or flush them";
  }
  return "unknown";
}

}  // namespace sluice::ingest

#endif  // SLUICE_SERVER_INGEST_ACK_STAGE_H_
