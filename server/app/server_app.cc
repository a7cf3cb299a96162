#include "server/app/server_app.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpc/grpc.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "server/app/grpc_log.h"
#include "server/app/service_notifier.h"
#include "server/auth/tls_credentials.h"
#include "server/outputs/builtin_outputs.h"
#include "server/outputs/encoding_registry.h"
#include "server/outputs/output_registry.h"
#include "server/pipeline/hooks/builtin_hooks.h"
#include "server/pipeline/hooks/hook_registry.h"
#include "server/pipeline/hooks/record_match.h"
#include "sluice/v1/admin.grpc.pb.h"
#include "sluice/v1/logs.grpc.pb.h"
#include "yaml-cpp/yaml.h"

namespace sluice::app {
namespace {

// After a drain the ingest calls still open are idle streams that were told to stop;
// they are cut at once. The admin server gets a moment so the Shutdown RPC's own reply
// reaches its client.
constexpr absl::Duration kIngestStopGrace = absl::ZeroDuration();
// The admin port's health service names each output's health after this.
constexpr absl::string_view kOutputHealthPrefix = "sluice.output.";
constexpr absl::Duration kAdminStopGrace = absl::Milliseconds(500);
// A dead ingest listener's server is replaced after this long: the calls still open on
// its connections get a moment to finish what they were doing; the rest is resent.
constexpr absl::Duration kIngestRestartGrace = absl::Seconds(1);

// A connection must finish its handshake in this long (gRPC's default is 120 s), so one
// that connects and sends nothing holds its descriptor briefly.
constexpr absl::Duration kHandshakeTimeout = absl::Seconds(10);
// The server pings a connection after this long without traffic, and closes it when the
// ping is not answered within kKeepaliveTimeout: peers that vanished, or that only sent
// the HTTP/2 preface, stop holding a descriptor. Pings are sent without open calls too.
constexpr absl::Duration kKeepaliveTime = absl::Minutes(1);
constexpr absl::Duration kKeepaliveTimeout = absl::Seconds(20);
// Client keepalive pings at least this far apart are welcome, with or without open calls
// (gRPC's default, 5 minutes without calls, makes the server close the connection of a
// client that pings every 10 or 30 s, as gRPC clients are commonly set up to).
constexpr absl::Duration kMinClientPingInterval = absl::Seconds(10);
// gRPC's memory on the ingest port (transport buffers, read buffers of every connection,
// and what is parsed before the services see it). Under pressure gRPC shrinks its flow
// control windows and refuses new connections, instead of growing without bound.
constexpr int64_t kIngestGrpcMemoryBytes = int64_t{1} << 30;

int Milliseconds(absl::Duration duration) {
  // Every duration here fits an int: the config allows at most 24 hours.
  return static_cast<int>(absl::ToInt64Milliseconds(duration));
}

// What a gRPC server is told about its connections; zero ages leave gRPC's defaults.
struct ConnectionOptions {
  int max_message_bytes = 0;
  absl::Duration max_connection_age = absl::ZeroDuration();
  absl::Duration max_connection_age_grace = absl::ZeroDuration();
  // GOAWAY to a connection without calls for this long; zero: never.
  absl::Duration max_connection_idle = absl::ZeroDuration();
  // Bounds gRPC's memory for this server; null: gRPC's process-wide default quota.
  const grpc::ResourceQuota* resource_quota = nullptr;
  // TLS or not (server/auth); null: plaintext.
  std::shared_ptr<grpc::ServerCredentials> credentials = nullptr;
};

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& listen, const char* key, const std::vector<grpc::Service*>& services,
    const ConnectionOptions& options, int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(
      listen,
      options.credentials != nullptr ? options.credentials : grpc::InsecureServerCredentials(),
      port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  if (options.resource_quota != nullptr) builder.SetResourceQuota(*options.resource_quota);
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, Milliseconds(kHandshakeTimeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, Milliseconds(kKeepaliveTime));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Milliseconds(kKeepaliveTimeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             Milliseconds(kMinClientPingInterval));
  if (options.max_connection_idle > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                               Milliseconds(options.max_connection_idle));
  }
  if (options.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               Milliseconds(options.max_connection_age));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               Milliseconds(options.max_connection_age_grace));
  }
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *port == 0) {
    return absl::UnavailableError(
        absl::StrCat(key, " ", listen, ": cannot listen (address in use or not local?)"));
  }
  return server;
}

// An output block made into what the pipeline runs: the output from its factory and its
// route (`loggers`, `match`), at start-up and for a reload alike.
absl::StatusOr<pipeline::Pipeline::Destination> BuildDestination(
    const config::OutputConfig& output_config, const outputs::OutputRegistry& registry,
    outputs::EncodingRegistry& encodings, prometheus::Registry* metrics) {
  absl::StatusOr<std::unique_ptr<outputs::Output>> output =
      registry.Create(output_config, encodings, metrics);
  if (!output.ok()) return output.status();
  absl::StatusOr<pipeline::hooks::RecordMatch> route =
      pipeline::hooks::RecordMatch::Create(output_config.loggers, output_config.match,
                                           config::ChildPath(output_config.key_path, "match"));
  if (!route.ok()) return route.status();
  return pipeline::Pipeline::Destination{std::move(*output), output_config.level, *std::move(route),
                                         output_config.sender};
}

