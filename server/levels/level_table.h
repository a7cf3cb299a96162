// LevelTable: which levels pass for which logger, changed at runtime by the admin RPC.
//
// The table holds a default threshold and rules per logger-name prefix: a rule for
// "checkout" applies to "checkout" and "checkout.db" (not "checkouts"), and the longest
// matching prefix wins.
//
// A rule set with a TTL ("DEBUG for checkout for 10 minutes") is an overlay: it hides what
// the prefix had before — a permanent rule, an older overlay, or no rule at all — and when
// it expires exactly that applies again. Each overlay expires on its own; an older one that
// expires while still covered is gone by then, so the prefix shows what would be in force
// had the newer overlay never been set. A permanent SetRule or a RemoveRule replaces the
// prefix's rule and every overlay on it: the operator states what applies from now on.
// Expiry happens in ExpireDue(now), which server/app calls from a timer thread; every
// method that depends on the time takes `now`, so tests drive the clock.
//
// Readers never lock: every change publishes a new immutable LevelSnapshot (the rule in
// force per prefix) and bumps version(); ingest holds a LevelGate (level_gate.h) per stream
// that re-reads the snapshot only when the version moved. Writers (admin RPCs, the expiry
// timer) serialize on a mutex.
#ifndef SLUICE_SERVER_LEVELS_LEVEL_TABLE_H_
#define SLUICE_SERVER_LEVELS_LEVEL_TABLE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/config/config.h"
#include "sluice/level.h"

namespace sluice::levels {

// The rule in force for one prefix. `expires_at` is when this level stops applying (an
// overlay's expiry); InfiniteFuture for a permanent rule.
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
  // `ttl` of zero: `level` becomes the prefix's permanent rule, replacing the rule and any
  // overlays it had. A positive `ttl`: `level` applies until `now + ttl` on top of what the
  // prefix has, which applies again afterwards. INVALID_ARGUMENT for an empty or malformed
  // prefix or a negative ttl.
  absl::Status SetRule(absl::string_view prefix, Level level, absl::Duration ttl, absl::Time now);
  // Removes the prefix's rule together with its overlays. NOT_FOUND when it has none.
  absl::Status RemoveRule(absl::string_view prefix);

  // A config reload: the `levels` section replaces the rules and the default that came from
  // the config file (at start or by an earlier reload). What SetDefault and a permanent
  // SetRule set stays, and so does every overlay: the operator's calls win over the file.
  void ReplaceConfigRules(const config::LevelsConfig& config);

  // Removes the overlays whose expiry is at or before `now`, each revealing what it
  // covered; returns the next expiry (InfiniteFuture when none).
  absl::Time ExpireDue(absl::Time now);

 private:
  struct Overlay {
    Level level;
    absl::Time expires_at;
  };
  // What one prefix has: an optional permanent rule and the overlays on it, oldest first.
  // Expiries strictly decrease towards the newest: an overlay that would expire no later
  // than a newer one covering it can never apply again, so SetRule drops it.
  struct Layers {
    std::optional<Level> permanent;
    // The permanent rule is the config file's (not a SetRule's).
    bool permanent_from_config = false;
    std::vector<Overlay> overlays;
  };

  void PublishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable std::mutex mu_;
  Level default_level_ ABSL_GUARDED_BY(mu_) = Level::kInfo;
  bool default_from_config_ ABSL_GUARDED_BY(mu_) = true;
  std::map<std::string, Layers, std::less<>> layers_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const LevelSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> version_{0};
};

}  // namespace sluice::levels

#endif  // SLUICE_SERVER_LEVELS_LEVEL_TABLE_H_
