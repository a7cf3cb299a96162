#include "server/admin/admin_service.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/support/status.h"
#include "server/admin/tap_reactor.h"

namespace sluice::admin {
namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    default:
      return "OTHER";
  }
}

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

void FillCounts(const LedgerCounts& counts, v1::Counts* out) {
  out->set_received(counts.received);
  out->set_filtered(counts.filtered);
  out->set_rejected(counts.rejected);
  out->set_dropped(counts.dropped);
  out->set_written(counts.written);
  out->set_in_flight(counts.in_flight);
  out->set_dropped_overflow(counts.dropped_overflow);
  out->set_dropped_output_failed(counts.dropped_output_failed);
  out->set_dropped_by_hook(counts.dropped_by_hook);
  out->set_unrouted(counts.unrouted);
}

void FillDrain(const DrainResult& result, v1::DrainResponse* out) {
  FillCounts(result.counts, out->mutable_counts());
  out->set_completed(result.completed);
}

v1::LevelRuleSource SourceToProto(levels::RuleSource source) {
  return source == levels::RuleSource::kConfig ? v1::LEVEL_RULE_SOURCE_CONFIG
                                               : v1::LEVEL_RULE_SOURCE_ADMIN;
}

uint64_t UnixNanos(absl::Time time) { return static_cast<uint64_t>(absl::ToUnixNanos(time)); }

absl::Duration TimeoutOr(uint32_t timeout_ms, absl::Duration fallback) {
  return timeout_ms == 0 ? fallback : absl::Milliseconds(timeout_ms);
}

}  // namespace

AdminService::AdminService(levels::LevelTable& levels, ServerControl& control,
                           prometheus::Registry& registry, const auth::TokenAuthenticator* auth,
                           pipeline::TapHub* taps)
    : levels_(levels),
      control_(control),
      taps_(taps),
      requests_(prometheus::BuildCounter()
                    .Name("sluice_admin_requests_total")
                    .Help("Admin RPCs answered, by method and status code")
                    .Register(registry)),
      auth_(auth) {}

grpc::Status AdminService::Authorize(grpc::CallbackServerContext* context, auth::Access access,
                                     const char* method) const {
  if (auth_ == nullptr) return grpc::Status::OK;
  return auth_->Check(*context, access, method);
}

