#include "server/app/server_app.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

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
#include "server/outputs/builtin_outputs.h"
#include "server/outputs/encoding_registry.h"
#include "server/outputs/output_registry.h"
#include "server/pipeline/hooks/builtin_hooks.h"
#include "server/pipeline/hooks/record_match.h"
#include "sluice/v1/admin.grpc.pb.h"
#include "sluice/v1/logs.grpc.pb.h"

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
};

absl::StatusOr<std::unique_ptr<grpc::Server>> StartGrpcServer(
    const std::string& listen, const char* key, const std::vector<grpc::Service*>& services,
    const ConnectionOptions& options, int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), port);
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

std::string HostOf(const std::string& listen) { return listen.substr(0, listen.rfind(':')); }

}  // namespace

ServerApp::ServerApp(config::Config config)
    : config_(std::move(config)),
      started_at_(absl::Now()),
      registry_(std::make_shared<prometheus::Registry>()),
      levels_(config_.levels) {}

absl::StatusOr<std::unique_ptr<ServerApp>> ServerApp::Start(config::Config config) {
  std::unique_ptr<ServerApp> app(new ServerApp(std::move(config)));
  if (absl::Status started = app->StartAll(); !started.ok()) return started;
  return app;
}

absl::Status ServerApp::StartAll() {
  outputs::OutputRegistry registry;
  outputs::RegisterBuiltinOutputs(registry);
  // Outputs may add encodings of their own; the pipeline, built after them, makes an
  // encoder of each for every worker.
  outputs::EncodingRegistry encodings;
  std::vector<pipeline::Pipeline::Destination> destinations;
  std::vector<std::string> output_ids;
  for (const config::OutputConfig& output_config : config_.outputs) {
    absl::StatusOr<std::unique_ptr<outputs::Output>> output =
        registry.Create(output_config, encodings, registry_.get());
    if (!output.ok()) return output.status();
    absl::StatusOr<pipeline::hooks::RecordMatch> route =
        pipeline::hooks::RecordMatch::Create(output_config.loggers, output_config.match,
                                             config::ChildPath(output_config.key_path, "match"));
    if (!route.ok()) return route.status();
    output_ids.push_back(output_config.id());
    destinations.push_back(
        {std::move(*output), output_config.level, *std::move(route), output_config.sender});
  }
  output_metrics_ = std::make_unique<pipeline::OutputMetrics>(*registry_, output_ids);
  pipeline_ = std::make_unique<pipeline::Pipeline>(config_.pipeline, std::move(destinations),
                                                   encodings, config_.scheduler.workers, ledger_,
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
  ingest_metrics_ = std::make_unique<ingest::IngestMetrics>(*registry_);
  ingest_context_.reset(new ingest::IngestContext{config_.ingest, *scheduler_, levels_, ledger_,
                                                  *ingest_metrics_, intake_, pre_hooks_.get()});
  admin_service_ = std::make_unique<admin::AdminService>(levels_, *this, *registry_, taps_.get());

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
  absl::StatusOr<std::unique_ptr<grpc::Server>> admin =
      StartGrpcServer(config_.admin.listen, "admin.listen", {admin_service_.get()},
                      {.max_message_bytes = max_message_bytes}, &admin_port_);
  if (!admin.ok()) return admin.status();
  admin_server_ = std::move(*admin);
  // The admin services answer for as long as the server runs, draining or not.
  admin_server_->GetHealthCheckService()->SetServingStatus(v1::AdminService::service_full_name(),
                                                           true);

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

void ServerApp::ReopenOutputs() {
  Post([this] {
    if (absl::Status reopened = pipeline_->Reopen(); !reopened.ok()) {
      std::fprintf(stderr, "sluiced: reopening outputs: %s\n",
                   std::string(reopened.message()).c_str());
    } else {
      std::fprintf(stderr, "sluiced: outputs reopened\n");
    }
    std::fflush(stderr);
  });
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
  output_unhealthy_.resize(outputs.size(), false);
  const absl::Time now = absl::Now();
  for (size_t i = 0; i < outputs.size(); ++i) {
    const bool unhealthy = !outputs[i].healthy(now);
    if (unhealthy == output_unhealthy_[i]) continue;
    output_unhealthy_[i] = unhealthy;
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
