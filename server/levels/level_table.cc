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

uint8_t Bit(Level level) { return static_cast<uint8_t>(1u << static_cast<unsigned>(level)); }

}  // namespace

LevelFilter LevelFilter::AtLeast(Level threshold) {
  uint8_t mask = 0;
  for (Level level : kAllLevels) {
    if (level >= threshold) mask |= Bit(level);
  }
  return LevelFilter(mask, /*is_set=*/false);
}

absl::StatusOr<LevelFilter> LevelFilter::Only(absl::Span<const Level> levels) {
  if (levels.empty()) return absl::InvalidArgumentError("a set of levels must not be empty");
  uint8_t mask = 0;
  for (Level level : levels) mask |= Bit(level);
  return LevelFilter(mask, /*is_set=*/true);
}

std::optional<Level> LevelFilter::threshold() const {
  if (is_set_) return std::nullopt;
  return lowest();
}

std::vector<Level> LevelFilter::levels() const {
  std::vector<Level> admitted;
  for (Level level : kAllLevels) {
    if (Admits(level)) admitted.push_back(level);
  }
  return admitted;
}

Level LevelFilter::lowest() const {
  for (Level level : kAllLevels) {
    if (Admits(level)) return level;
  }
  return Level::kFatal;
}

absl::string_view RuleSourceName(RuleSource source) {
  return source == RuleSource::kConfig ? "config" : "admin";
}

LevelSnapshot::LevelSnapshot(Level default_level, RuleSource default_source,
                             absl::Time default_set_at, std::vector<LevelRule> rules)
    : default_level_(default_level),
      default_source_(default_source),
      default_set_at_(default_set_at),
      rules_(std::move(rules)) {
  std::sort(rules_.begin(), rules_.end(), [](const LevelRule& a, const LevelRule& b) {
    return a.logger_prefix < b.logger_prefix;
  });
  by_length_.resize(rules_.size());
  for (size_t i = 0; i < rules_.size(); ++i) by_length_[i] = i;
  std::stable_sort(by_length_.begin(), by_length_.end(), [this](size_t a, size_t b) {
    return rules_[a].logger_prefix.size() > rules_[b].logger_prefix.size();
  });
}

LevelFilter LevelSnapshot::FilterFor(absl::string_view logger) const {
  for (size_t i : by_length_) {
    if (PrefixMatches(rules_[i].logger_prefix, logger)) return rules_[i].filter;
  }
  return LevelFilter::AtLeast(default_level_);
}

LevelTable::LevelTable(const config::LevelsConfig& config, absl::Time now) {
  std::lock_guard lock(mu_);
  SetConfigRulesLocked(config, now);
  PublishLocked();
}

std::shared_ptr<const LevelSnapshot> LevelTable::Snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

void LevelTable::SetConfigRulesLocked(const config::LevelsConfig& config, absl::Time now) {
  max_rules_ = config.max_rules;
  max_prefix_bytes_ = config.max_prefix_bytes;
  if (default_source_ == RuleSource::kConfig) {
    default_level_ = config.default_level;
    default_set_at_ = now;
  }
  for (auto it = layers_.begin(); it != layers_.end();) {
    Layers& layers = it->second;
    if (layers.permanent.has_value() && layers.permanent->source == RuleSource::kConfig) {
      layers.permanent.reset();
    }
    if (!layers.permanent.has_value() && layers.overlays.empty()) {
      it = layers_.erase(it);
    } else {
      ++it;
    }
  }
  for (const config::LevelRuleConfig& rule : config.rules) {
    // The config parser validated the set: it is not empty.
    const LevelFilter filter = rule.enabled_levels.empty()
                                   ? LevelFilter::AtLeast(rule.level)
                                   : *LevelFilter::Only(rule.enabled_levels);
    Layers& layers = layers_[rule.logger_prefix];
    if (layers.permanent.has_value()) continue;  // an admin rule
    layers.permanent = Permanent{filter, RuleSource::kConfig, now};
  }
}

