// The clickhouse output: inserts each batch into a ClickHouse table over its HTTP interface,
// one request per batch, as JSONEachRow rows (ClickHouseRowEncoder) — written for
// ClickHouse 18.16 (Debian 12's), so no DateTime64, Map or insert_deduplication_token.
//
//   outputs:
//     - type: clickhouse
//       name: main
//       url: "http://clickhouse:8123"   # required; http:// or https://, no credentials
//       database: default
//       table: logs                      # required
//       user: sluice                     # optional; sent as X-ClickHouse-User
//       password_file: /run/secrets/ch   # optional; its content, as X-ClickHouse-Key
//       create_table: false              # true: CREATE TABLE IF NOT EXISTS before inserting
//       timeout: 10s                     # per request, connecting included
//       compression: gzip                # gzip (Content-Encoding: gzip) | none
//
// Write() sends `INSERT INTO <database>.<table> FORMAT JSONEachRow` with one row per
// routed record and returns once ClickHouse answered, so a record is written (and, as
// there is no buffer here, flushed) when ClickHouse has taken it; Flush() has nothing to
// do. What Write() returns: OK for HTTP 2xx; UNAVAILABLE — retried by the output's sender
// with backoff — when there is no answer (refused, reset, DNS, TLS, `timeout`) and for
// HTTP 5xx, 408 and 429; a permanent code for the other answers (clickhouse_http.h:
// StatusForResponse), so a batch a missing table or bad credentials refuse is dropped for
// this output. Messages carry ClickHouse's first error line, never the password; failures
// are also logged on stderr, at most every 10 s.
//
// Retries and duplicates: a retried batch is sent byte for byte as before (the lines are
// formatted once per batch and gzip is deterministic), so a Replicated*MergeTree table's
// block deduplication drops an insert that had landed though its answer was lost. A plain
// MergeTree keeps both: delivery is at-least-once.
//
// create_table: Start() never talks to ClickHouse, so a server that is down at start-up
// fails no start. With `create_table: true` the first Write() first sends the documented
// CREATE TABLE IF NOT EXISTS; its failure is that Write's, retried the same way, until it
// has succeeded once.
//
// Memory: a request body is one batch's rows (and their gzip); at most 512 bytes of an
// answer are kept. Not safe to call concurrently; SerializedOutput serialises the calls,
// and the one libcurl handle keeps its connection alive between them.
#ifndef SLUICE_SERVER_OUTPUTS_CLICKHOUSE_CLICKHOUSE_OUTPUT_H_
#define SLUICE_SERVER_OUTPUTS_CLICKHOUSE_CLICKHOUSE_OUTPUT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"
#include "server/outputs/output.h"
#include "server/outputs/output_registry.h"
#include "server/outputs/serialized_output.h"

namespace sluice::outputs {

struct ClickHouseOutputConfig {
  enum class Compression { kNone, kGzip };

  static constexpr absl::Duration kMinTimeout = absl::Milliseconds(10);
  static constexpr absl::Duration kMaxTimeout = absl::Minutes(10);

  std::string url;
  std::string database = "default";
  std::string table;
  std::string user;
  std::string password_file;
  bool create_table = false;
  absl::Duration timeout = absl::Seconds(10);
  Compression compression = Compression::kGzip;

  // Reads and validates an output block (`path` is where it is in the config, e.g.
  // "outputs[0]"); errors name the key path.
  static absl::StatusOr<ClickHouseOutputConfig> Parse(const YAML::Node& block,
                                                      absl::string_view path);
};

class ClickHouseOutput final : public SerializedOutput {
 public:
  // `rows` is the clickhouse_row encoding's id in the pipeline's registry. `metrics`, when
  // not null, gets sluice_output_http_requests_total{output,code}.
  ClickHouseOutput(std::string id, ClickHouseOutputConfig config, EncodingId rows,
                   prometheus::Registry* metrics = nullptr);
  ~ClickHouseOutput() override;

  std::optional<EncodingId> encoding() const override { return rows_; }

 protected:
  // Reads the password file and sets up the libcurl handle; no request yet.
  absl::Status StartLocked() override;
  absl::Status WriteLocked(OutputBatch& batch) override;
  // Every Write already waited for ClickHouse's answer: nothing is pending.
  absl::Status FlushLocked(absl::Time deadline) override;
  absl::Status ShutdownLocked(absl::Time deadline) override;

 private:
  struct Curl;

  // POSTs `body` to `url` and maps the outcome to a status; `what` names the request in
  // messages ("INSERT into default.logs").
  absl::Status PostLocked(const std::string& url, absl::string_view body, bool gzip,
                          absl::string_view what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Counts a request under its HTTP code ("none": no answer).
  void CountLocked(long code) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Logs `failure` on stderr unless one was logged less than 10 s ago.
  void ReportLocked(const absl::Status& failure) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());

  const ClickHouseOutputConfig config_;
  const EncodingId rows_;
  const std::string insert_url_;
  const std::string statement_url_;
  const std::string table_name_;  // database.table, for messages
  std::unique_ptr<Curl> curl_ ABSL_GUARDED_BY(mutex());
  bool table_ready_ ABSL_GUARDED_BY(mutex()) = false;
  absl::Time last_report_ ABSL_GUARDED_BY(mutex()) = absl::InfinitePast();
  uint64_t unreported_failures_ ABSL_GUARDED_BY(mutex()) = 0;
  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  // Labelled counters of requests_, added at a code's first request.
  absl::flat_hash_map<long, prometheus::Counter*> requests_by_code_ ABSL_GUARDED_BY(mutex());
};

class ClickHouseOutputFactory final : public OutputFactory {
 public:
  absl::string_view type() const override { return "clickhouse"; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Output>> Create(absl::string_view id, const YAML::Node& config,
                                                 OutputContext& context) const override;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_CLICKHOUSE_CLICKHOUSE_OUTPUT_H_
