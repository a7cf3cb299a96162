// MetricsServer: serves every module's metrics at http://<metrics.listen>/metrics.
//
// Owns the prometheus::Registry that the modules' *Metrics classes add their families
// to at start-up, and the prometheus-cpp Exposer (civetweb) that answers scrapes on its
// own threads. Created by server/app before anything listens; a bind failure is an error,
// not an exception. Gauges that are cheaper to read at scrape time than to keep current
// (queue depths) come from Collectables registered with AddCollectable.
#ifndef SLUICE_SERVER_METRICS_METRICS_SERVER_H_
#define SLUICE_SERVER_METRICS_METRICS_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace sluice::metrics {

class MetricsServer {
 public:
  // Starts serving `registry` on `listen` ("host:port"; port 0 picks a free port).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& listen, std::shared_ptr<prometheus::Registry> registry);

  // The port actually bound (useful when started with port 0).
  int port() const { return port_; }

  // Adds a source of metrics computed at scrape time. Held weakly: it stops being
  // scraped once its owner destroys it.
  void AddCollectable(const std::shared_ptr<prometheus::Collectable>& collectable);

 private:
  MetricsServer(std::unique_ptr<prometheus::Exposer> exposer, int port)
      : exposer_(std::move(exposer)), port_(port) {}

  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_;
};

}  // namespace sluice::metrics

#endif  // SLUICE_SERVER_METRICS_METRICS_SERVER_H_
