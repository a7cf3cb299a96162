// BatchProcessor: what a scheduler worker does with a batch it dequeued.
//
// The server's implementation is pipeline::Pipeline (compose, format, write to every
// output); tests plug in fakes. Process() runs on the worker thread that owns the batch's
// channel, may be called from several workers at once, and may take its time: while it
// runs, that worker's channel fills and the scheduler applies its overflow policy.
//
// Delivery (server/common/delivery.h): Process reports the batch's delivery with
// RecordBatch::Deliver, or takes its callback to report later — then OnIdle, which the
// worker calls before it waits for more work and before it exits (once it processed a
// batch that carried a callback), is the processor's chance to settle what it holds. A batch whose callback is still there after Process is
// reported as delivered in full by the scheduler.
#ifndef SLUICE_SERVER_SCHEDULER_BATCH_PROCESSOR_H_
#define SLUICE_SERVER_SCHEDULER_BATCH_PROCESSOR_H_

#include <cstddef>

#include "server/common/record_batch.h"

namespace sluice::scheduler {

class BatchProcessor {
 public:
  virtual ~BatchProcessor() = default;
  virtual void Process(size_t worker, RecordBatch& batch) = 0;
  virtual void OnIdle(size_t /*worker*/) {}
};

}  // namespace sluice::scheduler

#endif  // SLUICE_SERVER_SCHEDULER_BATCH_PROCESSOR_H_