std::string HostOf(const std::string& listen) { return listen.substr(0, listen.rfind(':')); }

// A reload compares blocks by their YAML: an output or hook whose block is the same runs on.
std::string BlockOf(const YAML::Node& node) { return YAML::Dump(node); }

bool SameHooks(const std::vector<config::HookConfig>& a, const std::vector<config::HookConfig>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const config::HookConfig& x, const config::HookConfig& y) {
                      return x.id() == y.id() && BlockOf(x.options) == BlockOf(y.options);
                    });
}

bool SameLevels(const config::LevelsConfig& a, const config::LevelsConfig& b) {
  const auto rules = [](const config::LevelsConfig& levels) {
    std::map<std::string, std::pair<Level, std::vector<Level>>> by_prefix;
    for (const config::LevelRuleConfig& rule : levels.rules) {
      by_prefix[rule.logger_prefix] = {rule.level, rule.enabled_levels};
    }
    return by_prefix;
  };
  return a.default_level == b.default_level && rules(a) == rules(b) && a.max_rules == b.max_rules &&
         a.max_prefix_bytes == b.max_prefix_bytes;
}

bool SamePipeline(const pipeline::PipelineConfig& a, const pipeline::PipelineConfig& b) {
  return a.base_fields == b.base_fields && a.time_key == b.time_key && a.level_key == b.level_key &&
         a.logger_key == b.logger_key && a.message_key == b.message_key;
}

// The settings a reload does not apply, by key path, where `next` differs from what runs.
// Ingest's settings are read by every open call without a lock (ingest_context.h), the
// listeners and the scheduler are built once, and the drain timeout belongs to the
// shutdown that may be under way: all of them take a restart.
std::vector<std::string> NotApplied(const config::Config& running, const config::Config& next) {
  std::vector<std::string> keys;
  const auto check = [&keys](const char* key, bool differs) {
    if (differs) keys.emplace_back(key);
  };
  const config::IngestConfig& a = running.ingest;
  const config::IngestConfig& b = next.ingest;
  check("ingest.listen", a.listen != b.listen);
  check("ingest.max_batch_records", a.max_batch_records != b.max_batch_records);
  check("ingest.max_batch_delay", a.max_batch_delay != b.max_batch_delay);
  check("ingest.max_message_bytes", a.max_message_bytes != b.max_message_bytes);
  check("ingest.max_record_bytes", a.max_record_bytes != b.max_record_bytes);
  check("ingest.max_fields_per_record", a.max_fields_per_record != b.max_fields_per_record);
  check("ingest.max_field_key_bytes", a.max_field_key_bytes != b.max_field_key_bytes);
  check("ingest.max_field_value_bytes", a.max_field_value_bytes != b.max_field_value_bytes);
  check("ingest.max_concurrent_streams", a.max_concurrent_streams != b.max_concurrent_streams);
  check("ingest.ack_on", a.ack_on != b.ack_on);
  check("ingest.max_connection_age", a.max_connection_age != b.max_connection_age);
  check("ingest.max_connection_age_grace",
        a.max_connection_age_grace != b.max_connection_age_grace);
  check("ingest.max_streams_per_peer", a.max_streams_per_peer != b.max_streams_per_peer);
  check("ingest.stream_idle_timeout", a.stream_idle_timeout != b.stream_idle_timeout);
  check("ingest.max_connection_idle", a.max_connection_idle != b.max_connection_idle);
  check("ingest.invalid_utf8", a.invalid_utf8 != b.invalid_utf8);
  // The credentials are built with the listeners; the files they name are re-read live.
  check("ingest.tls", a.tls != b.tls);
  check("ingest.tokens_file", a.tokens_file != b.tokens_file);
  check("admin.listen", running.admin.listen != next.admin.listen);
  check("admin.tls", running.admin.tls != next.admin.tls);
  check("admin.auth", running.admin.auth != next.admin.auth);
  check("admin.token_file", running.admin.token_file != next.admin.token_file);
  check("admin.read_only_token_file",
        running.admin.read_only_token_file != next.admin.read_only_token_file);
  check("admin.max_taps", running.admin.max_taps != next.admin.max_taps);
  check("metrics.listen", running.metrics.listen != next.metrics.listen);
  const scheduler::SchedulerConfig& x = running.scheduler;
  const scheduler::SchedulerConfig& y = next.scheduler;
  check("scheduler.workers", x.workers != y.workers);
  check("scheduler.channel_capacity", x.channel_capacity != y.channel_capacity);
  check("scheduler.channel_capacity_bytes", x.channel_capacity_bytes != y.channel_capacity_bytes);
  check("scheduler.overflow", x.overflow != y.overflow);
  check("scheduler.dispatch", x.dispatch != y.dispatch);
  check("shutdown.drain_timeout", running.shutdown.drain_timeout != next.shutdown.drain_timeout);
  return keys;
}

}  // namespace

ServerApp::ServerApp(config::Config config, ConfigLoader loader)
    : config_(std::move(config)),
      loader_(std::move(loader)),
      running_(config_),
      started_at_(absl::Now()),
      registry_(std::make_shared<prometheus::Registry>()),
      levels_(config_.levels) {}

