// The scheduler's settings: how many workers, how much each channel holds, and what
// happens when a channel is full. Filled from the `scheduler:` section by server/config
// (which declares the keys) and read by Scheduler (scheduler.h) and its metrics.
#ifndef SLUICE_SERVER_SCHEDULER_SCHEDULER_CONFIG_H_
#define SLUICE_SERVER_SCHEDULER_SCHEDULER_CONFIG_H_

#include <cstdint>

namespace sluice::scheduler {

// What Submit does when the chosen worker's channel has no room.
enum class OverflowPolicy {
  kBlock,       // park the batch; the stream stops reading until there is room (default)
  kDropNewest,  // drop the incoming batch, count it
  kDropOldest,  // evict the oldest queued batches of that channel, count them
};

// How batches are spread over the workers.
enum class DispatchPolicy {
  kRoundRobin,      // next worker in turn (default); order across batches of a stream is not kept
  kStreamAffinity,  // worker = stream id mod workers: each stream's records stay in order
};

struct SchedulerConfig {
  uint32_t workers = 4;
  // Records each worker's channel holds at most.
  uint32_t channel_capacity = 65536;
  // In-memory bytes of the records each worker's channel holds at most (not their wire
  // size): whichever of the two capacities is reached first makes the channel full.
  uint64_t channel_capacity_bytes = 32 * 1024 * 1024;
  OverflowPolicy overflow = OverflowPolicy::kBlock;
  DispatchPolicy dispatch = DispatchPolicy::kRoundRobin;
};

}  // namespace sluice::scheduler

#endif  // SLUICE_SERVER_SCHEDULER_SCHEDULER_CONFIG_H_
