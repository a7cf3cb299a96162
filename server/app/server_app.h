// ServerApp: one running Sluice server — the modules wired together, in start-up order.
//
//   outputs (created and started: a bad block or an unopenable file aborts start-up)
//   -> pipeline -> scheduler workers -> metrics endpoint -> ingest and admin gRPC servers
//
// Nothing listens before the configuration and every output were accepted. Start() binds
// every port (port 0 picks a free one; the real ports are readable afterwards) and
// returns; Wait() blocks the calling thread (main) until a shutdown completes.
//
// The ingest port serves sluice.v1.LogService and OTLP's
// opentelemetry.proto.collector.logs.v1.LogsService. Both gRPC servers also carry the
// standard grpc.health.v1.Health service and server reflection. On the ingest port, health
// "", "sluice.v1.LogService" and "opentelemetry.proto.collector.logs.v1.LogsService" are
// SERVING while intake is open and NOT_SERVING from a drain or shutdown until Resume (and,
// checked once a second, while every channel is full or the ingest listener is being
// rebuilt); on the admin port, "" and "sluice.v1.AdminService" are SERVING while the
// server runs.
//
// The ingest listener is rebuilt when gRPC reports that accept failed on it (grpc_log.h:
// gRPC 1.51 then stops accepting on it for good, e.g. after EMFILE): the ingest health is
// NOT_SERVING meanwhile, the old gRPC server is shut down (closing the dead socket, and
// cutting the ingest calls still open on it; clients resend what was not acknowledged),
// and a new one with new service objects listens on the same port, retried once a second
// until it can. sluice_ingest_listener_up and sluice_ingest_listener_restarts_total show
// it. gRPC's own log lines are rate-limited (grpc_log.h).
//
// SIGHUP reaches ReloadOnSignal() and AdminService.Reload reaches Reload(): the config file
// is read again on the lifecycle thread, after the steps posted before it (ReloadNow). The
// new file is loaded and validated whole first — every hook, output factory and route built
// and the new outputs started — and only then applied: the `levels` section (rules set by
// SetLevel stay), `hooks.pre` (for the ingest calls that start afterwards), `hooks.post`,
// the `pipeline` section and the outputs (Pipeline::Prepare and Swap: added ones start,
// removed and changed ones are drained before they close, unchanged ones keep running and
// are reopened, so logrotate's `kill -HUP` still follows a renamed file). Every other
// setting takes a restart; those that differ are named in not_applied. A file that does
// not load or validate changes nothing; SIGHUP then still reopens the outputs. Counted in
// sluice_config_reloads_total{result} and sluice_config_last_reload_success_timestamp_seconds.
//
// It is also the admin::ServerControl behind the admin RPCs: drain and shutdown run on
// the app's own lifecycle thread, never on a gRPC thread. Shutdown order: close intake,
// empty the channels, flush the outputs, answer the caller, stop the gRPC servers, stop
// the workers (processing anything that raced in), shut the outputs down.
#ifndef SLUICE_SERVER_APP_SERVER_APP_H_
#define SLUICE_SERVER_APP_SERVER_APP_H_

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "server/admin/admin_service.h"
#include "server/admin/server_control.h"
#include "server/auth/auth_failures.h"
#include "server/auth/ingest_authenticator.h"
#include "server/auth/token_authenticator.h"
#include "server/common/ledger.h"
#include "server/config/config.h"
#include "server/ingest/ingest_context.h"
#include "server/ingest/ingest_metrics.h"
#include "server/ingest/log_service.h"
#include "server/ingest/otlp_logs_service.h"
#include "server/levels/level_collector.h"
#include "server/levels/level_table.h"
#include "server/metrics/metrics_server.h"
#include "server/outputs/encoding_registry.h"
#include "server/pipeline/hooks/hook_chain.h"
#include "server/pipeline/output_collector.h"
#include "server/pipeline/output_metrics.h"
#include "server/pipeline/pipeline.h"
#include "server/pipeline/tap_hub.h"
#include "server/scheduler/scheduler.h"
#include "server/scheduler/scheduler_collector.h"
#include "server/scheduler/scheduler_metrics.h"

