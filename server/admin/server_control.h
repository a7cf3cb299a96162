// ServerControl: what the admin RPCs ask of the running server.
//
// Implemented by server/app (which owns intake, the scheduler and the outputs) and by
// fakes in tests. Drain, Shutdown and Reload take time, so they are asynchronous: they
// return at once and run `done` later on a thread of the implementation's own — never on
// the gRPC callback thread that asked, which must not block.
#ifndef SLUICE_SERVER_ADMIN_SERVER_CONTROL_H_
#define SLUICE_SERVER_ADMIN_SERVER_CONTROL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/ledger.h"

namespace sluice::admin {

struct DrainResult {
  LedgerCounts counts;
  // Every channel emptied and every output flushed before the deadline.
  bool completed = false;
};

struct WorkerStats {
  size_t queue_depth = 0;
  size_t queue_capacity = 0;
  size_t parked_records = 0;
  size_t processing_records = 0;
};

struct OutputStats {
  std::string id;
  size_t buffer_records = 0;
  size_t buffer_bytes = 0;
  size_t max_records = 0;
  size_t max_bytes = 0;
  absl::Duration oldest_record_age;
  bool up = true;
  bool healthy = true;
  absl::Duration failing_for;
  std::string last_error;
};

struct ServerStats {
  LedgerCounts counts;
  std::vector<WorkerStats> workers;
  bool draining = false;
  size_t parked_streams = 0;
  absl::Duration uptime;
  std::vector<OutputStats> outputs;
};

// What a config reload changed, and what it could not (ReloadResponse).
struct ReloadResult {
  // "levels", "hooks.post", "outputs: added file/audit", ...
  std::vector<std::string> applied;
  // Key paths that differ in the file but take a restart ("ingest.listen", ...).
  std::vector<std::string> not_applied;
};

class ServerControl {
 public:
  using DrainDone = absl::AnyInvocable<void(DrainResult) &&>;
  // INVALID_ARGUMENT (with the error) when the file was refused.
  using ReloadDone = absl::AnyInvocable<void(absl::StatusOr<ReloadResult>) &&>;

  virtual ~ServerControl() = default;

  // Stops intake, waits for the channels to empty and the outputs to flush (at most
  // `timeout`), then runs `done`. Intake stays closed until Resume().
  virtual void Drain(absl::Duration timeout, DrainDone done) = 0;
  virtual void Resume() = 0;
  // Drain, run `done`, then close the outputs and stop the process.
  virtual void Shutdown(absl::Duration timeout, DrainDone done) = 0;
  virtual ServerStats Stats() const = 0;
  // Reads the config file again and applies what can change while running; a file that
  // does not load or validate changes nothing.
  virtual void Reload(ReloadDone done) = 0;
  // The configured shutdown.drain_timeout, used when a request gives none.
  virtual absl::Duration default_drain_timeout() const = 0;
};

}  // namespace sluice::admin

#endif  // SLUICE_SERVER_ADMIN_SERVER_CONTROL_H_
