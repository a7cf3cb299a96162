// The HTTP side of the clickhouse output as pure functions: which URL an INSERT goes to,
// the CREATE TABLE statement of the documented table, gzip of a request body, and which
// absl::Status a response is.
//
// Who calls it: ClickHouseOutput (clickhouse_output.h), once at creation for the URLs and
// statement, then on its sender's thread for every request; its tests check each piece on
// its own. Thread-safe: no state.
#ifndef SLUICE_SERVER_OUTPUTS_CLICKHOUSE_CLICKHOUSE_HTTP_H_
#define SLUICE_SERVER_OUTPUTS_CLICKHOUSE_CLICKHOUSE_HTTP_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sluice::outputs {

// OK for an http:// or https:// URL with a host, no user info (credentials come from
// `user` and `password_file`, so a URL in a message never carries them), no fragment and
// no spaces or control characters; otherwise what is wrong, for the caller to prefix with the key
// path.
absl::Status ValidateClickHouseUrl(absl::string_view url);

// OK for a name the statements can use unquoted: [A-Za-z_][A-Za-z0-9_]*.
absl::Status ValidateIdentifier(absl::string_view name);

// `url` with a path ("/" when it has none) and its query extended by the INSERT of
// JSONEachRow rows into `database`.`table`, with input_format_skip_unknown_fields=1 so
// that a table without some of the documented columns takes the rest.
std::string InsertUrl(absl::string_view url, absl::string_view database, absl::string_view table);

// `url` with a path, for requests whose statement is the body (CREATE TABLE).
std::string StatementUrl(absl::string_view url);

// CREATE TABLE IF NOT EXISTS of the documented table (docs/CONFIG.md, `clickhouse`).
std::string CreateTableStatement(absl::string_view database, absl::string_view table);

// `text` percent-encoded for a URL's query: everything but [A-Za-z0-9-._~].
std::string PercentEncode(absl::string_view text);

// `body` as one gzip member (zlib level 1, no name, mtime 0): the same body always
// compresses to the same bytes, so a retried insert is byte-identical.
std::string Gzip(absl::string_view body);

// The status of a request answered with HTTP `code` and `body` (ClickHouse's error text);
// `context` starts the message ("clickhouse/main: INSERT into default.logs"). 2xx is OK;
// 5xx, 408 and 429 are UNAVAILABLE (retried); 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED,
// 403 PERMISSION_DENIED, 404 NOT_FOUND (no such table or database), 413
// RESOURCE_EXHAUSTED, any other code FAILED_PRECONDITION: permanent. The message carries
// the code and the first line of the body.
absl::Status StatusForResponse(long code, absl::string_view body, absl::string_view context);

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_CLICKHOUSE_CLICKHOUSE_HTTP_H_