absl::StatusOr<std::unique_ptr<ServerApp>> ServerApp::Start(config::Config config,
                                                            ConfigLoader loader) {
  std::unique_ptr<ServerApp> app(new ServerApp(std::move(config), std::move(loader)));
  if (absl::Status started = app->StartAll(); !started.ok()) return started;
  return app;
}

absl::Status ServerApp::StartAll() {
  outputs::OutputRegistry registry;
  outputs::RegisterBuiltinOutputs(registry);
  // Outputs may add encodings of their own; the pipeline, built after them, makes an
  // encoder of each for every worker.
  encodings_ = std::make_unique<outputs::EncodingRegistry>();
  std::vector<pipeline::Pipeline::Destination> destinations;
  std::vector<std::string> output_ids;
  for (const config::OutputConfig& output_config : config_.outputs) {
    absl::StatusOr<pipeline::Pipeline::Destination> destination =
        BuildDestination(output_config, registry, *encodings_, registry_.get());
    if (!destination.ok()) return destination.status();
    output_ids.push_back(output_config.id());
    destinations.push_back(*std::move(destination));
  }
  output_metrics_ = std::make_unique<pipeline::OutputMetrics>(*registry_, output_ids);
  pipeline_ = std::make_unique<pipeline::Pipeline>(config_.pipeline, std::move(destinations),
                                                   *encodings_, config_.scheduler.workers, ledger_,
                                                   output_metrics_.get());
  taps_ = std::make_unique<pipeline::TapHub>(registry_.get(), config_.admin.max_taps);
  pipeline_->SetTaps(taps_.get());
  pipeline::hooks::HookRegistry hook_registry;
  pipeline::hooks::RegisterBuiltinHooks(hook_registry);
  absl::StatusOr<std::vector<std::unique_ptr<pipeline::hooks::Hook>>> pre_hooks =
      hook_registry.CreateAll(pipeline::hooks::HookPhase::kPre, config_.hooks.pre);
  if (!pre_hooks.ok()) return pre_hooks.status();
  if (!pre_hooks->empty()) {
    pre_hooks_ =
        std::make_unique<pipeline::hooks::HookChain>(std::move(*pre_hooks), registry_.get());
  }
  absl::StatusOr<std::vector<std::unique_ptr<pipeline::hooks::Hook>>> post_hooks =
      hook_registry.CreateAll(pipeline::hooks::HookPhase::kPost, config_.hooks.post);
  if (!post_hooks.ok()) return post_hooks.status();
  pipeline_->SetPostHooks(pipeline::hooks::HookChain(std::move(*post_hooks), registry_.get()));
  if (absl::Status started = pipeline_->Start(); !started.ok()) return started;

  scheduler_metrics_ = std::make_unique<scheduler::SchedulerMetrics>(
      *registry_, config_.scheduler.workers, config_.scheduler.overflow);
  scheduler_ = std::make_unique<scheduler::Scheduler>(config_.scheduler, *pipeline_, ledger_,
                                                      scheduler_metrics_.get());
  ledger_.SetInFlightGauge([this] {
    const int64_t records =
        static_cast<int64_t>(scheduler_->InFlightRecords()) + pipeline_->RecordsInOutputs();
    return static_cast<uint64_t>(std::max<int64_t>(records, 0));
  });
  scheduler_->Start();

  draining_gauge_ = &prometheus::BuildGauge()
                         .Name("sluice_draining")
                         .Help("1 while intake is closed for a drain or shutdown")
                         .Register(*registry_)
                         .Add({});
  ingest_listener_up_ = &prometheus::BuildGauge()
                             .Name("sluice_ingest_listener_up")
                             .Help(
                                 "1 while the ingest port accepts connections, 0 from a failed "
                                 "accept until its listener is rebuilt")
                             .Register(*registry_)
                             .Add({});
  ingest_listener_restarts_ =
      &prometheus::BuildCounter()
           .Name("sluice_ingest_listener_restarts_total")
           .Help("Times the ingest gRPC server was rebuilt after its listener stopped accepting")
           .Register(*registry_)
           .Add({});
  auto& reloads = prometheus::BuildCounter()
                      .Name("sluice_config_reloads_total")
                      .Help(
                          "Config reloads (SIGHUP, AdminService.Reload), by result: ok, or "
                          "failed when the file was refused")
                      .Register(*registry_);
  reloads_ok_ = &reloads.Add({{"result", "ok"}});
  reloads_failed_ = &reloads.Add({{"result", "failed"}});
  last_reload_success_ = &prometheus::BuildGauge()
                              .Name("sluice_config_last_reload_success_timestamp_seconds")
                              .Help(
                                  "Unix time of the last config load that succeeded: the "
                                  "start, or the last reload applied")
                              .Register(*registry_)
                              .Add({});
  last_reload_success_->Set(absl::ToDoubleSeconds(started_at_ - absl::UnixEpoch()));
  absl::StatusOr<std::unique_ptr<metrics::MetricsServer>> metrics =
      metrics::MetricsServer::Start(config_.metrics.listen, registry_);
  if (!metrics.ok()) return metrics.status();
  metrics_ = std::move(*metrics);
  scheduler_collector_ = std::make_shared<scheduler::SchedulerCollector>(*scheduler_);
  level_collector_ = std::make_shared<levels::LevelCollector>(levels_);
  output_collector_ = std::make_shared<pipeline::OutputCollector>(*pipeline_);
  metrics_->AddCollectable(scheduler_collector_);
  metrics_->AddCollectable(output_collector_);
  metrics_->AddCollectable(level_collector_);

  // gRPC's own log lines from here on are rate-limited, and a failed accept is noticed.
  InstallGrpcLog();
  SetGrpcAcceptFailureCallback([this] { accept_failed_.store(true); });
  // Every gRPC server built from here on gets grpc.health.v1.Health and server reflection
  // (both process-wide switches of gRPC).
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // libgrpc++ implements the health service on upb, outside protobuf's descriptor pool.
  // Touching our copy of its descriptors links them in, so reflection describes it too.
  grpc::health::v1::HealthCheckRequest::descriptor();
  if (absl::Status secured = BuildAuth(); !secured.ok()) return secured;
  ingest_metrics_ = std::make_unique<ingest::IngestMetrics>(*registry_);
  ingest_context_.reset(new ingest::IngestContext{config_.ingest, *scheduler_, levels_, ledger_,
                                                  *ingest_metrics_, intake_, pre_hooks_.get(),
                                                  ingest_auth_.get()});
  admin_service_ = std::make_unique<admin::AdminService>(levels_, *this, *registry_,
                                                         admin_auth_.get(), taps_.get());

  const int max_message_bytes = static_cast<int>(config_.ingest.max_message_bytes);
  if (absl::Status started =
          StartIngestServer(config_.ingest.listen, &ingest_server_, &ingest_port_);
      !started.ok()) {
    return started;
  }
  {
    absl::MutexLock lock(&mu_);
    SetIngestServing(true);
  }
  ingest_listener_up_->Set(1);
  absl::StatusOr<std::unique_ptr<grpc::Server>> admin = StartGrpcServer(
      config_.admin.listen, "admin.listen", {admin_service_.get()},
      {.max_message_bytes = max_message_bytes, .credentials = admin_credentials_}, &admin_port_);
  if (!admin.ok()) return admin.status();
  admin_server_ = std::move(*admin);
  // The admin services answer for as long as the server runs, draining or not.
  admin_server_->GetHealthCheckService()->SetServingStatus(v1::AdminService::service_full_name(),
                                                           true);
  ReportOutputHealth();

  lifecycle_thread_ = std::thread([this] { LifecycleLoop(); });
  housekeeping_thread_ = std::thread([this] { HousekeepingLoop(); });

  std::fprintf(stderr,
               "sluiced: ingest listening on %s:%d\n"
               "sluiced: admin listening on %s:%d\n"
               "sluiced: metrics listening on http://%s:%d/metrics\n"
               "sluiced: %u workers, channel capacity %u records, %zu outputs\n",
               HostOf(config_.ingest.listen).c_str(), ingest_port_,
               HostOf(config_.admin.listen).c_str(), admin_port_,
               HostOf(config_.metrics.listen).c_str(), metrics_->port(), config_.scheduler.workers,
               config_.scheduler.channel_capacity, config_.outputs.size());
  std::fflush(stderr);
  NotifyReady();
  return absl::OkStatus();
}

