#include "server/outputs/clickhouse/clickhouse_output.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"
#include "server/config/yaml_reader.h"
#include "server/outputs/clickhouse/clickhouse_http.h"
#include "server/outputs/clickhouse/clickhouse_row_encoder.h"
#include "server/outputs/encoders/encoder_util.h"

namespace sluice::outputs {
namespace {

constexpr absl::Duration kFailureReportInterval = absl::Seconds(10);
// Bytes of an answer kept: enough for ClickHouse's error line, bounded for anything else.
constexpr size_t kMaxAnswerBytes = 4096;

const config::KeyTable<ClickHouseOutputConfig>& Keys() {
  using S = ClickHouseOutputConfig;
  static const config::KeyTable<S>* const table = new config::KeyTable<S>{
      config::StringKey("url", &S::url, config::StringRule::kRequired,
                        "ClickHouse's HTTP interface, `http://host:8123` or `https://...`; a "
                        "query string (`?insert_quorum=2`) is kept and sent with every insert. "
                        "No credentials: see `user` and `password_file`."),
      config::StringKey("database", &S::database, config::StringRule::kNonEmpty,
                        "The database of `table`: letters, digits and `_`."),
      config::StringKey("table", &S::table, config::StringRule::kRequired,
                        "The table rows are inserted into, with the columns of the documented "
                        "table (below) or some of them: letters, digits and `_`."),
      config::WithDefaultText(
          config::StringKey("user", &S::user, config::StringRule::kAny,
                            "The ClickHouse user (`X-ClickHouse-User`); not given: `default` "
                            "with a password, else no credentials are sent."),
          "none"),
      config::WithDefaultText(
          config::StringKey("password_file", &S::password_file, config::StringRule::kAny,
                            "A file holding the user's password (`X-ClickHouse-Key`), read at "
                            "start; trailing whitespace is ignored. Never logged."),
          "none"),
      config::ChoiceKey<S, bool>("create_table", &S::create_table,
                                 {{"false", false}, {"true", true}},
                                 "`true`: the first insert is preceded by CREATE TABLE IF NOT "
                                 "EXISTS of the documented table, retried like an insert."),
      config::DurationKey("timeout", &S::timeout, S::kMinTimeout, S::kMaxTimeout,
                          "Per request, connecting included; past it the batch is retried "
                          "(UNAVAILABLE)."),
      config::ChoiceKey<S, S::Compression>(
          "compression", &S::compression,
          {{"gzip", S::Compression::kGzip}, {"none", S::Compression::kNone}},
          "`gzip`: request bodies are gzipped (`Content-Encoding: gzip`)."),
  };
  return *table;
}

size_t KeepAnswer(char* data, size_t size, size_t count, void* answer) {
  auto* kept = static_cast<std::string*>(answer);
  const size_t bytes = size * count;
  if (kept->size() < kMaxAnswerBytes) {
    kept->append(data, std::min(bytes, kMaxAnswerBytes - kept->size()));
  }
  // The rest is read and let go: a short count would abort the transfer.
  return bytes;
}

}  // namespace

struct ClickHouseOutput::Curl {
  ~Curl() {
    if (handle != nullptr) curl_easy_cleanup(handle);
    curl_slist_free_all(headers);
    curl_slist_free_all(gzip_headers);
  }

  CURL* handle = nullptr;
  // Credentials and "Expect:" (no 100-continue round trip); gzip_headers adds the
  // Content-Encoding.
  curl_slist* headers = nullptr;
  curl_slist* gzip_headers = nullptr;
  std::string answer;
  char error[CURL_ERROR_SIZE] = {};
};

absl::StatusOr<ClickHouseOutputConfig> ClickHouseOutputConfig::Parse(const YAML::Node& block,
                                                                     absl::string_view path) {
  ClickHouseOutputConfig parsed;
  if (absl::Status status = Keys().Read(block, path, parsed, kCommonOutputKeys); !status.ok()) {
    return status;
  }
  if (absl::Status status = ValidateClickHouseUrl(parsed.url); !status.ok()) {
    return config::KeyError(config::ChildPath(path, "url"), status.message());
  }
  if (HasControlByte(parsed.user)) {
    return config::KeyError(config::ChildPath(path, "user"), "must not hold control characters");
  }
  if (absl::Status status = ValidateIdentifier(parsed.database); !status.ok()) {
    return config::KeyError(config::ChildPath(path, "database"), status.message());
  }
  if (absl::Status status = ValidateIdentifier(parsed.table); !status.ok()) {
    return config::KeyError(config::ChildPath(path, "table"), status.message());
  }
  return parsed;
}

ClickHouseOutput::ClickHouseOutput(std::string id, ClickHouseOutputConfig config, EncodingId rows,
                                   prometheus::Registry* metrics)
    : SerializedOutput(std::move(id)),
      config_(std::move(config)),
      rows_(rows),
      insert_url_(InsertUrl(config_.url, config_.database, config_.table)),
      statement_url_(StatementUrl(config_.url)),
      table_name_(absl::StrCat(config_.database, ".", config_.table)) {
  if (metrics != nullptr) {
    requests_ = &prometheus::BuildCounter()
                     .Name("sluice_output_http_requests_total")
                     .Help(
                         "HTTP requests an output sent, by the answer's status code (none: "
                         "no answer)")
                     .Register(*metrics);
  }
}

ClickHouseOutput::~ClickHouseOutput() { Shutdown(absl::Now()).IgnoreError(); }

absl::Status ClickHouseOutput::StartLocked() {
  static std::once_flag curl_initialized;
  std::call_once(curl_initialized, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  std::string password;
  if (!config_.password_file.empty()) {
    std::ifstream in(config_.password_file, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    if (!in) {
      return absl::FailedPreconditionError(
          absl::StrCat(id(), ": cannot read password_file \"", config_.password_file, "\""));
    }
    password = std::string(absl::StripTrailingAsciiWhitespace(content.str()));
    // The password goes into a header line, which a line break would end early.
    if (HasControlByte(password)) {
      return absl::FailedPreconditionError(absl::StrCat(
          id(), ": password_file \"", config_.password_file, "\" holds a control character"));
    }
  }
  auto curl = std::make_unique<Curl>();
  curl->handle = curl_easy_init();
  if (curl->handle == nullptr) return absl::InternalError(absl::StrCat(id(), ": curl_easy_init"));
  curl->headers = curl_slist_append(curl->headers, "Expect:");
  if (!config_.user.empty() || !password.empty()) {
    const std::string user = config_.user.empty() ? "default" : config_.user;
    curl->headers = curl_slist_append(curl->headers, ("X-ClickHouse-User: " + user).c_str());
    curl->headers = curl_slist_append(curl->headers, ("X-ClickHouse-Key: " + password).c_str());
  }
  for (curl_slist* header = curl->headers; header != nullptr; header = header->next) {
    curl->gzip_headers = curl_slist_append(curl->gzip_headers, header->data);
  }
  curl->gzip_headers = curl_slist_append(curl->gzip_headers, "Content-Encoding: gzip");

  CURL* handle = curl->handle;
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(config_.timeout)));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(config_.timeout)));
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &KeepAnswer);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &curl->answer);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, curl->error);
  curl_ = std::move(curl);
  table_ready_ = !config_.create_table;
  return absl::OkStatus();
}

