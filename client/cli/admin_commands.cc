#include "client/cli/admin_commands.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/connection.h"
#include "client/cli/flags.h"
#include "client/cli/usage.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "sluice/level.h"
#include "sluice/v1/admin.grpc.pb.h"

namespace sluice::cli {
namespace {

// Drain and Shutdown answer once the server drained for --timeout; the call gets this
// much longer so that the answer can still arrive.
constexpr absl::Duration kDrainAnswerGrace = absl::Seconds(5);

// A call context whose deadline is --timeout (plus `extra`) from now.
std::unique_ptr<grpc::ClientContext> CallContext(absl::Duration extra = absl::ZeroDuration()) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout) + extra));
  Authorize(*context);
  return context;
}

int RpcError(absl::string_view method, const grpc::Status& status) {
  return CallFailed(method, static_cast<absl::StatusCode>(status.error_code()),
                    status.error_message());
}

int UnexpectedArguments(absl::string_view command, absl::Span<const std::string> args) {
  return UsageError(absl::StrCat(command, ": unexpected argument \"", args[0], "\""));
}

std::string FormatUnixNanos(uint64_t nanos) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixNanos(static_cast<int64_t>(nanos)),
                          absl::UTCTimeZone());
}

absl::string_view SourceName(v1::LevelRuleSource source) {
  switch (source) {
    case v1::LEVEL_RULE_SOURCE_CONFIG:
      return "config";
    case v1::LEVEL_RULE_SOURCE_ADMIN:
      return "admin";
    default:
      return "unknown";
  }
}

// "DEBUG" for a threshold, "DEBUG,ERROR" for a set of levels.
std::string RuleLevels(const v1::LevelRule& rule) {
  if (rule.enabled_levels().empty()) return std::string(ProtoLevelName(rule.level()));
  std::vector<absl::string_view> names;
  for (int level : rule.enabled_levels()) names.push_back(ProtoLevelName(level));
  return absl::StrJoin(names, ",");
}

// One line per rule: "checkout  DEBUG  admin, set 2026-12-03T10:00:00Z  (expires in 9m59s,
// at 2026-12-03T10:10:00Z)"; sets of levels read "checkout  DEBUG,ERROR  ...".
void PrintLevels(const v1::GetLevelsResponse& levels) {
  absl::PrintF("default  %s  %s, set %s\n", ProtoLevelName(levels.default_level()),
               SourceName(levels.default_source()),
               FormatUnixNanos(levels.default_set_time_unix_nano()));
  for (const v1::LevelRule& rule : levels.rules()) {
    absl::PrintF("%s  %s  %s, set %s", rule.logger_prefix(), RuleLevels(rule),
                 SourceName(rule.source()), FormatUnixNanos(rule.set_time_unix_nano()));
    if (rule.ttl_seconds() > 0) {
      absl::PrintF("  (expires in %s, at %s)",
                   absl::FormatDuration(absl::Seconds(rule.ttl_seconds())),
                   FormatUnixNanos(rule.expire_time_unix_nano()));
    }
    absl::PrintF("\n");
  }
}

void PrintCounts(const v1::Counts& counts) {
  absl::PrintF(
      "counts: received %d, filtered %d, rejected %d, dropped %d, dropped by hooks %d, unrouted "
      "%d, written %d, in flight %d\n",
      counts.received(), counts.filtered(), counts.rejected(), counts.dropped(),
      counts.dropped_by_hook(), counts.unrouted(), counts.written(), counts.in_flight());
}

// Prints the drain result; kExitFailure when it did not complete.
int ReportDrain(const v1::DrainResponse& drain) {
  absl::PrintF("drain %s\n",
               drain.completed() ? "completed" : "did not complete before the deadline");
  PrintCounts(drain.counts());
  return drain.completed() ? kExitOk : kExitDrainIncomplete;
}

uint32_t DrainTimeoutMs() {
  return static_cast<uint32_t>(
      std::min<int64_t>(absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_timeout)),
                        std::numeric_limits<uint32_t>::max()));
}

int GetLevels() {
  v1::GetLevelsResponse response;
  const grpc::Status status = AdminStub()->GetLevels(CallContext().get(), {}, &response);
  if (!status.ok()) return RpcError("GetLevels", status);
  PrintLevels(response);
  return kExitOk;
}

