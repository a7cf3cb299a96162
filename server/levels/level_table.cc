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
  std::lock_guard lock(mu_);
  default_level_ = config.default_level;
  for (const config::LevelRuleConfig& rule : config.rules) {
    Layers& layers = layers_[rule.logger_prefix];
    layers.permanent = rule.level;
    layers.permanent_from_config = true;
  }
  PublishLocked();
}

std::shared_ptr<const LevelSnapshot> LevelTable::Snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

void LevelTable::PublishLocked() {
  std::vector<LevelRule> rules;
  rules.reserve(layers_.size());
  for (const auto& [prefix, layers] : layers_) {
    if (!layers.overlays.empty()) {
      const Overlay& top = layers.overlays.back();
      rules.push_back(LevelRule{prefix, top.level, top.expires_at});
    } else if (layers.permanent.has_value()) {
      rules.push_back(LevelRule{prefix, *layers.permanent, absl::InfiniteFuture()});
    }
  }
  snapshot_ = std::make_shared<const LevelSnapshot>(default_level_, std::move(rules));
  version_.fetch_add(1, std::memory_order_acq_rel);
}

void LevelTable::SetDefault(Level level) {
  std::lock_guard lock(mu_);
  default_level_ = level;
  default_from_config_ = false;
  PublishLocked();
}

absl::Status LevelTable::SetRule(absl::string_view prefix, Level level, absl::Duration ttl,
                                 absl::Time now) {
  if (absl::Status valid = ValidateLoggerPrefix(prefix); !valid.ok()) return valid;
  if (ttl < absl::ZeroDuration()) return absl::InvalidArgumentError("ttl must not be negative");
  std::lock_guard lock(mu_);
  Layers& layers = layers_[std::string(prefix)];
  if (ttl == absl::ZeroDuration()) {
    layers.permanent = level;
    layers.permanent_from_config = false;
    layers.overlays.clear();
  } else {
    const absl::Time expires_at = now + ttl;
    while (!layers.overlays.empty() && layers.overlays.back().expires_at <= expires_at) {
      layers.overlays.pop_back();
    }
    layers.overlays.push_back(Overlay{level, expires_at});
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

void LevelTable::ReplaceConfigRules(const config::LevelsConfig& config) {
  std::lock_guard lock(mu_);
  if (default_from_config_) default_level_ = config.default_level;
  for (auto& [prefix, layers] : layers_) {
    if (layers.permanent_from_config) layers.permanent.reset();
    layers.permanent_from_config = false;
  }
  for (const config::LevelRuleConfig& rule : config.rules) {
    Layers& layers = layers_[rule.logger_prefix];
    if (layers.permanent.has_value()) continue;  // a SetRule's
    layers.permanent = rule.level;
    layers.permanent_from_config = true;
  }
  std::erase_if(layers_, [](const auto& entry) {
    return !entry.second.permanent.has_value() && entry.second.overlays.empty();
  });
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
