#include "server/levels/level_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sluice::levels {
namespace {

bool PrefixMatches(absl::string_view prefix, absl::string_view logger) {
  if (!absl::StartsWith(logger, prefix)) return false;
  return logger.size() == prefix.size() || logger[prefix.size()] == '.';
}

}  // namespace

LevelSnapshot::LevelSnapshot(Level default_level, std::vector<LevelRule> rules)
    : default_level_(default_level), rules_(std::move(rules)) {
  std::sort(rules_.begin(), rules_.end(), [](const LevelRule& a, const LevelRule& b) {
    return a.logger_prefix < b.logger_prefix;
  });
  by_length_.resize(rules_.size());
  for (size_t i = 0; i < rules_.size(); ++i) by_length_[i] = i;
  std::stable_sort(by_length_.begin(), by_length_.end(), [this](size_t a, size_t b) {
    return rules_[a].logger_prefix.size() > rules_[b].logger_prefix.size();
  });
}

Level LevelSnapshot::ThresholdFor(absl::string_view logger) const {
  for (size_t i : by_length_) {
    if (PrefixMatches(rules_[i].logger_prefix, logger)) return rules_[i].level;
  }
  return default_level_;
}

LevelTable::LevelTable(const config::LevelsConfig& config) {
  std::vector<LevelRule> rules;
  for (const config::LevelRuleConfig& rule : config.rules) {
    rules.push_back(LevelRule{rule.logger_prefix, rule.level, absl::InfiniteFuture()});
  }
  std::lock_guard lock(mu_);
  PublishLocked(config.default_level, std::move(rules));
}

std::shared_ptr<const LevelSnapshot> LevelTable::Snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

void LevelTable::PublishLocked(Level default_level, std::vector<LevelRule> rules) {
  snapshot_ = std::make_shared<const LevelSnapshot>(default_level, std::move(rules));
  version_.fetch_add(1, std::memory_order_acq_rel);
}

void LevelTable::SetDefault(Level level) {
  std::lock_guard lock(mu_);
  PublishLocked(level, snapshot_->rules());
}

absl::Status LevelTable::SetRule(absl::string_view prefix, Level level, absl::Duration ttl,
                                 absl::Time now) {
  if (absl::Status valid = ValidateLoggerPrefix(prefix); !valid.ok()) return valid;
  if (ttl < absl::ZeroDuration()) return absl::InvalidArgumentError("ttl must not be negative");
  const absl::Time expires_at = ttl == absl::ZeroDuration() ? absl::InfiniteFuture() : now + ttl;
  std::lock_guard lock(mu_);
  std::vector<LevelRule> rules = snapshot_->rules();
  auto it = std::find_if(rules.begin(), rules.end(),
                         [prefix](const LevelRule& rule) { return rule.logger_prefix == prefix; });
  if (it != rules.end()) {
    it->level = level;
    it->expires_at = expires_at;
  } else {
    rules.push_back(LevelRule{std::string(prefix), level, expires_at});
  }
  PublishLocked(snapshot_->default_level(), std::move(rules));
  return absl::OkStatus();
}

absl::Status LevelTable::RemoveRule(absl::string_view prefix) {
  std::lock_guard lock(mu_);
  std::vector<LevelRule> rules = snapshot_->rules();
  auto it = std::find_if(rules.begin(), rules.end(),
                         [prefix](const LevelRule& rule) { return rule.logger_prefix == prefix; });
  if (it == rules.end()) {
    return absl::NotFoundError(absl::StrCat("no level rule for logger prefix \"", prefix, "\""));
  }
  rules.erase(it);
  PublishLocked(snapshot_->default_level(), std::move(rules));
  return absl::OkStatus();
}

absl::Time LevelTable::ExpireDue(absl::Time now) {
  std::lock_guard lock(mu_);
  std::vector<LevelRule> kept;
  absl::Time next = absl::InfiniteFuture();
  for (const LevelRule& rule : snapshot_->rules()) {
    if (rule.expires_at <= now) continue;
    next = std::min(next, rule.expires_at);
    kept.push_back(rule);
  }
  if (kept.size() != snapshot_->rules().size()) {
    PublishLocked(snapshot_->default_level(), std::move(kept));
  }
  return next;
}

}  // namespace sluice::levels
