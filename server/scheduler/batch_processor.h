// BatchProcessor: what a scheduler worker does with a batch it dequeued.
//
// The server's implementation is pipeline::Pipeline (compose, format, write to every
// output); tests plug in fakes. Process() runs on the worker thread that owns the batch's
// channel, may be called from several workers at once, and may take its time: while it
// runs, that worker's channel fills and the scheduler applies its overflow policy.
#ifndef SLUICE_SERVER_SCHEDULER_BATCH_PROCESSOR_H_
#define SLUICE_SERVER_SCHEDULER_BATCH_PROCESSOR_H_

#include <cstddef>

#include "server/common/record_batch.h"

namespace sluice::scheduler {

class BatchProcessor {
 public:
  virtual ~BatchProcessor() = default;
  virtual void Process(size_t worker, RecordBatch& batch) = 0;
};

}  // namespace sluice::scheduler

#endif  // SLUICE_SERVER_SCHEDULER_BATCH_PROCESSOR_H_
