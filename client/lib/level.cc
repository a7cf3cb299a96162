#include "sluice/level.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sluice {

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace:
      return "TRACE";
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarn:
      return "WARN";
    case Level::kError:
      return "ERROR";
    case Level::kFatal:
      return "FATAL";
  }
  return "UNKNOWN";
}

absl::string_view LevelKeyword(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kFatal:
      return "fatal";
  }
  return "unknown";
}

absl::StatusOr<Level> ParseLevel(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (Level level : kAllLevels) {
    if (lower == LevelKeyword(level)) return level;
  }
  if (lower == "warning") return Level::kWarn;
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid level \"", text, "\": expected one of trace, debug, info, warn, error, fatal"));
}

absl::StatusOr<Level> LevelFromProto(int proto_level) {
  if (proto_level == v1::LEVEL_UNSPECIFIED) return Level::kInfo;
  if (proto_level >= v1::LEVEL_TRACE && proto_level <= v1::LEVEL_FATAL) {
    return static_cast<Level>(proto_level);
  }
  return absl::InvalidArgumentError(absl::StrCat("invalid level value ", proto_level));
}

absl::string_view ProtoLevelName(int proto_level) {
  absl::StatusOr<Level> level = LevelFromProto(proto_level);
  return level.ok() ? LevelName(*level) : "UNKNOWN";
}

absl::Status ValidateLoggerPrefix(absl::string_view prefix) {
  if (prefix.empty()) return absl::InvalidArgumentError("a logger prefix must not be empty");
  for (char c : prefix) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return absl::InvalidArgumentError(
          absl::StrCat("a logger prefix must be made of letters, digits, '_', '-' and '.'; \"",
                       prefix, "\" is not"));
    }
  }
  if (prefix.front() == '.' || prefix.back() == '.' || absl::StrContains(prefix, "..")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a logger prefix must not start or end with '.' or contain \"..\"; \"", prefix, "\" does"));
  }
  return absl::OkStatus();
}

}  // namespace sluice