namespace sluice::app {

class ServerApp final : public admin::ServerControl {
 public:
  // Reads the config file again, with the same command-line overrides (main's LoadConfig).
  using ConfigLoader = std::function<absl::StatusOr<config::Config>()>;

  // Builds and starts everything. Errors name what failed (config key path, output id,
  // listen address). Without `loader` a reload is refused (FAILED_PRECONDITION).
  static absl::StatusOr<std::unique_ptr<ServerApp>> Start(config::Config config,
                                                          ConfigLoader loader = nullptr);

  // Stop()s if that has not happened.
  ~ServerApp() override;

  // Stops everything: the gRPC servers, the outputs' senders (what they still buffer is
  // written until the shutdown's deadline, then given up on), the outputs, the workers.
  // OK only when nothing was lost on the way: the drain completed and every output wrote
  // and closed what it had; otherwise the error says which output could not write how
  // much. main exits non-zero on it. Safe twice; the first answer is kept.
  absl::Status Stop();

  int ingest_port() const { return ingest_port_; }
  int admin_port() const { return admin_port_; }
  int metrics_port() const { return metrics_->port(); }

  // Blocks until a shutdown (admin RPC, signal, RequestShutdown) has completed.
  void Wait();

  // Starts a shutdown with the configured drain timeout; safe from any thread.
  void RequestShutdown();

  // SIGHUP: a reload whose outcome is logged; refused, the outputs are still reopened.
  // Safe from any thread; returns at once.
  void ReloadOnSignal();

  // admin::ServerControl
  void Reload(ReloadDone done) override;
  void Drain(absl::Duration timeout, DrainDone done) override;
  void Resume() override;
  void Shutdown(absl::Duration timeout, DrainDone done) override;
  admin::ServerStats Stats() const override;
  absl::Duration default_drain_timeout() const override { return config_.shutdown.drain_timeout; }

 private:
  ServerApp(config::Config config, ConfigLoader loader);

  absl::Status StartAll();
  // The credentials of both ports and their authenticators, from the ingest and admin
  // config (server/auth); an error names the key.
  absl::Status BuildAuth();
  // Builds the ingest services and gRPC server on `listen`; on success they replace
  // log_service_, otlp_logs_service_ and `*server`, and `*port` holds the port.
  absl::Status StartIngestServer(const std::string& listen, std::unique_ptr<grpc::Server>* server,
                                 int* port);
  // Replaces a dead ingest listener (see the class comment); on the housekeeping thread.
  void RestartIngestListener();
  // Runs `task` on the lifecycle thread, after the tasks posted before it.
  void Post(absl::AnyInvocable<void() &&> task);
  void LifecycleLoop();
  // Once a second: expires level rules, reports the ingest port NOT_SERVING while every
  // channel is full, and each output's health on the admin port, re-reads changed token
  // files and writes the held-back summaries of gRPC's and the refused calls' log lines.
  void HousekeepingLoop();
  bool EveryChannelFull() const;
  // "sluice.output.<id>" on the admin port's health service: NOT_SERVING while the output
  // has failed for longer than its unhealthy_after.
  void ReportOutputHealth();
  // The ingest port's health statuses; called with mu_ held (or before the lifecycle
  // thread starts) so they follow intake in the order of the requests. Only recorded
  // while there is no ingest server (between a dead one and its replacement).
  void SetIngestServing(bool serving) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Closes intake and marks the server draining.
  void CloseIntake();
  // Waits (at most `timeout`) for the channels to empty, then flushes the outputs.
  admin::DrainResult DrainNow(absl::Duration timeout);
  // The reload itself, on the lifecycle thread; counted and logged.
  absl::StatusOr<admin::ReloadResult> ReloadNow();
  absl::StatusOr<admin::ReloadResult> LoadAndApply();

