// Delivery: how far a batch got, reported back to the ingest call that sent it.
//
// Ingest attaches a DeliveryCallback to a RecordBatch when the client's acknowledgement
// must wait for a later stage than "queued" (ingest.ack_on: written or flushed). Whoever
// finishes with the batch reports once: the pipeline after the outputs wrote it (or, for
// `flushed`, after they flushed it), or the scheduler when drop_oldest evicts it. The
// callback runs on a scheduler worker, never under a scheduler lock and never inline in
// Scheduler::Submit, so it may take the ingest call's own lock.
#ifndef SLUICE_SERVER_COMMON_DELIVERY_H_
#define SLUICE_SERVER_COMMON_DELIVERY_H_

#include <cstdint>

#include "absl/functional/any_invocable.h"

namespace sluice {

// The stage a batch must reach before its acknowledgement is sent (ingest.ack_on).
enum class DeliveryStage {
  kAccepted,  // queued by the scheduler: the server took responsibility
  kWritten,   // every output's Write returned (it may still sit in an output's buffer)
  kFlushed,   // every output flushed it (the file output: handed to the kernel)
};

// Why records of a batch were lost after admission.
enum class DropReason {
  kNone,
  kOverflowDropNewest,  // every channel was full; scheduler.overflow: drop_newest
  kOverflowDropOldest,  // evicted from a full channel; scheduler.overflow: drop_oldest
  kOutputFailed,        // an output refused them or its retries ran out, or a flush failed
};

struct Delivery {
  // Records that reached the requested stage in every output that takes them.
  uint32_t delivered = 0;
  // Records lost on the way, and why.
  uint32_t dropped = 0;
  DropReason reason = DropReason::kNone;
};

// Runs exactly once per batch it is attached to.
using DeliveryCallback = absl::AnyInvocable<void(const Delivery&) &&>;

}  // namespace sluice

#endif  // SLUICE_SERVER_COMMON_DELIVERY_H_
