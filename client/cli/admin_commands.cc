#include "client/cli/admin_commands.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/flags.h"
#include "client/cli/usage.h"
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
  return context;
}

int RpcError(absl::string_view method, const grpc::Status& status) {
  absl::FPrintF(stderr, "sluice: %s: %s: %s\n", method,
                absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                status.error_message());
  return kExitFailure;
}

int UnexpectedArguments(absl::string_view command, absl::Span<const std::string> args) {
  return UsageError(absl::StrCat(command, ": unexpected argument \"", args[0], "\""));
}

absl::string_view ProtoLevelName(int level) {
  absl::StatusOr<Level> parsed = LevelFromProto(level);
  return parsed.ok() ? LevelName(*parsed) : "UNKNOWN";
}

void PrintLevels(const v1::GetLevelsResponse& levels) {
  absl::PrintF("default  %s\n", ProtoLevelName(levels.default_level()));
  for (const v1::LevelRule& rule : levels.rules()) {
    absl::PrintF("%s  %s", rule.logger_prefix(), ProtoLevelName(rule.level()));
    if (rule.ttl_seconds() > 0) {
      absl::PrintF("  (expires in %s)", absl::FormatDuration(absl::Seconds(rule.ttl_seconds())));
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
  return drain.completed() ? kExitOk : kExitFailure;
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

int SetLevel(const std::string& prefix, const std::string& level_text) {
  v1::SetLevelRequest request;
  request.set_logger_prefix(prefix == "default" ? "" : prefix);
  const std::string lower = absl::AsciiStrToLower(level_text);
  if (lower == "unset" || lower == "none") {
    request.set_level(v1::LEVEL_UNSPECIFIED);
  } else {
    absl::StatusOr<Level> level = ParseLevel(level_text);
    if (!level.ok()) return UsageError(absl::StrCat(level.status().message(), ", unset or none"));
    request.set_level(LevelToProto(*level));
  }
  const absl::Duration ttl = absl::GetFlag(FLAGS_ttl);
  if (ttl < absl::ZeroDuration() || ttl > absl::Seconds(std::numeric_limits<uint32_t>::max())) {
    return UsageError(absl::StrCat("--ttl ", absl::FormatDuration(ttl), " is out of range"));
  }
  // A rule must not outlive what was asked for, nor a positive ttl round down to "forever".
  request.set_ttl_seconds(
      static_cast<uint32_t>(absl::ToInt64Seconds(absl::Ceil(ttl, absl::Seconds(1)))));

  v1::SetLevelResponse response;
  const grpc::Status status = AdminStub()->SetLevel(CallContext().get(), request, &response);
  if (!status.ok()) return RpcError("SetLevel", status);
  PrintLevels(response.levels());
  return kExitOk;
}

}  // namespace

std::unique_ptr<v1::AdminService::Stub> AdminStub() {
  return v1::AdminService::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_admin), grpc::InsecureChannelCredentials()));
}

int RunLevel(absl::Span<const std::string> args) {
  if (args.empty()) return UsageError("level: expected \"get\" or \"set\"");
  if (args[0] == "get") {
    if (args.size() > 1) return UnexpectedArguments("level get", args.subspan(1));
    return GetLevels();
  }
  if (args[0] == "set") {
    if (args.size() != 3) return UsageError("level set: expected <logger-prefix> <level>");
    return SetLevel(args[1], args[2]);
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
