#include "client/cli/send_command.h"

#include <algorithm>
#include <iostream>
#include <optional>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "client/cli/connection.h"
#include "client/cli/flags.h"
#include "client/cli/usage.h"
#include "sluice/client.h"
#include "sluice/level.h"

namespace sluice::cli {
namespace {

// How often the wait for acknowledgements looks whether the server was unreachable.
constexpr absl::Duration kPollInterval = absl::Milliseconds(50);
// Lines read from standard input between two flushes: half the client's buffer, so a
// fast producer waits for the server instead of overflowing the buffer (which drops).
constexpr size_t kLinesPerFlush = 50000;

// A record template: everything but the message.
struct Template {
  v1::Level level = v1::LEVEL_INFO;
  std::string logger;
  std::vector<std::pair<std::string, std::string>> fields;
};

absl::StatusOr<Template> ParseTemplate(absl::Span<const std::string> fields) {
  Template result;
  absl::StatusOr<Level> level = ParseLevel(absl::GetFlag(FLAGS_level));
  if (!level.ok()) return level.status();
  result.level = LevelToProto(*level);
  result.logger = absl::GetFlag(FLAGS_logger);
  for (const std::string& field : fields) {
    const size_t equals = field.find('=');
    if (equals == std::string::npos || equals == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--field \"", field, "\": expected key=value with a non-empty key"));
    }
    result.fields.emplace_back(field.substr(0, equals), field.substr(equals + 1));
  }
  return result;
}

void LogLine(Client& client, const Template& record_template, absl::string_view message) {
  v1::LogRecord record;
  record.set_level(record_template.level);
  record.set_logger(record_template.logger);
  record.set_message(message.data(), message.size());
  for (const auto& [key, value] : record_template.fields) {
    v1::Field* field = record.add_fields();
    field->set_key(key);
    field->set_string_value(value);
  }
  client.Log(std::move(record));
}

// Flush(), but gives up early when no stream ever got through: a command-line user wants
// to hear at once that the server is down, not after --timeout.
absl::Status AwaitAcks(Client& client, const std::string& target, absl::Time deadline) {
  while (true) {
    absl::Status flushed = client.Flush(std::min(deadline, absl::Now() + kPollInterval));
    if (flushed.ok()) return flushed;
    const ClientStats stats = client.stats();
    // Neither goes away by waiting: the server is down, or it refuses this client.
    const absl::StatusCode code = stats.last_stream_error.code();
    if (stats.acked_records == 0 &&
        (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kUnauthenticated ||
         code == absl::StatusCode::kPermissionDenied)) {
      return absl::Status(
          code,
          absl::StrCat(code == absl::StatusCode::kUnavailable ? "cannot reach " : "refused by ",
                       target, ": ", stats.last_stream_error.message()));
    }
    if (absl::Now() >= deadline) return flushed;
  }
}

}  // namespace

int RunSend(absl::Span<const std::string> args, absl::Span<const std::string> fields) {
  if (!args.empty()) return UsageError(absl::StrCat("send: unexpected argument \"", args[0], "\""));
  absl::StatusOr<Template> record_template = ParseTemplate(fields);
  if (!record_template.ok()) return UsageError(record_template.status().message());

  ClientOptions options;
  ConfigureClient(options);
  options.max_buffered_records = 2 * kLinesPerFlush;
  // Every record is awaited below; by the time the client closes there is nothing left.
  options.close_timeout = absl::ZeroDuration();
  const absl::Duration timeout = absl::GetFlag(FLAGS_timeout);
  Client client(options);

  absl::Status status;
  if (const std::optional<std::string> message = absl::GetFlag(FLAGS_message)) {
    LogLine(client, *record_template, *message);
  } else {
    std::string line;
    size_t lines = 0;
    while (status.ok() && std::getline(std::cin, line)) {
      LogLine(client, *record_template, line);
      if (++lines % kLinesPerFlush == 0) {
        status = AwaitAcks(client, options.target, absl::Now() + timeout);
      }
    }
  }
  if (status.ok()) status = AwaitAcks(client, options.target, absl::Now() + timeout);
  if (!status.ok()) {
    absl::FPrintF(stderr, "sluice: %s\n", status.message());
    return ExitCodeFor(status.code());
  }

  const ClientStats stats = client.stats();
  absl::PrintF("sent %d record%s (accepted %d, filtered %d, dropped %d, rejected %d)\n",
               stats.logged, stats.logged == 1 ? "" : "s", stats.server_accepted,
               stats.server_filtered, stats.server_dropped, stats.server_rejected);
  if (stats.server_rejected > 0) {
    absl::FPrintF(stderr, "sluice: the server rejected %d record%s: %s\n", stats.server_rejected,
                  stats.server_rejected == 1 ? "" : "s", stats.last_rejection);
  }
  return kExitOk;
}

}  // namespace sluice::cli
