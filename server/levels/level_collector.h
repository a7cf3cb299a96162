// LevelCollector: `sluice_level_threshold{logger}` — the thresholds in force, read from the
// LevelTable when Prometheus scrapes. The value is the level number (TRACE=1 ... FATAL=6);
// logger="" is the default threshold. Registered by server/app with
// MetricsServer::AddCollectable; must not outlive the table.
#ifndef SLUICE_SERVER_LEVELS_LEVEL_COLLECTOR_H_
#define SLUICE_SERVER_LEVELS_LEVEL_COLLECTOR_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "server/levels/level_table.h"

namespace sluice::levels {

class LevelCollector : public prometheus::Collectable {
 public:
  explicit LevelCollector(const LevelTable& table) : table_(table) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const LevelTable& table_;
};

}  // namespace sluice::levels

#endif  // SLUICE_SERVER_LEVELS_LEVEL_COLLECTOR_H_