absl::Status ServerApp::BuildAuth() {
  auth_failures_ = std::make_unique<auth::AuthFailures>(*registry_);
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ingest =
      auth::ServerCredentialsFor(config_.ingest.tls, "ingest.tls");
  if (!ingest.ok()) return ingest.status();
  ingest_credentials_ = *std::move(ingest);
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> admin =
      auth::ServerCredentialsFor(config_.admin.tls, "admin.tls");
  if (!admin.ok()) return admin.status();
  admin_credentials_ = *std::move(admin);
  if (!config_.ingest.tokens_file.empty()) {
    absl::StatusOr<std::unique_ptr<auth::IngestAuthenticator>> authenticator =
        auth::IngestAuthenticator::Create(config_.ingest.tokens_file, *auth_failures_);
    if (!authenticator.ok()) return authenticator.status();
    ingest_auth_ = *std::move(authenticator);
  }
  absl::StatusOr<std::unique_ptr<auth::TokenAuthenticator>> admin_auth =
      auth::TokenAuthenticator::Create(config_.admin, *auth_failures_);
  if (!admin_auth.ok()) return admin_auth.status();
  admin_auth_ = *std::move(admin_auth);
  return absl::OkStatus();
}

absl::Status ServerApp::StartIngestServer(const std::string& listen,
                                          std::unique_ptr<grpc::Server>* server, int* port) {
  // A grpc::Service registers with one server only: a new server needs new services.
  auto log_service = std::make_unique<ingest::LogService>(*ingest_context_);
  auto otlp_logs_service = std::make_unique<ingest::OtlpLogsService>(*ingest_context_);
  grpc::ResourceQuota quota("sluice-ingest");
  quota.Resize(kIngestGrpcMemoryBytes);
  ConnectionOptions options;
  options.max_message_bytes = static_cast<int>(config_.ingest.max_message_bytes);
  options.max_connection_age = config_.ingest.max_connection_age;
  options.max_connection_age_grace = config_.ingest.max_connection_age_grace;
  options.max_connection_idle = config_.ingest.max_connection_idle;
  options.resource_quota = &quota;
  options.credentials = ingest_credentials_;
  absl::StatusOr<std::unique_ptr<grpc::Server>> built = StartGrpcServer(
      listen, "ingest.listen", {log_service.get(), otlp_logs_service.get()}, options, port);
  if (!built.ok()) return built.status();
  log_service_ = std::move(log_service);
  otlp_logs_service_ = std::move(otlp_logs_service);
  *server = *std::move(built);
  return absl::OkStatus();
}

