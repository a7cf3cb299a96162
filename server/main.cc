// sluiced: the Sluice server. Loads the config (--config, overridden by the listen flags),
// starts every module, and runs until Shutdown: the admin RPC, SIGTERM, SIGINT or SIGQUIT
// (drain with shutdown.drain_timeout, then exit: 0 when nothing was lost, 1 when a record
// could not be written by the deadline). A second such signal exits at once.
//
// No signal that can be caught ends the process without a drain, since records already
// acknowledged may still be buffered:
//   SIGTERM, SIGINT, SIGQUIT, SIGXCPU  drain, then exit (SIGXCPU: the kernel's warning
//                                      before it kills at the hard CPU limit)
//   SIGHUP                             reload the config file (--config, with the same
//                                      flag overrides; ServerApp::ReloadOnSignal), which
//                                      also reopens the file outputs (logrotate's
//                                      postrotate; a closed terminal), and go on
//   SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSTKFLT
//                                      ignored with a log line: stray signals that would
//                                      otherwise kill it (SIGPROF too, so a profiler
//                                      that samples with it does not work here: use perf)
//   SIGPIPE, SIGXFSZ                   ignored: the write that caused them fails instead
//                                      (EPIPE, EFBIG), and the output reports it
// The faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS) keep their
// default: continuing after one is not safe.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "server/app/open_file_limit.h"
#include "server/app/server_app.h"
#include "server/config/config.h"

ABSL_FLAG(std::string, config, "", "YAML config file; without it the built-in defaults apply");
ABSL_FLAG(std::string, ingest_listen, "", "host:port for ingest (overrides ingest.listen)");
ABSL_FLAG(std::string, admin_listen, "", "host:port for admin (overrides admin.listen)");
ABSL_FLAG(std::string, metrics_listen, "", "host:port for /metrics (overrides metrics.listen)");

// jemalloc, sluiced's default allocator (SLUICE_ALLOCATOR), returns freed pages to the
// system only when a thread allocates again; with its background thread it purges them
// by itself, so resident memory falls back after a burst even while the server is idle
// (docs/BENCHMARKS.md: 207 -> 47 MiB after varied traffic). Unused with glibc malloc.
extern "C" {
const char* malloc_conf = "background_thread:true";
}

namespace {

constexpr char kVersion[] = "0.1.0";

std::optional<std::string> FlagOverride(const absl::Flag<std::string>& flag) {
  std::string value = absl::GetFlag(flag);
  if (value.empty()) return std::nullopt;
  return value;
}

absl::StatusOr<sluice::config::Config> LoadConfig() {
  sluice::config::Config config;
  const std::string path = absl::GetFlag(FLAGS_config);
  if (!path.empty()) {
    absl::StatusOr<sluice::config::Config> loaded = sluice::config::LoadConfigFile(path);
    if (!loaded.ok()) return loaded.status();
    config = std::move(*loaded);
  }
  sluice::config::Overrides overrides;
  overrides.ingest_listen = FlagOverride(FLAGS_ingest_listen);
  overrides.admin_listen = FlagOverride(FLAGS_admin_listen);
  overrides.metrics_listen = FlagOverride(FLAGS_metrics_listen);
  if (absl::Status applied = sluice::config::ApplyOverrides(overrides, config); !applied.ok()) {
    return applied;
  }
  return config;
}

constexpr int kDrainSignals[] = {SIGTERM, SIGINT, SIGQUIT, SIGXCPU};
constexpr int kReloadSignals[] = {SIGHUP};
constexpr int kIgnoredSignals[] = {SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM,
                                   SIGPROF, SIGIO,   SIGPWR,  SIGSTKFLT};

bool IsOneOf(int signal_number, absl::Span<const int> signals) {
  return std::find(signals.begin(), signals.end(), signal_number) != signals.end();
}

// Every signal the watcher thread takes with sigwait.
sigset_t WatchedSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (absl::Span<const int> group :
       {absl::Span<const int>(kDrainSignals), absl::Span<const int>(kReloadSignals),
        absl::Span<const int>(kIgnoredSignals)}) {
    for (int signal_number : group) sigaddset(&signals, signal_number);
  }
  return signals;
}

