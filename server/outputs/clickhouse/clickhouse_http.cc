#include "server/outputs/clickhouse/clickhouse_http.h"

#include <zlib.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace sluice::outputs {
namespace {

// How much of an error body goes into a message: ClickHouse's first line is short, and a
// proxy's HTML page should not fill the log.
constexpr size_t kMaxErrorText = 512;

// `url` split where its query starts (at '?', or its end).
struct UrlParts {
  absl::string_view before_query;
  absl::string_view query;  // without the '?'
};

UrlParts SplitQuery(absl::string_view url) {
  const size_t question = url.find('?');
  if (question == absl::string_view::npos) return {url, {}};
  return {url.substr(0, question), url.substr(question + 1)};
}

// scheme://authority[/path] with "/" added when there is no path.
std::string WithPath(absl::string_view before_query) {
  const size_t authority = before_query.find("://");
  const size_t slash =
      before_query.find('/', authority == absl::string_view::npos ? 0 : authority + 3);
  return slash == absl::string_view::npos ? absl::StrCat(before_query, "/")
                                          : std::string(before_query);
}

}  // namespace

absl::Status ValidateClickHouseUrl(absl::string_view url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "http://") && !absl::ConsumePrefix(&rest, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("must start with http:// or https://, got \"", url, "\""));
  }
  const absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty()) return absl::InvalidArgumentError("has no host");
  if (absl::StrContains(authority, '@')) {
    return absl::InvalidArgumentError(
        "must not carry credentials; set `user` and `password_file` instead");
  }
  if (absl::StrContains(url, '#')) return absl::InvalidArgumentError("must not have a fragment");
  if (std::any_of(url.begin(), url.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= ' '; })) {
    return absl::InvalidArgumentError("must not hold spaces or control characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateIdentifier(absl::string_view name) {
  const bool ok = !name.empty() && !absl::ascii_isdigit(static_cast<unsigned char>(name[0])) &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
                  });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "must be a plain identifier (letters, digits, '_'; not starting with a digit), got \"", name,
      "\""));
}

std::string PercentEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.append({'%', kHex[c >> 4], kHex[c & 0xF]});
    }
  }
  return out;
}

std::string InsertUrl(absl::string_view url, absl::string_view database, absl::string_view table) {
  const UrlParts parts = SplitQuery(url);
  const std::string statement =
      absl::StrCat("INSERT INTO ", database, ".", table, " FORMAT JSONEachRow");
  return absl::StrCat(WithPath(parts.before_query), "?", parts.query,
                      parts.query.empty() ? "" : "&", "query=", PercentEncode(statement),
                      "&input_format_skip_unknown_fields=1");
}

std::string StatementUrl(absl::string_view url) {
  const UrlParts parts = SplitQuery(url);
  std::string out = WithPath(parts.before_query);
  if (!parts.query.empty()) absl::StrAppend(&out, "?", parts.query);
  return out;
}

std::string CreateTableStatement(absl::string_view database, absl::string_view table) {
  return absl::StrCat(
      "CREATE TABLE IF NOT EXISTS ", database, ".", table,
      " (time DateTime, time_ns UInt64, level Enum8('TRACE' = 1, 'DEBUG' = 2, 'INFO' = 3, "
      "'WARN' = 4, 'ERROR' = 5, 'FATAL' = 6), logger String, message String, trace_id String, "
      "span_id String, fields Nested(key String, value String)) ENGINE = MergeTree "
      "PARTITION BY toYYYYMMDD(time) ORDER BY (logger, time)");
}

std::string Gzip(absl::string_view body) {
  z_stream stream{};
  // 15 window bits plus 16: a gzip header, whose mtime zlib leaves 0.
  deflateInit2(&stream, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, body.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  stream.avail_in = static_cast<uInt>(body.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  // deflateBound leaves room for all of it, so one call finishes.
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

absl::Status StatusForResponse(long code, absl::string_view body, absl::string_view context) {
  if (code >= 200 && code < 300) return absl::OkStatus();
  absl::string_view first_line = body.substr(0, body.find('\n'));
  first_line = absl::StripAsciiWhitespace(first_line.substr(0, kMaxErrorText));
  const std::string message =
      absl::StrCat(context, ": HTTP ", code, first_line.empty() ? "" : ": ", first_line);
  if (code >= 500 || code == 408 || code == 429) return absl::UnavailableError(message);
  switch (code) {
    case 400:
      return absl::InvalidArgumentError(message);
    case 401:
      return absl::UnauthenticatedError(message);
    case 403:
      return absl::PermissionDeniedError(message);
    case 404:
      return absl::NotFoundError(message);
    case 413:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::FailedPreconditionError(message);
  }
}

}  // namespace sluice::outputs