void ServerApp::RestartIngestListener() {
  std::unique_ptr<grpc::Server> old_server;
  {
    absl::MutexLock lock(&mu_);
    if (!ingest_listener_dead_) {
      ingest_listener_dead_ = true;
      ingest_listener_up_->Set(0);
      std::fprintf(stderr, "sluiced: the ingest listener stopped accepting; rebuilding it\n");
      if (ingest_serving_) SetIngestServing(false);
    }
    old_server = std::move(ingest_server_);
  }
  // Shutting the old server down closes its listening socket, which would otherwise keep
  // taking connections into a backlog that nobody reads.
  if (old_server != nullptr) {
    old_server->Shutdown(absl::ToChronoTime(absl::Now() + kIngestRestartGrace));
    old_server.reset();
  }
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  const std::string listen = absl::StrCat(HostOf(config_.ingest.listen), ":", ingest_port_);
  if (absl::Status started = StartIngestServer(listen, &server, &port);
      !started.ok() || port != ingest_port_) {
    // Most likely the descriptors are still exhausted; the next tick tries again.
    std::fprintf(stderr, "sluiced: rebuilding the ingest listener on %s: %s; retrying\n",
                 listen.c_str(),
                 started.ok() ? "bound another port" : std::string(started.message()).c_str());
    std::fflush(stderr);
    if (server != nullptr) server->Shutdown(absl::ToChronoTime(absl::Now()));
    return;
  }
  absl::MutexLock lock(&mu_);
  ingest_server_ = std::move(server);
  ingest_listener_dead_ = false;
  ingest_listener_up_->Set(1);
  ingest_listener_restarts_->Increment();
  // A new server's health starts from gRPC's defaults; say what holds now.
  SetIngestServing(!draining_);
  std::fprintf(stderr, "sluiced: ingest listening again on %s\n", listen.c_str());
  std::fflush(stderr);
}

void ServerApp::ReloadOnSignal() {
  Post([this] {
    if (absl::StatusOr<admin::ReloadResult> reloaded = ReloadNow(); !reloaded.ok()) {
      // logrotate's postrotate sends SIGHUP too: a bad file must not keep the outputs
      // writing to the renamed files.
      if (absl::Status reopened = pipeline_->Reopen(); !reopened.ok()) {
        std::fprintf(stderr, "sluiced: reopening outputs: %s\n",
                     std::string(reopened.message()).c_str());
      } else {
        std::fprintf(stderr, "sluiced: outputs reopened\n");
      }
      std::fflush(stderr);
    }
  });
}

void ServerApp::Reload(ReloadDone done) {
  Post([this, done = std::move(done)]() mutable { std::move(done)(ReloadNow()); });
}

absl::StatusOr<admin::ReloadResult> ServerApp::ReloadNow() {
  NotifyReloading();
  // systemd keeps the unit "reloading" until READY=1, whether the file was applied or not.
  absl::Cleanup reloaded = [] { NotifyReady(); };
  absl::StatusOr<admin::ReloadResult> result = LoadAndApply();
  if (!result.ok()) {
    reloads_failed_->Increment();
    std::fprintf(stderr, "sluiced: reload refused, the running config stays: %s\n",
                 std::string(result.status().message()).c_str());
    std::fflush(stderr);
    return result;
  }
  reloads_ok_->Increment();
  last_reload_success_->Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  std::fprintf(stderr, "sluiced: reloaded: applied [%s]; not applied (restart needed) [%s]\n",
               absl::StrJoin(result->applied, ", ").c_str(),
               absl::StrJoin(result->not_applied, ", ").c_str());
  std::fflush(stderr);
  return result;
}

