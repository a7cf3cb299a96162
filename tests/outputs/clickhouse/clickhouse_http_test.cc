#include "server/outputs/clickhouse/clickhouse_http.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tests/outputs/output_test_util.h"

namespace sluice::outputs {
namespace {

TEST(ClickHouseHttpTest, InsertUrlAddsAPathAndTheEncodedStatement) {
  EXPECT_EQ(InsertUrl("http://ch:8123", "default", "logs"),
            "http://ch:8123/?query=INSERT%20INTO%20default.logs%20FORMAT%20JSONEachRow"
            "&input_format_skip_unknown_fields=1");
}

TEST(ClickHouseHttpTest, InsertUrlKeepsThePathAndQueryOfTheConfiguredUrl) {
  EXPECT_EQ(InsertUrl("https://proxy/clickhouse/?insert_quorum=2", "db", "t"),
            "https://proxy/clickhouse/?insert_quorum=2&query=INSERT%20INTO%20db.t%20FORMAT%20"
            "JSONEachRow&input_format_skip_unknown_fields=1");
}

TEST(ClickHouseHttpTest, StatementUrlHasAPathAndTheConfiguredQuery) {
  EXPECT_EQ(StatementUrl("http://ch:8123"), "http://ch:8123/");
  EXPECT_EQ(StatementUrl("http://ch:8123/x?a=1"), "http://ch:8123/x?a=1");
}

TEST(ClickHouseHttpTest, PercentEncodeKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("a-Z_0.~ &=?/%'\xc3\xa9"), "a-Z_0.~%20%26%3D%3F%2F%25%27%C3%A9");
}

TEST(ClickHouseHttpTest, CreateTableStatementIsTheDocumentedTable) {
  EXPECT_EQ(CreateTableStatement("db", "logs"),
            "CREATE TABLE IF NOT EXISTS db.logs (time DateTime, time_ns UInt64, level "
            "Enum8('TRACE' = 1, 'DEBUG' = 2, 'INFO' = 3, 'WARN' = 4, 'ERROR' = 5, 'FATAL' = 6), "
            "logger String, message String, trace_id String, span_id String, fields "
            "Nested(key String, value String)) ENGINE = MergeTree PARTITION BY "
            "toYYYYMMDD(time) ORDER BY (logger, time)");
}

TEST(ClickHouseHttpTest, UrlsWithCredentialsOrWithoutHttpAreRefused) {
  EXPECT_TRUE(ValidateClickHouseUrl("http://127.0.0.1:8123").ok());
  EXPECT_TRUE(ValidateClickHouseUrl("https://ch.example/path?x=1").ok());
  EXPECT_FALSE(ValidateClickHouseUrl("ch:8123").ok());
  EXPECT_FALSE(ValidateClickHouseUrl("ftp://ch").ok());
  EXPECT_FALSE(ValidateClickHouseUrl("http://").ok());
  EXPECT_FALSE(ValidateClickHouseUrl("http://#x").ok());
  EXPECT_FALSE(ValidateClickHouseUrl("http://ch/#part").ok());
  EXPECT_FALSE(ValidateClickHouseUrl("http://ch/a b").ok());
  EXPECT_FALSE(ValidateClickHouseUrl("http://ch/\r\nX: y").ok());
  const absl::Status credentials = ValidateClickHouseUrl("http://u:secret@ch:8123");
  EXPECT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.message().find("secret"), absl::string_view::npos) << credentials;
}

TEST(ClickHouseHttpTest, IdentifiersArePlainNames) {
  EXPECT_TRUE(ValidateIdentifier("logs_2").ok());
  EXPECT_TRUE(ValidateIdentifier("_x").ok());
  EXPECT_FALSE(ValidateIdentifier("").ok());
  EXPECT_FALSE(ValidateIdentifier("2logs").ok());
  EXPECT_FALSE(ValidateIdentifier("logs; DROP TABLE x").ok());
  EXPECT_FALSE(ValidateIdentifier("db.logs").ok());
}

TEST(ClickHouseHttpTest, GzipRoundTripsAndIsTheSameEveryTime) {
  const std::string body(100000, 'x');
  const std::string gzipped = Gzip(body);
  EXPECT_LT(gzipped.size(), body.size() / 10);
  EXPECT_EQ(Gunzip(gzipped), body);
  EXPECT_EQ(Gzip(body), gzipped);
  EXPECT_EQ(Gunzip(Gzip("")), "");
}

TEST(ClickHouseHttpTest, SuccessIsOk) {
  EXPECT_TRUE(StatusForResponse(200, "", "c").ok());
  EXPECT_TRUE(StatusForResponse(204, "", "c").ok());
}

TEST(ClickHouseHttpTest, ServerErrorsAndThrottlingAreTransient) {
  for (const long code : {500L, 502L, 503L, 504L, 408L, 429L}) {
    EXPECT_EQ(StatusForResponse(code, "", "c").code(), absl::StatusCode::kUnavailable) << code;
  }
}

TEST(ClickHouseHttpTest, ClientErrorsArePermanentWithTheirCode) {
  EXPECT_EQ(StatusForResponse(400, "", "c").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusForResponse(401, "", "c").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(StatusForResponse(403, "", "c").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusForResponse(404, "", "c").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusForResponse(413, "", "c").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusForResponse(422, "", "c").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusForResponse(302, "", "c").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ClickHouseHttpTest, TheMessageCarriesTheCodeAndTheFirstLineOfTheAnswer) {
  const absl::Status status = StatusForResponse(
      400,
      "Code: 41, e.displayText() = DB::Exception: Cannot parse datetime: (at row 1)\n"
      ", e.what() = DB::Exception\n",
      "clickhouse/main: INSERT into default.logs");
  EXPECT_EQ(status.message(),
            "clickhouse/main: INSERT into default.logs: HTTP 400: Code: 41, e.displayText() = "
            "DB::Exception: Cannot parse datetime: (at row 1)");
  EXPECT_EQ(StatusForResponse(502, "", "c").message(), "c: HTTP 502");
  EXPECT_LE(StatusForResponse(500, std::string(100000, 'x'), "c").message().size(), 600u);
}

}  // namespace
}  // namespace sluice::outputs
