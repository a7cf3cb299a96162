// gRPC's own log lines in sluiced: rate-limited per call site, prefixed "sluiced: grpc:",
// and watched for the one line that means a listener stopped for good. protobuf's log
// lines (one per invalid UTF-8 string it meets) are limited the same way, prefixed
// "sluiced: protobuf:".
//
// Who calls it: ServerApp installs the log function when it starts (InstallGrpcLog) and
// flushes the summaries from its housekeeping thread once a second; gRPC calls the log
// function on its own threads.
//
// Why limit: gRPC logs one line per malformed call, failed handshake or refused accept,
// so a misbehaving or hostile peer can fill the disk behind stderr (500 malformed calls
// wrote 108 KB). Each call site (file:line in gRPC) prints at most `max_lines` lines per
// `window`; the rest are counted, and once the window is over one line says how many
// were suppressed. Sites are a fixed set of places in the library, so the table is small.
//
// Why watch: gRPC 1.51's TCP server stops polling a listener after an accept4() error
// other than EAGAIN/ECONNABORTED (EMFILE when the descriptors run out) and logs
// "Failed accept4: ...". The port then accepts connections into its backlog and never
// serves them. The accept-failure callback lets the server notice and rebuild it; it is
// called for every such line, suppressed or not.
#ifndef SLUICE_SERVER_APP_GRPC_LOG_H_
#define SLUICE_SERVER_APP_GRPC_LOG_H_

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sluice::app {

// Decides which log lines are printed. Thread-safe. The clock is injected for tests.
class GrpcLogLimiter {
 public:
  struct Options {
    size_t max_lines = 10;
    absl::Duration window = absl::Seconds(10);
  };

  explicit GrpcLogLimiter(Options options, std::function<absl::Time()> clock = &absl::Now)
      : options_(options), clock_(std::move(clock)) {}

  // One line `text` from call site `site`. Returns what to print, in order: the summary
  // of the site's previous window if it suppressed lines, then `text` unless the site
  // already printed max_lines in its current window.
  std::vector<std::string> Admit(absl::string_view site, absl::string_view text);

  // The summaries of sites whose window is over with lines suppressed, so that a site
  // that went quiet still says what it held back. Those sites start afresh.
  std::vector<std::string> TakeExpiredSummaries();

 private:
  struct Site {
    absl::Time window_start;
    size_t printed = 0;
    size_t suppressed = 0;
  };

  std::string Summary(absl::string_view site, size_t suppressed) const;

  const Options options_;
  const std::function<absl::Time()> clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Site> sites_ ABSL_GUARDED_BY(mu_);
};

// Routes gRPC's log lines (gpr_set_log_function), and protobuf's (SetLogHandler), through
// a process-wide GrpcLogLimiter
// with the default options, to stderr. Idempotent. GRPC_VERBOSITY still chooses what is
// printed, but gRPC is told to pass its ERROR lines at least, so that a failed accept is
// noticed even with GRPC_VERBOSITY=NONE.
void InstallGrpcLog();

// Prints the summaries of quiet sites (GrpcLogLimiter::TakeExpiredSummaries).
void FlushGrpcLogSummaries();

// `callback` runs on the gRPC thread that logged "Failed accept4"; it must be quick and
// must not call into gRPC. One callback at a time; an empty one removes it, and once this
// returns the previous one is not running and will not run.
void SetGrpcAcceptFailureCallback(std::function<void()> callback);

}  // namespace sluice::app

#endif  // SLUICE_SERVER_APP_GRPC_LOG_H_