absl::StatusOr<admin::ReloadResult> ServerApp::LoadAndApply() {
  if (!loader_) return absl::FailedPreconditionError("the server was started without a loader");
  {
    absl::MutexLock lock(&mu_);
    // The outputs are being drained for good: a new one would start after the drain.
    if (shutdown_started_) return absl::FailedPreconditionError("the server is shutting down");
  }
  absl::StatusOr<config::Config> loaded = loader_();
  if (!loaded.ok()) return absl::InvalidArgumentError(loaded.status().message());
  const config::Config& next = *loaded;
  const auto refused = [](const absl::Status& status) {
    return absl::InvalidArgumentError(status.message());
  };
  admin::ReloadResult result;
  result.not_applied = NotApplied(config_, next);

  // Everything is built before anything changes.
  pipeline::hooks::HookRegistry hook_registry;
  pipeline::hooks::RegisterBuiltinHooks(hook_registry);
  const bool pre_changed = !SameHooks(running_.hooks.pre, next.hooks.pre);
  std::unique_ptr<pipeline::hooks::HookChain> pre_hooks;
  if (pre_changed) {
    absl::StatusOr<std::vector<std::unique_ptr<pipeline::hooks::Hook>>> hooks =
        hook_registry.CreateAll(pipeline::hooks::HookPhase::kPre, next.hooks.pre);
    if (!hooks.ok()) return refused(hooks.status());
    if (!hooks->empty()) {
      pre_hooks = std::make_unique<pipeline::hooks::HookChain>(std::move(*hooks), registry_.get());
    }
  }
  const bool post_changed = !SameHooks(running_.hooks.post, next.hooks.post);
  const bool pipeline_changed = !SamePipeline(running_.pipeline, next.pipeline);

  std::map<std::string, std::string> running_blocks;
  for (const config::OutputConfig& output : running_.outputs) {
    running_blocks[output.id()] = BlockOf(output.options);
  }
  std::map<std::string, bool> kept;  // id -> in the new set unchanged
  for (const config::OutputConfig& output : next.outputs) {
    auto it = running_blocks.find(output.id());
    kept[output.id()] = it != running_blocks.end() && it->second == BlockOf(output.options);
  }
  std::vector<std::string> added, changed, removed;
  for (const config::OutputConfig& output : next.outputs) {
    if (kept[output.id()]) continue;
    (running_blocks.contains(output.id()) ? changed : added).push_back(output.id());
  }
  for (const auto& [id, block] : running_blocks) {
    if (!kept.contains(id)) removed.push_back(id);
  }
  std::vector<std::string> running_order, next_order;
  for (const config::OutputConfig& output : running_.outputs) running_order.push_back(output.id());
  for (const config::OutputConfig& output : next.outputs) next_order.push_back(output.id());
  const bool outputs_changed =
      !added.empty() || !changed.empty() || !removed.empty() || running_order != next_order;
  const bool new_generation = post_changed || pipeline_changed || outputs_changed;

  std::unique_ptr<outputs::EncodingRegistry> encodings;
  std::shared_ptr<pipeline::Pipeline::Generation> generation;
  if (new_generation) {
    // The encodings of the outputs that leave are retired unless an output that stays
    // shares them: a changed output may then add its own encoding under its name again.
    std::vector<outputs::EncodingId> staying, leaving;
    for (const auto& [id, encoding] : pipeline_->OutputEncodings()) {
      if (!encoding.has_value()) continue;
      (kept[id] ? staying : leaving).push_back(*encoding);
    }
    encodings = encodings_->Fork([&](outputs::EncodingId id) {
      return std::find(leaving.begin(), leaving.end(), id) != leaving.end() &&
             std::find(staying.begin(), staying.end(), id) == staying.end();
    });
    outputs::OutputRegistry output_registry;
    outputs::RegisterBuiltinOutputs(output_registry);
    std::vector<pipeline::Pipeline::NextOutput> next_outputs;
    for (const config::OutputConfig& output_config : next.outputs) {
      if (kept[output_config.id()]) {
        next_outputs.push_back({.keep = output_config.id(), .destination = {}});
        continue;
      }
      absl::StatusOr<pipeline::Pipeline::Destination> destination =
          BuildDestination(output_config, output_registry, *encodings, registry_.get());
      if (!destination.ok()) return refused(destination.status());
      next_outputs.push_back({.keep = "", .destination = *std::move(destination)});
    }
    absl::StatusOr<std::vector<std::unique_ptr<pipeline::hooks::Hook>>> post_hooks =
        hook_registry.CreateAll(pipeline::hooks::HookPhase::kPost, next.hooks.post);
    if (!post_hooks.ok()) return refused(post_hooks.status());
    // Last, since it starts the new outputs: nothing after it can refuse the file.
    absl::StatusOr<std::shared_ptr<pipeline::Pipeline::Generation>> prepared = pipeline_->Prepare(
        next.pipeline, pipeline::hooks::HookChain(std::move(*post_hooks), registry_.get()),
        std::move(next_outputs), *encodings);
    if (!prepared.ok()) return refused(prepared.status());
    generation = *std::move(prepared);
  }

  // Applying.
  if (!SameLevels(running_.levels, next.levels)) {
    levels_.ReplaceConfigRules(next.levels);
    result.applied.push_back("levels");
  }
  if (pre_changed) {
    ingest_context_->pre_hooks.store(pre_hooks.get());
    if (pre_hooks_ != nullptr) retired_pre_hooks_.push_back(std::move(pre_hooks_));
    pre_hooks_ = std::move(pre_hooks);
    result.applied.push_back("hooks.pre");
  }
  if (post_changed) result.applied.push_back("hooks.post");
  if (pipeline_changed) result.applied.push_back("pipeline");
  for (const std::string& id : added) result.applied.push_back("outputs: added " + id);
  for (const std::string& id : changed) result.applied.push_back("outputs: changed " + id);
  for (const std::string& id : removed) result.applied.push_back("outputs: removed " + id);
  absl::Status swapped;
  if (new_generation) {
    encodings_ = std::move(encodings);
    swapped = pipeline_->Swap(std::move(generation), absl::Now() + config_.shutdown.drain_timeout);
  } else {
    swapped = pipeline_->Reopen();
  }
  if (!swapped.ok()) {
    // The new config runs; what the old outputs could not finish is in the books.
    std::fprintf(stderr, "sluiced: reload: %s\n", std::string(swapped.message()).c_str());
  } else {
    std::fprintf(stderr, "sluiced: outputs reopened\n");
  }
  running_.levels = next.levels;
  running_.hooks = next.hooks;
  running_.pipeline = next.pipeline;
  running_.outputs = next.outputs;
  return result;
}

