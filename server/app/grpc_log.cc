#include "server/app/grpc_log.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/logging.h"
#include "grpc/support/log.h"

namespace sluice::app {
namespace {

constexpr absl::string_view kPrefix = "sluiced: grpc: ";
constexpr absl::string_view kProtobufPrefix = "sluiced: protobuf: ";

struct GrpcLogState {
  GrpcLogLimiter limiter{GrpcLogLimiter::Options{}};
  // What the operator asked gRPC to print (GRPC_VERBOSITY); gRPC itself is set to pass
  // ERROR lines at least, so that a failed accept is seen even with GRPC_VERBOSITY=NONE.
  // Written once by InstallGrpcLog, before the log function is installed.
  std::atomic<int> min_severity_to_print{GPR_LOG_SEVERITY_ERROR};
  absl::Mutex mu;
  std::function<void()> on_accept_failure ABSL_GUARDED_BY(mu);
};

// Never destroyed: gRPC may log from its threads while the process exits.
GrpcLogState& State() {
  static GrpcLogState* const state = new GrpcLogState;
  return *state;
}

void Print(const std::vector<std::string>& lines, absl::string_view prefix = kPrefix) {
  for (const std::string& line : lines) {
    std::fprintf(stderr, "%.*s%s\n", static_cast<int>(prefix.size()), prefix.data(), line.c_str());
  }
  if (!lines.empty()) std::fflush(stderr);
}

absl::string_view Basename(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

void LogFunction(gpr_log_func_args* args) {
  GrpcLogState& state = State();
  const absl::string_view message = args->message != nullptr ? args->message : "";
  if (absl::StartsWith(message, "Failed accept4")) {
    // Called under the lock, so that once SetGrpcAcceptFailureCallback returned, the old
    // callback (and what it captured) is no longer in use.
    absl::MutexLock lock(&state.mu);
    if (state.on_accept_failure) state.on_accept_failure();
  }
  if (static_cast<int>(args->severity) < state.min_severity_to_print.load()) return;
  const std::string site =
      absl::StrCat(Basename(args->file != nullptr ? args->file : "?"), ":", args->line);
  Print(state.limiter.Admit(
      site, absl::StrCat(gpr_log_severity_string(args->severity), " ", site, "] ", message)));
}

}  // namespace

std::vector<std::string> GrpcLogLimiter::Admit(absl::string_view site, absl::string_view text) {
  const absl::Time now = clock_();
  std::vector<std::string> lines;
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = sites_.try_emplace(site);
  Site& entry = it->second;
  if (inserted || now - entry.window_start >= options_.window) {
    if (entry.suppressed > 0) lines.push_back(Summary(site, entry.suppressed));
    entry = Site{now, 0, 0};
  }
  if (entry.printed < options_.max_lines) {
    ++entry.printed;
    lines.emplace_back(text);
  } else {
    ++entry.suppressed;
  }
  return lines;
}

std::vector<std::string> GrpcLogLimiter::TakeExpiredSummaries() {
  const absl::Time now = clock_();
  std::vector<std::string> lines;
  absl::MutexLock lock(&mu_);
  for (auto it = sites_.begin(); it != sites_.end();) {
    if (now - it->second.window_start < options_.window) {
      ++it;
      continue;
    }
    if (it->second.suppressed > 0) lines.push_back(Summary(it->first, it->second.suppressed));
    sites_.erase(it++);
  }
  return lines;
}

std::string GrpcLogLimiter::Summary(absl::string_view site, size_t suppressed) const {
  return absl::StrCat("suppressed ", suppressed, " more line", suppressed == 1 ? "" : "s", " from ",
                      site, " (at most ", options_.max_lines, " per ",
                      absl::FormatDuration(options_.window), ")");
}

namespace {

// GRPC_VERBOSITY as gRPC reads it: DEBUG, INFO, ERROR (the default) or NONE.
int SeverityFromEnvironment() {
  const char* verbosity = std::getenv("GRPC_VERBOSITY");
  if (verbosity == nullptr) return GPR_LOG_SEVERITY_ERROR;
  if (absl::EqualsIgnoreCase(verbosity, "DEBUG")) return GPR_LOG_SEVERITY_DEBUG;
  if (absl::EqualsIgnoreCase(verbosity, "INFO")) return GPR_LOG_SEVERITY_INFO;
  if (absl::EqualsIgnoreCase(verbosity, "NONE")) return GPR_LOG_SEVERITY_ERROR + 1;
  return GPR_LOG_SEVERITY_ERROR;
}

// protobuf logs an ERROR line for every string that is not UTF-8 it parses or
// serializes; ingest expects such strings (ingest.invalid_utf8), so a client could
// otherwise write a line to stderr per record.
void ProtobufLogHandler(google::protobuf::LogLevel level, const char* filename, int line,
                        const std::string& message) {
  static constexpr const char* kLevelNames[] = {"INFO", "WARNING", "ERROR", "FATAL"};
  const std::string site = absl::StrCat(Basename(filename != nullptr ? filename : "?"), ":", line);
  Print(State().limiter.Admit(absl::StrCat("protobuf/", site),
                              absl::StrCat(kLevelNames[std::clamp(static_cast<int>(level), 0, 3)],
                                           " ", site, "] ", message)),
        kProtobufPrefix);
}

}  // namespace

void InstallGrpcLog() {
  google::protobuf::SetLogHandler(&ProtobufLogHandler);
  GrpcLogState& state = State();
  const int wanted = SeverityFromEnvironment();
  state.min_severity_to_print.store(wanted);
  gpr_set_log_verbosity(
      static_cast<gpr_log_severity>(std::min<int>(wanted, GPR_LOG_SEVERITY_ERROR)));
  gpr_set_log_function(&LogFunction);
}

void FlushGrpcLogSummaries() { Print(State().limiter.TakeExpiredSummaries()); }

void SetGrpcAcceptFailureCallback(std::function<void()> callback) {
  GrpcLogState& state = State();
  absl::MutexLock lock(&state.mu);
  state.on_accept_failure = std::move(callback);
}

}  // namespace sluice::app