grpc::ServerUnaryReactor* AdminService::Finish(grpc::CallbackServerContext* context,
                                               const char* method, const grpc::Status& status) {
  // Admin traffic is rare: looking the label set up per request is fine here.
  requests_.Add({{"method", method}, {"code", CodeName(status.error_code())}}).Increment();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

void AdminService::FillLevels(v1::GetLevelsResponse* response) const {
  const auto snapshot = levels_.Snapshot();
  const absl::Time now = absl::Now();
  response->set_default_level(LevelToProto(snapshot->default_level()));
  response->set_default_source(SourceToProto(snapshot->default_source()));
  response->set_default_set_time_unix_nano(UnixNanos(snapshot->default_set_at()));
  for (const levels::LevelRule& rule : snapshot->rules()) {
    v1::LevelRule* out = response->add_rules();
    out->set_logger_prefix(rule.logger_prefix);
    if (const std::optional<Level> threshold = rule.filter.threshold(); threshold.has_value()) {
      out->set_level(LevelToProto(*threshold));
    } else {
      for (Level level : rule.filter.levels()) out->add_enabled_levels(LevelToProto(level));
    }
    out->set_source(SourceToProto(rule.source));
    out->set_set_time_unix_nano(UnixNanos(rule.set_at));
    if (rule.expires_at != absl::InfiniteFuture()) {
      const int64_t left =
          absl::ToInt64Seconds(absl::Ceil(rule.expires_at - now, absl::Seconds(1)));
      out->set_ttl_seconds(static_cast<uint32_t>(std::max<int64_t>(left, 1)));
      out->set_expire_time_unix_nano(UnixNanos(rule.expires_at));
    }
  }
}

grpc::ServerUnaryReactor* AdminService::GetLevels(grpc::CallbackServerContext* context,
                                                  const v1::GetLevelsRequest*,
                                                  v1::GetLevelsResponse* response) {
  if (grpc::Status allowed = Authorize(context, auth::Access::kRead, "GetLevels"); !allowed.ok()) {
    return Finish(context, "GetLevels", allowed);
  }
  FillLevels(response);
  return Finish(context, "GetLevels", grpc::Status::OK);
}

grpc::ServerUnaryReactor* AdminService::SetLevel(grpc::CallbackServerContext* context,
                                                 const v1::SetLevelRequest* request,
                                                 v1::SetLevelResponse* response) {
  if (grpc::Status allowed = Authorize(context, auth::Access::kWrite, "SetLevel"); !allowed.ok()) {
    return Finish(context, "SetLevel", allowed);
  }
  absl::Status status = ApplySetLevel(*request);
  if (status.ok()) FillLevels(response->mutable_levels());
  return Finish(context, "SetLevel", ToGrpc(status));
}

absl::Status AdminService::ApplySetLevel(const v1::SetLevelRequest& request) {
  const std::string& prefix = request.logger_prefix();
  const absl::Time now = absl::Now();
  if (!request.enabled_levels().empty()) {
    if (prefix.empty()) {
      return absl::InvalidArgumentError("the default threshold is a level, not a set of levels");
    }
    if (request.level() != v1::LEVEL_UNSPECIFIED) {
      return absl::InvalidArgumentError("set either level or enabled_levels, not both");
    }
    std::vector<Level> enabled;
    for (int value : request.enabled_levels()) {
      absl::StatusOr<Level> level = LevelFromProto(value);
      if (value == v1::LEVEL_UNSPECIFIED || !level.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("enabled_levels: ", value, " is not a sluice.v1.Level value"));
      }
      enabled.push_back(*level);
    }
    return levels_.SetRule(prefix, *levels::LevelFilter::Only(enabled),
                           absl::Seconds(request.ttl_seconds()), now);
  }
  if (request.level() == v1::LEVEL_UNSPECIFIED) {
    if (prefix.empty()) {
      return absl::InvalidArgumentError(
          "the default threshold cannot be removed; set a level instead");
    }
    return levels_.RemoveRule(prefix);
  }
  absl::StatusOr<Level> level = LevelFromProto(request.level());
  if (!level.ok()) return level.status();
  if (prefix.empty()) {
    if (request.ttl_seconds() != 0) {
      return absl::InvalidArgumentError("ttl_seconds is not allowed for the default threshold");
    }
    levels_.SetDefault(*level, now);
    return absl::OkStatus();
  }
  return levels_.SetRule(prefix, levels::LevelFilter::AtLeast(*level),
                         absl::Seconds(request.ttl_seconds()), now);
}