ServerApp::~ServerApp() { (void)Stop(); }

absl::Status ServerApp::Stop() {
  if (stopped_.has_value()) return *stopped_;
  SetGrpcAcceptFailureCallback(nullptr);
  absl::Time deadline;
  bool drain_completed = true;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    // After a shutdown's drain, what is left may use what is left of its deadline; torn
    // down without one (a failed start, a test), the outputs get a whole drain timeout.
    deadline = shutdown_started_ ? std::max(shutdown_deadline_, absl::Now())
                                 : absl::Now() + config_.shutdown.drain_timeout;
    drain_completed = shutdown_drain_completed_;
  }
  if (lifecycle_thread_.joinable()) lifecycle_thread_.join();
  if (housekeeping_thread_.joinable()) housekeeping_thread_.join();
  std::vector<std::string> problems;
  if (!drain_completed) problems.push_back("the drain did not complete by its deadline");
  // First the senders: closing them settles every batch they hold, so that ingest calls
  // waiting for those acks can end (gRPC's Shutdown waits for them), and releases workers
  // waiting for buffer room. Batches that reach a closed sender are given up on, counted.
  if (pipeline_ != nullptr) {
    if (absl::Status closed = pipeline_->Shutdown(deadline); !closed.ok()) {
      std::fprintf(stderr, "sluiced: closing outputs: %s\n", std::string(closed.message()).c_str());
      problems.emplace_back(closed.message());
    }
  }
  const absl::Time now = absl::Now();
  if (ingest_server_ != nullptr) {
    ingest_server_->Shutdown(absl::ToChronoTime(now + kIngestStopGrace));
  }
  // Open taps end with OK before the admin server cuts what is left at its deadline.
  if (taps_ != nullptr) taps_->CloseAll();
  if (admin_server_ != nullptr) admin_server_->Shutdown(absl::ToChronoTime(now + kAdminStopGrace));
  if (scheduler_ != nullptr) {
    scheduler_->Stop();
    // Batches still queued went through the closed senders: they are in the books as
    // dropped. What the scheduler still counts was never processed.
    if (const uint64_t left = scheduler_->InFlightRecords(); left > 0) {
      problems.push_back(absl::StrCat(left, " records never processed"));
    }
  }
  stopped_ =
      problems.empty() ? absl::OkStatus() : absl::DataLossError(absl::StrJoin(problems, "; "));
  return *stopped_;
}

void ServerApp::Post(absl::AnyInvocable<void() &&> task) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(task));
}

void ServerApp::LifecycleLoop() {
  for (;;) {
    absl::AnyInvocable<void() &&> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ServerApp* app)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return !app->tasks_.empty() || app->stopping_; },
          this));
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    std::move(task)();
  }
}

void ServerApp::HousekeepingLoop() {
  // Rule expiries are whole seconds and health probes come every few seconds: once a
  // second is exact enough for both.
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Seconds(1))) {
    mu_.Unlock();
    levels_.ExpireDue(absl::Now());
    const bool full = EveryChannelFull();
    ReportOutputHealth();
    FlushGrpcLogSummaries();
    if (admin_auth_ != nullptr) admin_auth_->Refresh();
    if (ingest_auth_ != nullptr) ingest_auth_->Refresh();
    auth_failures_->Flush();
    bool dead = accept_failed_.exchange(false);
    {
      absl::MutexLock lock(&mu_);
      dead = dead || ingest_listener_dead_;
    }
    if (dead) RestartIngestListener();
    mu_.Lock();
    // A server whose every channel is full takes nothing until a worker frees room: say so,
    // so that load balancers and orchestrators send new streams elsewhere meanwhile.
    const bool serving = !full && !ingest_listener_dead_;
    if (!draining_ && serving != ingest_serving_) SetIngestServing(serving);
  }
}

void ServerApp::ReportOutputHealth() {
  const std::vector<pipeline::OutputSenderSnapshot> outputs = pipeline_->Snapshot();
  const absl::Time now = absl::Now();
  for (size_t i = 0; i < outputs.size(); ++i) {
    const bool unhealthy = !outputs[i].healthy(now);
    // An output (from the start or a reload) is SERVING until it has failed for its
    // unhealthy_after.
    const auto [it, added] = output_unhealthy_.try_emplace(outputs[i].id, false);
    if (added && !unhealthy) {
      admin_server_->GetHealthCheckService()->SetServingStatus(
          absl::StrCat(kOutputHealthPrefix, outputs[i].id), true);
    }
    bool& reported = it->second;
    if (unhealthy == reported) continue;
    reported = unhealthy;
    const std::string state =
        unhealthy ? absl::StrCat("unhealthy: failing since ",
                                 absl::FormatTime(*outputs[i].failing_since, absl::UTCTimeZone()),
                                 "; last error: ", outputs[i].last_error)
                  : "healthy again";
    std::fprintf(stderr, "sluiced: output %s is %s\n", outputs[i].id.c_str(), state.c_str());
    admin_server_->GetHealthCheckService()->SetServingStatus(
        absl::StrCat(kOutputHealthPrefix, outputs[i].id), !unhealthy);
  }
}

