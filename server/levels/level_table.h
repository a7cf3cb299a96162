// LevelTable: which levels pass for which logger, changed at runtime by the admin RPC.
//
// The table holds a default threshold and rules per logger-name prefix: a rule for
// "checkout" applies to "checkout" and "checkout.db" (not "checkouts"), and the longest
// matching prefix wins. A rule may expire ("DEBUG for checkout for 10 minutes"); it is then
// removed by ExpireDue(), which server/app calls from a timer thread, and the next longer
// or shorter rule applies again.
//
// Readers never lock: every change publishes a new immutable LevelSnapshot and bumps
// version(); ingest holds a LevelGate (level_gate.h) per stream that re-reads the snapshot
// only when the version moved. Writers (admin RPCs, the expiry timer) serialize on a mutex.
#ifndef SLUICE_SERVER_LEVELS_LEVEL_TABLE_H_
#define SLUICE_SERVER_LEVELS_LEVEL_TABLE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/config/config.h"
#include "sluice/level.h"

namespace sluice::levels {

struct LevelRule {
  std::string logger_prefix;
  Level level = Level::kInfo;
  absl::Time expires_at = absl::InfiniteFuture();
};

// One immutable version of the table.
class LevelSnapshot {
 public:
  LevelSnapshot(Level default_level, std::vector<LevelRule> rules);

  // The threshold in force for `logger`.
  Level ThresholdFor(absl::string_view logger) const;

  Level default_level() const { return default_level_; }
  // Sorted by prefix.
  const std::vector<LevelRule>& rules() const { return rules_; }

 private:
  Level default_level_;
  std::vector<LevelRule> rules_;
  // Indices into rules_, longest prefix first: the first match is the answer.
  std::vector<size_t> by_length_;
};

class LevelTable {
 public:
  explicit LevelTable(const config::LevelsConfig& config);

  std::shared_ptr<const LevelSnapshot> Snapshot() const;
  // Increases on every change; a cheap way for readers to notice one.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  void SetDefault(Level level);
  // Adds or replaces the rule for `prefix`; `ttl` of zero means no expiry.
  // INVALID_ARGUMENT for an empty or malformed prefix.
  absl::Status SetRule(absl::string_view prefix, Level level, absl::Duration ttl, absl::Time now);
  // NOT_FOUND when there is no rule for `prefix`.
  absl::Status RemoveRule(absl::string_view prefix);

  // Removes the rules whose expiry is at or before `now`; returns the next expiry
  // (InfiniteFuture when none).
  absl::Time ExpireDue(absl::Time now);

 private:
  void PublishLocked(Level default_level, std::vector<LevelRule> rules)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable std::mutex mu_;
  std::shared_ptr<const LevelSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> version_{0};
};

}  // namespace sluice::levels

#endif  // SLUICE_SERVER_LEVELS_LEVEL_TABLE_H_
