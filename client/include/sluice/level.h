// Log levels and their spellings, shared by the whole of Sluice: the `sluice` command
// (parsing `sluice level set` and `sluice send --level`), the client library and the server
// (config, the level table and gate, ingest, the formatters). Library `sluice_level`, which
// needs only the generated protos and Abseil, so client code links it without the server.
//
// The numeric values match sluice.v1.Level, so converting from the wire is a cast after
// mapping LEVEL_UNSPECIFIED to INFO.
#ifndef SLUICE_CLIENT_INCLUDE_SLUICE_LEVEL_H_
#define SLUICE_CLIENT_INCLUDE_SLUICE_LEVEL_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sluice/v1/logs.pb.h"

namespace sluice {

enum class Level : uint8_t {
  kTrace = 1,
  kDebug = 2,
  kInfo = 3,
  kWarn = 4,
  kError = 5,
  kFatal = 6,
};

inline constexpr Level kAllLevels[] = {Level::kTrace, Level::kDebug, Level::kInfo,
                                       Level::kWarn,  Level::kError, Level::kFatal};

// "TRACE", "DEBUG", ... as written into outputs.
absl::string_view LevelName(Level level);

// Lower-case spelling used in config files and on the command line: "trace", "debug", ...
absl::string_view LevelKeyword(Level level);

// Accepts the level names in any case, plus "warning" for WARN. Anything else is
// INVALID_ARGUMENT naming the accepted spellings.
absl::StatusOr<Level> ParseLevel(absl::string_view text);

// LEVEL_UNSPECIFIED means INFO; values outside the enum are INVALID_ARGUMENT.
absl::StatusOr<Level> LevelFromProto(int proto_level);

// LevelName of a wire value, for printing what a server sent: "UNKNOWN" outside the enum.
absl::string_view ProtoLevelName(int proto_level);

// The level a record is handled at, once ingest admitted it: LEVEL_UNSPECIFIED is INFO, and
// so is a value outside the enum, which ingest rejects but which must not crash a worker
// should one get past it. Inline, without a Status, because the pipeline and the outputs
// ask it several times for every record.
inline Level RecordLevel(const v1::LogRecord& record) {
  const int level = record.level();
  if (level < static_cast<int>(Level::kTrace) || level > static_cast<int>(Level::kFatal)) {
    return Level::kInfo;
  }
  return static_cast<Level>(level);
}

inline v1::Level LevelToProto(Level level) { return static_cast<v1::Level>(level); }

// Level rules are keyed by dotted logger-name prefixes: letters, digits, '_', '-' and '.',
// with no empty name segment (no leading, trailing or double '.'). One check for the
// config file and the admin RPC alike; INVALID_ARGUMENT saying which part is wrong.
absl::Status ValidateLoggerPrefix(absl::string_view prefix);

}  // namespace sluice

#endif  // SLUICE_CLIENT_INCLUDE_SLUICE_LEVEL_H_