grpc::ServerUnaryReactor* AdminService::Drain(grpc::CallbackServerContext* context,
                                              const v1::DrainRequest* request,
                                              v1::DrainResponse* response) {
  if (grpc::Status allowed = Authorize(context, auth::Access::kWrite, "Drain"); !allowed.ok()) {
    return Finish(context, "Drain", allowed);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  control_.Drain(TimeoutOr(request->timeout_ms(), control_.default_drain_timeout()),
                 [this, reactor, response](DrainResult result) {
                   FillDrain(result, response);
                   requests_.Add({{"method", "Drain"}, {"code", "OK"}}).Increment();
                   reactor->Finish(grpc::Status::OK);
                 });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::Resume(grpc::CallbackServerContext* context,
                                               const v1::ResumeRequest*, v1::ResumeResponse*) {
  if (grpc::Status allowed = Authorize(context, auth::Access::kWrite, "Resume"); !allowed.ok()) {
    return Finish(context, "Resume", allowed);
  }
  control_.Resume();
  return Finish(context, "Resume", grpc::Status::OK);
}

grpc::ServerUnaryReactor* AdminService::Shutdown(grpc::CallbackServerContext* context,
                                                 const v1::ShutdownRequest* request,
                                                 v1::ShutdownResponse* response) {
  if (grpc::Status allowed = Authorize(context, auth::Access::kWrite, "Shutdown"); !allowed.ok()) {
    return Finish(context, "Shutdown", allowed);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  control_.Shutdown(TimeoutOr(request->timeout_ms(), control_.default_drain_timeout()),
                    [this, reactor, response](DrainResult result) {
                      FillDrain(result, response->mutable_drain());
                      requests_.Add({{"method", "Shutdown"}, {"code", "OK"}}).Increment();
                      reactor->Finish(grpc::Status::OK);
                    });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::Reload(grpc::CallbackServerContext* context,
                                               const v1::ReloadRequest*,
                                               v1::ReloadResponse* response) {
  if (grpc::Status allowed = Authorize(context, auth::Access::kWrite, "Reload"); !allowed.ok()) {
    return Finish(context, "Reload", allowed);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  control_.Reload([this, reactor, response](absl::StatusOr<ReloadResult> result) {
    grpc::Status status = grpc::Status::OK;
    if (result.ok()) {
      for (const std::string& applied : result->applied) response->add_applied(applied);
      for (const std::string& key : result->not_applied) response->add_not_applied(key);
    } else {
      status = ToGrpc(result.status());
    }
    requests_.Add({{"method", "Reload"}, {"code", CodeName(status.error_code())}}).Increment();
    reactor->Finish(status);
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::GetStats(grpc::CallbackServerContext* context,
                                                 const v1::GetStatsRequest*,
                                                 v1::GetStatsResponse* response) {
  if (grpc::Status allowed = Authorize(context, auth::Access::kRead, "GetStats"); !allowed.ok()) {
    return Finish(context, "GetStats", allowed);
  }
  const ServerStats stats = control_.Stats();
  FillCounts(stats.counts, response->mutable_counts());
  for (size_t i = 0; i < stats.workers.size(); ++i) {
    v1::WorkerStats* worker = response->add_workers();
    worker->set_worker(static_cast<uint32_t>(i));
    worker->set_queue_depth(stats.workers[i].queue_depth);
    worker->set_queue_capacity(stats.workers[i].queue_capacity);
    worker->set_parked_records(stats.workers[i].parked_records);
    worker->set_processing_records(stats.workers[i].processing_records);
  }
  response->set_draining(stats.draining);
  response->set_parked_streams(static_cast<uint32_t>(stats.parked_streams));
  response->set_uptime_seconds(static_cast<uint64_t>(absl::ToInt64Seconds(stats.uptime)));
  for (const OutputStats& output : stats.outputs) {
    v1::OutputStats* out = response->add_outputs();
    out->set_id(output.id);
    out->set_buffer_records(output.buffer_records);
    out->set_buffer_bytes(output.buffer_bytes);
    out->set_max_records(output.max_records);
    out->set_max_bytes(output.max_bytes);
    out->set_oldest_record_age_ms(
        static_cast<uint64_t>(absl::ToInt64Milliseconds(output.oldest_record_age)));
    out->set_up(output.up);
    out->set_healthy(output.healthy);
    out->set_failing_seconds(static_cast<uint64_t>(absl::ToInt64Seconds(output.failing_for)));
    out->set_last_error(output.last_error);
  }
  return Finish(context, "GetStats", grpc::Status::OK);
}

grpc::ServerWriteReactor<v1::LogRecord>* AdminService::Tap(grpc::CallbackServerContext* context,
                                                           const v1::TapRequest* request) {
  return new TapReactor(
      taps_, *request,
      [this](const grpc::Status& status) {
        requests_.Add({{"method", "Tap"}, {"code", CodeName(status.error_code())}}).Increment();
      },
      Authorize(context, auth::Access::kRead, "Tap"));
}

}  // namespace sluice::admin