void LevelTable::PublishLocked() {
  std::vector<LevelRule> rules;
  rules.reserve(layers_.size());
  for (const auto& [prefix, layers] : layers_) {
    if (!layers.overlays.empty()) {
      const Overlay& top = layers.overlays.back();
      rules.push_back(
          LevelRule{prefix, top.filter, RuleSource::kAdmin, top.set_at, top.expires_at});
    } else if (layers.permanent.has_value()) {
      rules.push_back(LevelRule{prefix, layers.permanent->filter, layers.permanent->source,
                                layers.permanent->set_at, absl::InfiniteFuture()});
    }
  }
  snapshot_ = std::make_shared<const LevelSnapshot>(default_level_, default_source_,
                                                    default_set_at_, std::move(rules));
  version_.fetch_add(1, std::memory_order_acq_rel);
}

void LevelTable::SetDefault(Level level, absl::Time now) {
  std::lock_guard lock(mu_);
  default_level_ = level;
  default_source_ = RuleSource::kAdmin;
  default_set_at_ = now;
  PublishLocked();
}

absl::Status LevelTable::SetRule(absl::string_view prefix, LevelFilter filter, absl::Duration ttl,
                                 absl::Time now) {
  if (absl::Status valid = ValidateLoggerPrefix(prefix); !valid.ok()) return valid;
  if (ttl < absl::ZeroDuration()) return absl::InvalidArgumentError("ttl must not be negative");
  std::lock_guard lock(mu_);
  if (prefix.size() > max_prefix_bytes_) {
    return absl::InvalidArgumentError(
        absl::StrCat("a logger prefix of ", prefix.size(),
                     " bytes is longer than levels.max_prefix_bytes (", max_prefix_bytes_, ")"));
  }
  auto it = layers_.find(prefix);
  if (it == layers_.end()) {
    if (layers_.size() >= max_rules_) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the level table holds levels.max_rules (", max_rules_,
                       ") rules already; remove one (sluice level clear) first"));
    }
    it = layers_.emplace(std::string(prefix), Layers{}).first;
  }
  Layers& layers = it->second;
  if (ttl == absl::ZeroDuration()) {
    layers.permanent = Permanent{filter, RuleSource::kAdmin, now};
    layers.overlays.clear();
  } else {
    const absl::Time expires_at = now + ttl;
    while (!layers.overlays.empty() && layers.overlays.back().expires_at <= expires_at) {
      layers.overlays.pop_back();
    }
    layers.overlays.push_back(Overlay{filter, now, expires_at});
  }
  PublishLocked();
  return absl::OkStatus();
}

absl::Status LevelTable::RemoveRule(absl::string_view prefix) {
  std::lock_guard lock(mu_);
  auto it = layers_.find(prefix);
  if (it == layers_.end()) {
    return absl::NotFoundError(absl::StrCat("no level rule for logger prefix \"", prefix, "\""));
  }
  layers_.erase(it);
  PublishLocked();
  return absl::OkStatus();
}

void LevelTable::ReplaceConfigRules(const config::LevelsConfig& config, absl::Time now) {
  std::lock_guard lock(mu_);
  SetConfigRulesLocked(config, now);
  PublishLocked();
}

absl::Time LevelTable::ExpireDue(absl::Time now) {
  std::lock_guard lock(mu_);
  bool changed = false;
  absl::Time next = absl::InfiniteFuture();
  for (auto it = layers_.begin(); it != layers_.end();) {
    std::vector<Overlay>& overlays = it->second.overlays;
    while (!overlays.empty() && overlays.back().expires_at <= now) {
      overlays.pop_back();
      changed = true;
    }
    if (!overlays.empty()) next = std::min(next, overlays.back().expires_at);
    if (overlays.empty() && !it->second.permanent.has_value()) {
      it = layers_.erase(it);
    } else {
      ++it;
    }
  }
  if (changed) PublishLocked();
  return next;
}

}  // namespace sluice::levels