// "warn" or "error,debug"; the level keywords "unset" and "none" remove the rule.
absl::Status ParseLevels(const std::string& text, v1::SetLevelRequest& request) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "unset" || lower == "none") {
    request.set_level(v1::LEVEL_UNSPECIFIED);
    return absl::OkStatus();
  }
  const std::vector<std::string> names = absl::StrSplit(text, ',');
  std::vector<v1::Level> levels;
  for (const std::string& name : names) {
    absl::StatusOr<Level> level = ParseLevel(absl::StripAsciiWhitespace(name));
    if (!level.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(level.status().message(), ", unset or none"));
    }
    levels.push_back(LevelToProto(*level));
  }
  if (levels.size() == 1) {
    request.set_level(levels[0]);
  } else {
    for (v1::Level level : levels) request.add_enabled_levels(level);
  }
  return absl::OkStatus();
}

int CallSetLevel(const v1::SetLevelRequest& request) {
  v1::SetLevelResponse response;
  const grpc::Status status = AdminStub()->SetLevel(CallContext().get(), request, &response);
  if (!status.ok()) return RpcError("SetLevel", status);
  PrintLevels(response.levels());
  return kExitOk;
}

int SetLevel(const std::string& prefix, const std::string& levels_text) {
  v1::SetLevelRequest request;
  request.set_logger_prefix(prefix == "default" ? "" : prefix);
  if (absl::Status parsed = ParseLevels(levels_text, request); !parsed.ok()) {
    return UsageError(parsed.message());
  }
  const absl::Duration ttl = absl::GetFlag(FLAGS_ttl);
  if (ttl < absl::ZeroDuration() || ttl > absl::Seconds(std::numeric_limits<uint32_t>::max())) {
    return UsageError(absl::StrCat("--ttl ", absl::FormatDuration(ttl), " is out of range"));
  }
  // A rule must not outlive what was asked for, nor a positive ttl round down to "forever".
  request.set_ttl_seconds(
      static_cast<uint32_t>(absl::ToInt64Seconds(absl::Ceil(ttl, absl::Seconds(1)))));
  return CallSetLevel(request);
}

int ClearLevel(const std::string& prefix) {
  if (prefix.empty() || prefix == "default") {
    return UsageError("level clear: the default threshold cannot be cleared; set a level");
  }
  v1::SetLevelRequest request;
  request.set_logger_prefix(prefix);
  request.set_level(v1::LEVEL_UNSPECIFIED);
  return CallSetLevel(request);
}

// The health of `service` on `channel`, as the status name ("SERVING", "NOT_SERVING",
// "SERVICE_UNKNOWN") or the failed call's error.
absl::StatusOr<std::string> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status =
      grpc::health::v1::Health::NewStub(channel)->Check(CallContext().get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return std::string("SERVICE_UNKNOWN");
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

}  // namespace

int RunHealth(absl::Span<const std::string> args) {
  if (!args.empty()) return UnexpectedArguments("health", args);
  struct Check {
    absl::string_view port;
    std::shared_ptr<grpc::Channel> channel;
    std::string service;
  };
  const std::shared_ptr<grpc::Channel> ingest = IngestChannel();
  const std::shared_ptr<grpc::Channel> admin = AdminChannel();
  std::vector<Check> checks = {
      {"ingest", ingest, ""},
      {"ingest", ingest, "sluice.v1.LogService"},
      {"ingest", ingest, "opentelemetry.proto.collector.logs.v1.LogsService"},
      {"admin", admin, ""},
      {"admin", admin, "sluice.v1.AdminService"},
  };
  v1::GetStatsResponse stats;
  const grpc::Status listed =
      v1::AdminService::NewStub(admin)->GetStats(CallContext().get(), {}, &stats);
  if (!listed.ok()) return RpcError("GetStats (to list the outputs)", listed);
  for (const v1::OutputStats& output : stats.outputs()) {
    checks.push_back({"admin", admin, absl::StrCat("sluice.output.", output.id())});
  }
  int exit_code = kExitOk;
  for (const Check& check : checks) {
    absl::StatusOr<std::string> health = CheckHealth(check.channel, check.service);
    if (!health.ok()) {
      return CallFailed(absl::StrCat("health of ", check.port, " \"", check.service, "\""),
                        health.status().code(), health.status().message());
    }
    absl::PrintF("%-6s  %-52s  %s\n", check.port,
                 check.service.empty() ? "\"\" (the server)" : check.service, *health);
    if (*health != "SERVING") exit_code = kExitFailure;
  }
  return exit_code;
}