  // The config the server started with: what the settings a reload does not apply keep.
  const config::Config config_;
  const ConfigLoader loader_;
  // The sections a reload applies as they run now; lifecycle thread only (after start).
  config::Config running_;
  const absl::Time started_at_;
  std::shared_ptr<prometheus::Registry> registry_;
  Ledger ledger_;
  levels::LevelTable levels_;
  ingest::Intake intake_;
  // Before the pipeline and the admin server: both reach it until they are gone.
  std::unique_ptr<pipeline::TapHub> taps_;
  std::unique_ptr<pipeline::OutputMetrics> output_metrics_;
  // The encodings of the running outputs; a reload replaces it by a Fork.
  std::unique_ptr<outputs::EncodingRegistry> encodings_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<scheduler::SchedulerMetrics> scheduler_metrics_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::unique_ptr<ingest::IngestMetrics> ingest_metrics_;
  // `hooks.pre`, run by every ingest call; null when none are configured.
  std::unique_ptr<pipeline::hooks::HookChain> pre_hooks_;
  // Who may call the ports (server/auth); the authenticators are null where no token is
  // needed. Built before, and destroyed after, the services that use them.
  std::unique_ptr<auth::AuthFailures> auth_failures_;
  std::unique_ptr<auth::IngestAuthenticator> ingest_auth_;
  std::unique_ptr<auth::TokenAuthenticator> admin_auth_;
  std::shared_ptr<grpc::ServerCredentials> ingest_credentials_;
  std::shared_ptr<grpc::ServerCredentials> admin_credentials_;
  // Pre-hook chains a reload replaced: ingest calls that started before it still run them.
  std::vector<std::unique_ptr<pipeline::hooks::HookChain>> retired_pre_hooks_;
  std::unique_ptr<ingest::IngestContext> ingest_context_;
  std::unique_ptr<ingest::LogService> log_service_;
  std::unique_ptr<ingest::OtlpLogsService> otlp_logs_service_;
  std::unique_ptr<admin::AdminService> admin_service_;
  std::unique_ptr<metrics::MetricsServer> metrics_;
  std::shared_ptr<scheduler::SchedulerCollector> scheduler_collector_;
  std::shared_ptr<pipeline::OutputCollector> output_collector_;
  std::shared_ptr<levels::LevelCollector> level_collector_;
  prometheus::Gauge* draining_gauge_ = nullptr;
  prometheus::Gauge* ingest_listener_up_ = nullptr;
  prometheus::Counter* ingest_listener_restarts_ = nullptr;
  prometheus::Counter* reloads_ok_ = nullptr;
  prometheus::Counter* reloads_failed_ = nullptr;
  prometheus::Gauge* last_reload_success_ = nullptr;
  // Set from a gRPC thread when gRPC logs that accept failed; taken by housekeeping.
  std::atomic<bool> accept_failed_{false};
  // Replaced by RestartIngestListener (housekeeping thread) under mu_; read under mu_ by
  // SetIngestServing, and by the destructor once housekeeping has stopped.
  std::unique_ptr<grpc::Server> ingest_server_;
  std::unique_ptr<grpc::Server> admin_server_;
  int ingest_port_ = 0;
  int admin_port_ = 0;

  mutable absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  // What the ingest port's health says now.
  bool ingest_serving_ ABSL_GUARDED_BY(mu_) = false;
  // From a reported accept failure until a new ingest server listens.
  bool ingest_listener_dead_ ABSL_GUARDED_BY(mu_) = false;
  bool shutdown_started_ ABSL_GUARDED_BY(mu_) = false;
  bool shutdown_drained_ ABSL_GUARDED_BY(mu_) = false;
  // Set by a shutdown: by when everything must be written, and whether the drain made it.
  absl::Time shutdown_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool shutdown_drain_completed_ ABSL_GUARDED_BY(mu_) = true;
  std::optional<absl::Status> stopped_;
  // Which outputs (by id) the admin health service reports unhealthy (start-up, then the
  // housekeeping thread only).
  std::map<std::string, bool> output_unhealthy_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread lifecycle_thread_;
  std::thread housekeeping_thread_;
};

}  // namespace sluice::app

#endif  // SLUICE_SERVER_APP_SERVER_APP_H_
