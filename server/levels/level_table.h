// LevelTable: which levels pass for which logger, set by the config file and changed at
// runtime by the admin RPC.
//
// The table holds a default threshold and rules per logger-name prefix: a rule for
// "checkout" applies to "checkout" and "checkout.db" (not "checkouts"), and the longest
// matching prefix wins. A rule is a threshold (DEBUG and above) or a set of levels
// (exactly ERROR and DEBUG, go-log's LvlsEnabled): a LevelFilter.
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
// Every rule remembers where it came from (the config file or the admin RPC) and when it
// was set. A config reload (ReplaceConfigRules) replaces only what came from the file: a
// level an operator set during an incident outlives the reload, and its TTL still ends it.
//
// The table is bounded (levels.max_rules, levels.max_prefix_bytes): a rule for a new
// prefix beyond the limit, or a longer prefix, is refused with the limit named.
//
// Readers never lock: every change publishes a new immutable LevelSnapshot (the rule in
// force per prefix) and bumps version(); ingest holds a LevelGate (level_gate.h) per stream
// that re-reads the snapshot only when the version moved. Writers (admin RPCs, the expiry
// timer, a reload) serialize on a mutex.
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
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/config/config.h"
#include "sluice/level.h"

namespace sluice::levels {

// The levels one rule lets through: a threshold and everything above it, or a set.
class LevelFilter {
 public:
  static LevelFilter AtLeast(Level threshold);
  // INVALID_ARGUMENT for an empty set.
  static absl::StatusOr<LevelFilter> Only(absl::Span<const Level> levels);

  bool Admits(Level level) const {
    const unsigned bit = static_cast<unsigned>(level);
    return bit < 8 && ((mask_ >> bit) & 1u) != 0;
  }
  // The threshold of an AtLeast filter; nullopt for a set.
  std::optional<Level> threshold() const;
  // The levels admitted, lowest first.
  std::vector<Level> levels() const;
  Level lowest() const;

  bool operator==(const LevelFilter& other) const = default;

 private:
  LevelFilter(uint8_t mask, bool is_set) : mask_(mask), is_set_(is_set) {}

  // Bit n admits Level n.
  uint8_t mask_;
  bool is_set_;
};

enum class RuleSource { kConfig, kAdmin };

// "config" or "admin".
absl::string_view RuleSourceName(RuleSource source);

// The rule in force for one prefix. `expires_at` is when it stops applying (an overlay's
// expiry); InfiniteFuture for a permanent rule.
struct LevelRule {
  std::string logger_prefix;
  LevelFilter filter = LevelFilter::AtLeast(Level::kInfo);
  RuleSource source = RuleSource::kConfig;
  absl::Time set_at;
  absl::Time expires_at = absl::InfiniteFuture();
};

// One immutable version of the table.
class LevelSnapshot {
 public:
  LevelSnapshot(Level default_level, RuleSource default_source, absl::Time default_set_at,
                std::vector<LevelRule> rules);

  // The rule in force for `logger` (the default threshold when no rule matches).
  LevelFilter FilterFor(absl::string_view logger) const;

  Level default_level() const { return default_level_; }
  RuleSource default_source() const { return default_source_; }
  absl::Time default_set_at() const { return default_set_at_; }
  // Sorted by prefix.
  const std::vector<LevelRule>& rules() const { return rules_; }

 private:
  Level default_level_;
  RuleSource default_source_;
  absl::Time default_set_at_;
  std::vector<LevelRule> rules_;
  // Indices into rules_, longest prefix first: the first match is the answer.
  std::vector<size_t> by_length_;
};

class LevelTable {
 public:
  // The file's rules, set at `now`.
  explicit LevelTable(const config::LevelsConfig& config, absl::Time now = absl::Now());

  std::shared_ptr<const LevelSnapshot> Snapshot() const;
  // Increases on every change; a cheap way for readers to notice one.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  // The admin RPC's default threshold.
  void SetDefault(Level level, absl::Time now = absl::Now());
  // Sets an admin rule. `ttl` of zero: `filter` becomes the prefix's permanent rule,
  // replacing the rule and any overlays it had. A positive `ttl`: `filter` applies until
  // `now + ttl` on top of what the prefix has, which applies again afterwards.
  // INVALID_ARGUMENT for an empty, malformed or too long prefix or a negative ttl;
  // RESOURCE_EXHAUSTED for a new prefix when the table holds levels.max_rules already.
  absl::Status SetRule(absl::string_view prefix, LevelFilter filter, absl::Duration ttl,
                       absl::Time now);
  // A threshold rule: `threshold` and above pass.
  absl::Status SetRule(absl::string_view prefix, Level threshold, absl::Duration ttl,
                       absl::Time now) {
    return SetRule(prefix, LevelFilter::AtLeast(threshold), ttl, now);
  }
  // Removes the prefix's rule together with its overlays. NOT_FOUND when it has none.
  absl::Status RemoveRule(absl::string_view prefix);

  // A reload: the rules and the default that came from the file are replaced by
  // `config`'s, and its limits apply from now on (rules already in the table beyond a
  // lowered max_rules stay; new prefixes are refused until there is room). Rules and a
  // default set by the admin RPC stay, and so does every overlay, which reveals the new
  // file rule when it expires. A file rule for a prefix whose permanent rule came from the
  // admin RPC is not applied: the operator's rule stays until an operator removes it.
  void ReplaceConfigRules(const config::LevelsConfig& config, absl::Time now = absl::Now());

  // Removes the overlays whose expiry is at or before `now`, each revealing what it
  // covered; returns the next expiry (InfiniteFuture when none).
  absl::Time ExpireDue(absl::Time now);

 private:
  struct Overlay {
    LevelFilter filter;
    absl::Time set_at;
    absl::Time expires_at;
  };
  struct Permanent {
    LevelFilter filter;
    RuleSource source;
    absl::Time set_at;
  };
  // What one prefix has: an optional permanent rule and the overlays on it, oldest first.
  // Expiries strictly decrease towards the newest: an overlay that would expire no later
  // than a newer one covering it can never apply again, so SetRule drops it.
  struct Layers {
    std::optional<Permanent> permanent;
    std::vector<Overlay> overlays;
  };

  void SetConfigRulesLocked(const config::LevelsConfig& config, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable std::mutex mu_;
  Level default_level_ ABSL_GUARDED_BY(mu_) = Level::kInfo;
  RuleSource default_source_ ABSL_GUARDED_BY(mu_) = RuleSource::kConfig;
  absl::Time default_set_at_ ABSL_GUARDED_BY(mu_);
  size_t max_rules_ ABSL_GUARDED_BY(mu_) = 0;
  size_t max_prefix_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Layers, std::less<>> layers_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const LevelSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> version_{0};
};

}  // namespace sluice::levels

#endif  // SLUICE_SERVER_LEVELS_LEVEL_TABLE_H_