std::unique_ptr<v1::AdminService::Stub> AdminStub() {
  return v1::AdminService::NewStub(AdminChannel());
}

int RunLevel(absl::Span<const std::string> args) {
  if (args.empty()) return UsageError("level: expected \"get\", \"set\" or \"clear\"");
  if (args[0] == "get") {
    if (args.size() > 1) return UnexpectedArguments("level get", args.subspan(1));
    return GetLevels();
  }
  if (args[0] == "set") {
    if (args.size() != 3) return UsageError("level set: expected <logger-prefix> <level>");
    return SetLevel(args[1], args[2]);
  }
  if (args[0] == "clear") {
    if (args.size() != 2) return UsageError("level clear: expected <logger-prefix>");
    return ClearLevel(args[1]);
  }
  return UsageError(absl::StrCat("level: unknown action \"", args[0], "\""));
}

int RunStats(absl::Span<const std::string> args) {
  if (!args.empty()) return UnexpectedArguments("stats", args);
  v1::GetStatsResponse response;
  const grpc::Status status = AdminStub()->GetStats(CallContext().get(), {}, &response);
  if (!status.ok()) return RpcError("GetStats", status);
  PrintCounts(response.counts());
  absl::PrintF("draining: %s\n", response.draining() ? "yes" : "no");
  absl::PrintF("parked streams: %d\n", response.parked_streams());
  absl::PrintF("uptime: %s\n", absl::FormatDuration(absl::Seconds(response.uptime_seconds())));
  for (const v1::WorkerStats& worker : response.workers()) {
    absl::PrintF("worker %d: queue %d/%d\n", worker.worker(), worker.queue_depth(),
                 worker.queue_capacity());
  }
  for (const v1::OutputStats& output : response.outputs()) {
    absl::PrintF("output %s: %s, buffer %d/%d records, %d/%d bytes, oldest %dms", output.id(),
                 !output.healthy() ? "unhealthy" : (output.up() ? "up" : "down"),
                 output.buffer_records(), output.max_records(), output.buffer_bytes(),
                 output.max_bytes(), output.oldest_record_age_ms());
    if (!output.up()) {
      absl::PrintF(", failing for %ds: %s", output.failing_seconds(), output.last_error());
    }
    absl::PrintF("\n");
  }
  return kExitOk;
}

int RunDrain(absl::Span<const std::string> args) {
  if (!args.empty()) return UnexpectedArguments("drain", args);
  v1::DrainRequest request;
  request.set_timeout_ms(DrainTimeoutMs());
  v1::DrainResponse response;
  const grpc::Status status =
      AdminStub()->Drain(CallContext(kDrainAnswerGrace).get(), request, &response);
  if (!status.ok()) return RpcError("Drain", status);
  return ReportDrain(response);
}

int RunResume(absl::Span<const std::string> args) {
  if (!args.empty()) return UnexpectedArguments("resume", args);
  v1::ResumeResponse response;
  const grpc::Status status = AdminStub()->Resume(CallContext().get(), {}, &response);
  if (!status.ok()) return RpcError("Resume", status);
  absl::PrintF("intake resumed\n");
  return kExitOk;
}

int RunShutdown(absl::Span<const std::string> args) {
  if (!args.empty()) return UnexpectedArguments("shutdown", args);
  v1::ShutdownRequest request;
  request.set_timeout_ms(DrainTimeoutMs());
  v1::ShutdownResponse response;
  const grpc::Status status =
      AdminStub()->Shutdown(CallContext(kDrainAnswerGrace).get(), request, &response);
  if (!status.ok()) return RpcError("Shutdown", status);
  const int code = ReportDrain(response.drain());
  absl::PrintF("server shutting down\n");
  return code;
}

}  // namespace sluice::cli
