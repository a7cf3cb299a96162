// sluiced: the Sluice server. Loads the config (--config, overridden by the listen flags),
// starts every module, and runs until Shutdown: the admin RPC, SIGTERM or SIGINT (drain
// with shutdown.drain_timeout, then exit 0). A second signal exits at once.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "server/app/server_app.h"
#include "server/config/config.h"

ABSL_FLAG(std::string, config, "", "YAML config file; without it the built-in defaults apply");
ABSL_FLAG(std::string, ingest_listen, "", "host:port for ingest (overrides ingest.listen)");
ABSL_FLAG(std::string, admin_listen, "", "host:port for admin (overrides admin.listen)");
ABSL_FLAG(std::string, metrics_listen, "", "host:port for /metrics (overrides metrics.listen)");

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

// Waits for SIGTERM/SIGINT on a thread of its own: the first starts a shutdown, the second
// ends the process at once.
void WatchSignals(sluice::app::ServerApp& app, sigset_t signals) {
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::fprintf(stderr, "sluiced: %s: draining, then exiting (signal again to exit now)\n",
               strsignal(signal_number));
  app.RequestShutdown();
  sigwait(&signals, &signal_number);
  std::fprintf(stderr, "sluiced: %s again: exiting without draining\n", strsignal(signal_number));
  std::_Exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the Sluice log-ingestion server.\n"
      "  sluiced --config deploy/sluiced.yaml [--ingest_listen host:port] ...");
  absl::FlagsUsageConfig usage_config;
  usage_config.version_string = [] { return std::string("sluiced ") + kVersion + "\n"; };
  absl::SetFlagsUsageConfig(usage_config);
  absl::ParseCommandLine(argc, argv);

  // A console output writing to a closed pipe must get EPIPE, not kill the server.
  signal(SIGPIPE, SIG_IGN);
  // Blocked before any thread starts, so every thread inherits the mask and only the
  // watcher receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<sluice::config::Config> config = LoadConfig();
  if (!config.ok()) {
    std::fprintf(stderr, "sluiced: config: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<sluice::app::ServerApp>> app =
      sluice::app::ServerApp::Start(*std::move(config));
  if (!app.ok()) {
    std::fprintf(stderr, "sluiced: %s\n", std::string(app.status().message()).c_str());
    return 1;
  }
  std::thread([&app = **app, signals] { WatchSignals(app, signals); }).detach();
  (*app)->Wait();
  app->reset();
  std::fprintf(stderr, "sluiced: stopped\n");
  return 0;
}
