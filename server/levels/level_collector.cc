#include "server/levels/level_collector.h"

#include <string>

namespace sluice::levels {
namespace {

prometheus::ClientMetric Threshold(const std::string& logger, Level level) {
  prometheus::ClientMetric metric;
  metric.label = {{"logger", logger}};
  metric.gauge.value = static_cast<double>(level);
  return metric;
}

}  // namespace

std::vector<prometheus::MetricFamily> LevelCollector::Collect() const {
  prometheus::MetricFamily family;
  family.name = "sluice_level_threshold";
  family.help =
      "Level threshold in force per logger prefix (1=TRACE ... 6=FATAL; \"\" = default; a "
      "rule that is a set of levels shows its lowest)";
  family.type = prometheus::MetricType::Gauge;
  const auto snapshot = table_.Snapshot();
  family.metric.push_back(Threshold("", snapshot->default_level()));
  for (const LevelRule& rule : snapshot->rules()) {
    family.metric.push_back(Threshold(rule.logger_prefix, rule.filter.lowest()));
  }
  return {std::move(family)};
}

}  // namespace sluice::levels