bool ServerApp::EveryChannelFull() const {
  for (const scheduler::WorkerSnapshot& worker : scheduler_->Snapshot()) {
    // Full by records or by bytes: either bound stops the channel from taking a batch.
    if (worker.queue_depth < worker.queue_capacity &&
        worker.queue_bytes < worker.queue_capacity_bytes) {
      return false;
    }
  }
  return true;
}

void ServerApp::SetIngestServing(bool serving) {
  ingest_serving_ = serving;
  if (ingest_server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health = ingest_server_->GetHealthCheckService();
  health->SetServingStatus("", serving);
  health->SetServingStatus(v1::LogService::service_full_name(), serving);
  health->SetServingStatus(
      opentelemetry::proto::collector::logs::v1::LogsService::service_full_name(), serving);
}

void ServerApp::CloseIntake() {
  absl::MutexLock lock(&mu_);
  draining_ = true;
  intake_.Close();
  SetIngestServing(false);
  draining_gauge_->Set(1);
}

admin::DrainResult ServerApp::DrainNow(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const absl::Status emptied = scheduler_->Drain(deadline);
  const absl::Status flushed = pipeline_->Drain(deadline);
  for (const absl::Status& status : {emptied, flushed}) {
    if (!status.ok()) {
      std::fprintf(stderr, "sluiced: drain: %s\n", std::string(status.message()).c_str());
    }
  }
  admin::DrainResult result;
  result.counts = ledger_.Snapshot();
  result.completed = emptied.ok() && flushed.ok();
  return result;
}

// Intake is closed and reopened at once, in the order the requests arrive; only the
// waiting for the channels to empty runs on the lifecycle thread. So a Resume that was
// answered has reopened intake, even while an earlier Drain is still waiting.
void ServerApp::Drain(absl::Duration timeout, DrainDone done) {
  CloseIntake();
  Post([this, timeout, done = std::move(done)]() mutable { std::move(done)(DrainNow(timeout)); });
}

void ServerApp::Resume() {
  absl::MutexLock lock(&mu_);
  if (shutdown_started_) return;  // a shutdown keeps intake closed
  draining_ = false;
  intake_.Open();
  SetIngestServing(!ingest_listener_dead_);
  draining_gauge_->Set(0);
}

void ServerApp::Shutdown(absl::Duration timeout, DrainDone done) {
  {
    absl::MutexLock lock(&mu_);
    if (!shutdown_started_) shutdown_deadline_ = absl::Now() + timeout;
    shutdown_started_ = true;
  }
  NotifyStopping();
  CloseIntake();
  Post([this, timeout, done = std::move(done)]() mutable {
    const admin::DrainResult result = DrainNow(timeout);
    {
      absl::MutexLock lock(&mu_);
      shutdown_drain_completed_ = shutdown_drain_completed_ && result.completed;
    }
    std::fprintf(stderr,
                 "sluiced: drained%s: received %lu, written %lu, filtered %lu, rejected %lu, "
                 "dropped %lu, dropped by hooks %lu, unrouted %lu, in flight %lu\n",
                 result.completed ? "" : " (deadline passed)", result.counts.received,
                 result.counts.written, result.counts.filtered, result.counts.rejected,
                 result.counts.dropped, result.counts.dropped_by_hook, result.counts.unrouted,
                 result.counts.in_flight);
    std::move(done)(result);
    absl::MutexLock lock(&mu_);
    shutdown_drained_ = true;
  });
}

void ServerApp::RequestShutdown() {
  Shutdown(config_.shutdown.drain_timeout, [](admin::DrainResult) {});
}

void ServerApp::Wait() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&shutdown_drained_));
}

admin::ServerStats ServerApp::Stats() const {
  admin::ServerStats stats;
  stats.counts = ledger_.Snapshot();
  for (const scheduler::WorkerSnapshot& worker : scheduler_->Snapshot()) {
    stats.workers.push_back({worker.queue_depth, worker.queue_capacity, worker.parked_records,
                             worker.processing_records});
  }
  stats.parked_streams = scheduler_->parked_streams();
  const absl::Time now = absl::Now();
  stats.uptime = now - started_at_;
  for (const pipeline::OutputSenderSnapshot& output : pipeline_->Snapshot()) {
    stats.outputs.push_back(admin::OutputStats{
        .id = output.id,
        .buffer_records = output.buffer_records,
        .buffer_bytes = output.buffer_bytes,
        .max_records = output.max_records,
        .max_bytes = output.max_bytes,
        .oldest_record_age = output.oldest_received_at.has_value()
                                 ? now - *output.oldest_received_at
                                 : absl::ZeroDuration(),
        .up = output.up,
        .healthy = output.healthy(now),
        .failing_for =
            output.failing_since.has_value() ? now - *output.failing_since : absl::ZeroDuration(),
        .last_error = output.last_error});
  }
  absl::MutexLock lock(&mu_);
  stats.draining = draining_;
  return stats;
}

}  // namespace sluice::app