// The app the watcher thread signals; cleared (under the lock) before the app is
// destroyed, since the detached watcher may take a signal at any time.
absl::Mutex app_mu;
sluice::app::ServerApp* watched_app ABSL_GUARDED_BY(app_mu) = nullptr;

// Takes the watched signals on a thread of its own, so that nothing runs in a signal
// handler: the app's methods only post work to its lifecycle thread. The first drain
// signal starts a shutdown, the second ends the process at once.
[[noreturn]] void WatchSignals(sigset_t signals) {
  bool shutting_down = false;
  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    const char* name = strsignal(signal_number);
    if (IsOneOf(signal_number, kDrainSignals) && shutting_down) {
      std::fprintf(stderr, "sluiced: %s again: exiting without draining\n", name);
      std::_Exit(1);
    }
    absl::MutexLock lock(&app_mu);
    if (watched_app == nullptr) continue;  // the drain is done; the app is being closed
    sluice::app::ServerApp& app = *watched_app;
    if (IsOneOf(signal_number, kReloadSignals)) {
      std::fprintf(stderr, "sluiced: %s: reloading the config\n", name);
      app.ReloadOnSignal();
    } else if (IsOneOf(signal_number, kDrainSignals)) {
      shutting_down = true;
      std::fprintf(stderr, "sluiced: %s: draining, then exiting (signal again to exit now)\n",
                   name);
      app.RequestShutdown();
    } else {
      std::fprintf(stderr, "sluiced: %s: ignored\n", name);
    }
    std::fflush(stderr);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the Sluice log-ingestion server.\n"
      "  sluiced --config deploy/sluiced.yaml [--ingest_listen host:port] ...");
  absl::FlagsUsageConfig usage_config;
  usage_config.version_string = [] { return std::string("sluiced ") + kVersion + "\n"; };
  // --help lists the flags above (Abseil's default looks for them in sluiced.cc), as the
  // man page generated from it does; the path is the same from any build directory.
  usage_config.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "server/main.cc");
  };
  usage_config.normalize_filename = [](absl::string_view file) {
    while (absl::ConsumePrefix(&file, "../") || absl::ConsumePrefix(&file, "./")) {
    }
    return std::string(file);
  };
  absl::SetFlagsUsageConfig(usage_config);
  absl::ParseCommandLine(argc, argv);

  // A console output writing to a closed pipe must get EPIPE, and a file output past
  // RLIMIT_FSIZE EFBIG, not kill the server.
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);
  // An ignored signal is discarded, not queued for sigwait. nohup and some service
  // managers start us with SIGHUP ignored; rotation must work there too. (SIGINT and
  // SIGQUIT ignored by a shell for a background job stay ignored, as is the custom.)
  signal(SIGHUP, SIG_DFL);
  // Blocked before any thread starts, so every thread inherits the mask and only the
  // watcher receives them.
  const sigset_t signals = WatchedSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // gRPC needs a descriptor per connection; the soft limit (often 1,024) is far below
  // what a busy ingest port holds, and the hard limit is what the operator granted.
  if (absl::StatusOr<uint64_t> limit = sluice::app::RaiseOpenFileLimit(); limit.ok()) {
    std::fprintf(stderr, "sluiced: open file limit %lu\n", static_cast<unsigned long>(*limit));
  } else {
    std::fprintf(stderr, "sluiced: open file limit: %s\n",
                 std::string(limit.status().message()).c_str());
  }

  absl::StatusOr<sluice::config::Config> config = LoadConfig();
  if (!config.ok()) {
    std::fprintf(stderr, "sluiced: config: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<sluice::app::ServerApp>> app =
      sluice::app::ServerApp::Start(*std::move(config), LoadConfig);
  if (!app.ok()) {
    std::fprintf(stderr, "sluiced: %s\n", std::string(app.status().message()).c_str());
    return 1;
  }
  {
    absl::MutexLock lock(&app_mu);
    watched_app = app->get();
  }
  std::thread([signals] { WatchSignals(signals); }).detach();
  (*app)->Wait();
  {
    absl::MutexLock lock(&app_mu);
    watched_app = nullptr;
  }
  const absl::Status stopped = (*app)->Stop();
  app->reset();
  if (!stopped.ok()) {
    std::fprintf(stderr, "sluiced: stopped, with records lost: %s\n",
                 std::string(stopped.message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "sluiced: stopped\n");
  return 0;
}