absl::Status ClickHouseOutput::WriteLocked(OutputBatch& batch) {
  if (!table_ready_) {
    absl::Status created =
        PostLocked(statement_url_, CreateTableStatement(config_.database, config_.table),
                   /*gzip=*/false, absl::StrCat("CREATE TABLE ", table_name_));
    if (!created.ok()) return created;
    table_ready_ = true;
  }
  const absl::string_view rows = batch.Lines(rows_);
  const std::string what = absl::StrCat("INSERT into ", table_name_);
  if (config_.compression == ClickHouseOutputConfig::Compression::kNone) {
    return PostLocked(insert_url_, rows, /*gzip=*/false, what);
  }
  return PostLocked(insert_url_, Gzip(rows), /*gzip=*/true, what);
}

absl::Status ClickHouseOutput::PostLocked(const std::string& url, absl::string_view body, bool gzip,
                                          absl::string_view what) {
  CURL* handle = curl_->handle;
  curl_->answer.clear();
  curl_->error[0] = '\0';
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, gzip ? curl_->gzip_headers : curl_->headers);
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
  const CURLcode result = curl_easy_perform(handle);
  absl::Status status;
  if (result != CURLE_OK) {
    CountLocked(0);
    // Whatever kept the answer away (refused, reset, DNS, TLS, the timeout) may pass.
    status = absl::UnavailableError(absl::StrCat(
        id(), ": ", what, ": no answer from ", config_.url, ": ", curl_easy_strerror(result),
        curl_->error[0] == '\0' ? "" : absl::StrCat(" (", curl_->error, ")")));
  } else {
    long code = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code);
    CountLocked(code);
    status = StatusForResponse(code, curl_->answer, absl::StrCat(id(), ": ", what));
  }
  if (!status.ok()) ReportLocked(status);
  return status;
}

void ClickHouseOutput::CountLocked(long code) {
  if (requests_ == nullptr) return;
  prometheus::Counter*& counter = requests_by_code_[code];
  if (counter == nullptr) {
    counter = &requests_->Add(
        {{"output", std::string(id())}, {"code", code == 0 ? "none" : absl::StrCat(code)}});
  }
  counter->Increment();
}

void ClickHouseOutput::ReportLocked(const absl::Status& failure) {
  ++unreported_failures_;
  const absl::Time now = absl::Now();
  if (now - last_report_ < kFailureReportInterval) return;
  std::fprintf(stderr, "sluiced: %llu failed request(s); last: %s\n",
               static_cast<unsigned long long>(unreported_failures_),
               std::string(failure.message()).c_str());
  unreported_failures_ = 0;
  last_report_ = now;
}

absl::Status ClickHouseOutput::FlushLocked(absl::Time /*deadline*/) { return absl::OkStatus(); }

absl::Status ClickHouseOutput::ShutdownLocked(absl::Time /*deadline*/) {
  curl_.reset();
  return absl::OkStatus();
}

std::vector<config::KeyDoc> ClickHouseOutputFactory::keys() const { return Keys().docs(); }

std::string ClickHouseOutputFactory::example_config() const {
  return "{type: clickhouse, url: '${HTTP_URL}', table: logs}";
}

absl::StatusOr<std::unique_ptr<Output>> ClickHouseOutputFactory::Create(
    absl::string_view id, const YAML::Node& config, OutputContext& context) const {
  absl::StatusOr<ClickHouseOutputConfig> parsed =
      ClickHouseOutputConfig::Parse(config, context.config_path);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<EncodingId> rows = context.encodings.FindOrAdd(
      kClickHouseRowEncoding, [] { return std::make_unique<ClickHouseRowEncoder>(); });
  if (!rows.ok()) return rows.status();
  return std::make_unique<ClickHouseOutput>(std::string(id), *std::move(parsed), *rows,
                                            context.metrics);
}

}  // namespace sluice::outputs
