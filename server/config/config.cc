#include "server/config/config.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "yaml-cpp/eventhandler.h"

namespace sluice::config {
namespace {

using pipeline::PipelineConfig;
using scheduler::DispatchPolicy;
using scheduler::OverflowPolicy;
using scheduler::SchedulerConfig;

constexpr int64_t kMaxMessageBytes = 64 * 1024 * 1024;

const KeyTable<TlsConfig>& TlsKeys() {
  using S = TlsConfig;
  static const KeyTable<S>* const table = new KeyTable<S>{
      StringKey("cert_file", &S::cert_file, StringRule::kRequired,
                "PEM file of the port's certificate chain (the server's certificate first)."),
      StringKey("key_file", &S::key_file, StringRule::kRequired,
                "PEM file of the certificate's private key. Start-up fails, naming this key, "
                "when it cannot be read or does not match `cert_file`."),
      StringKey("client_ca_file", &S::client_ca_file, StringRule::kAny,
                "PEM file of the CA certificates that client certificates must chain to. Given: "
                "mutual TLS, a client without a certificate signed by one of them fails the "
                "TLS handshake (see `require_client_cert`). Empty: clients are not asked for a "
                "certificate."),
      CustomKey<S>({.name = "require_client_cert",
                    .type = "boolean",
                    .default_value = "`true` with `client_ca_file`",
                    .description = "With `client_ca_file`: `true` refuses the handshake of a "
                                   "client without a certificate; `false` verifies a "
                                   "certificate when one is sent and lets clients without one "
                                   "in too (they still need a token where tokens are "
                                   "required). Not allowed without `client_ca_file`."},
                   [](const YAML::Node& value, const std::string& path, S& out) {
                     size_t index = 0;
                     if (absl::Status status = ReadKeyword(value, path, {"true", "false"}, index);
                         !status.ok()) {
                       return status;
                     }
                     out.require_client_cert = index == 0;
                     return absl::OkStatus();
                   }),
      DurationKey("refresh_interval", &S::refresh_interval, absl::Seconds(1), absl::Hours(24),
                  "How often the three files are read again. A changed certificate, key or CA "
                  "applies to connections opened from then on; open connections and their "
                  "streams go on with what they were opened with. A new certificate and key "
                  "that do not match each other are not taken (gRPC logs it) and the old pair "
                  "stays. See [SECURITY.md](SECURITY.md#rotating-certificates)."),
  };
  return *table;
}

absl::Status ReadTls(const YAML::Node& value, const std::string& path,
                     std::optional<TlsConfig>& out) {
  if (!value.IsMap()) return ExpectedError(path, "a map with cert_file and key_file", value);
  TlsConfig tls;
  if (absl::Status status = TlsKeys().Read(value, path, tls); !status.ok()) return status;
  if (tls.require_client_cert.has_value() && tls.client_ca_file.empty()) {
    return KeyError(ChildPath(path, "require_client_cert"),
                    "needs client_ca_file: without a CA no client certificate can be verified");
  }
  out = std::move(tls);
  return absl::OkStatus();
}

KeyDoc TlsKeyDoc(absl::string_view port) {
  return {.name = "tls",
          .type = "map",
          .default_value = "plaintext",
          .description = absl::StrCat(
              "Serve the ", port,
              " port over TLS, mutual TLS with `client_ca_file`: `cert_file`, `key_file`, "
              "`client_ca_file`, `require_client_cert`, `refresh_interval` (see [the tls "
              "keys](#tls)). Absent: plaintext. See [SECURITY.md](SECURITY.md).")};
}

const KeyTable<IngestConfig>& IngestKeys() {
  using S = IngestConfig;
  static const KeyTable<S>* const table = new KeyTable<S>{
      AddressKey("listen", &S::listen, "Address of the ingest gRPC server."),
      CustomKey<S>(TlsKeyDoc("ingest"), [](const YAML::Node& value, const std::string& path,
                                           S& out) { return ReadTls(value, path, out.tls); }),
      StringKey("tokens_file", &S::tokens_file, StringRule::kAny,
                "File of ingest tokens, one `token tenant` a line (blank lines and `#` "
                "comments ignored). Given: every ingest call (`Push`, `PushBatches`, OTLP "
                "`Export`) needs `authorization: Bearer <token>` with one of them, else it "
                "ends with UNAUTHENTICATED; every record of the call gets the token's tenant "
                "in its `tenant` field, replacing any `tenant` the client or a pre-hook set. "
                "Re-read within a second when it changes. Empty: no token needed. See "
                "[SECURITY.md](SECURITY.md#ingest-tokens)."),
      IntegerKey(
          "max_batch_records", &S::max_batch_records, 1, 65536,
          "Records in one message: a `PushBatches` batch or an OTLP `Export` request with more "
          "is refused whole with INVALID_ARGUMENT before any of its records is built (so a "
          "message of millions of empty records costs nothing). Records of one `Push` stream "
          "are gathered into batches of at most this many. 8192 is the OpenTelemetry "
          "Collector's default batch size."),
      DurationKey("max_batch_delay", &S::max_batch_delay, absl::ZeroDuration(), absl::Seconds(10),
                  "How long a record may wait for the rest of its batch."),
      IntegerKey("max_message_bytes", &S::max_message_bytes, 1024, kMaxMessageBytes,
                 "The largest gRPC message accepted, in bytes (a whole `LogBatch`, or one "
                 "`LogRecord` of `Push`). gRPC ends a call that sends a larger one with "
                 "RESOURCE_EXHAUSTED (`Received message larger than max (N vs. M)`); the "
                 "records of that message are not counted. Applies to the admin port too."),
      IntegerKey("max_record_bytes", &S::max_record_bytes, 64, kMaxMessageBytes,
                 "The largest record, as its serialized `LogRecord` size: the bytes the "
                 "client sent for it (PushBatches, Push), or the record an OTLP log record "
                 "maps to. A larger record is rejected."),
      IntegerKey("max_fields_per_record", &S::max_fields_per_record, 0, 65536,
                 "The most ad-hoc fields one record may carry. A record with more is rejected."),
      IntegerKey("max_field_key_bytes", &S::max_field_key_bytes, 1, 65536,
                 "The longest field key, in bytes. A record with a longer key is rejected."),
      IntegerKey("max_field_value_bytes", &S::max_field_value_bytes, 1, kMaxMessageBytes,
                 "The longest string or bytes field value, in bytes. A record with a longer "
                 "value is rejected."),
      IntegerKey("max_concurrent_streams", &S::max_concurrent_streams, 1, 1048576,
                 "Ingest calls (Push and PushBatches streams) open at once, across all clients. "
                 "One more is refused with RESOURCE_EXHAUSTED naming this key; it can be retried "
                 "once a call closes. gRPC's own per-connection stream limit does not bound a "
                 "server with many clients; this does."),
      ChoiceKey("ack_on", &S::ack_on,
                {{"accepted", DeliveryStage::kAccepted},
                 {"written", DeliveryStage::kWritten},
                 {"flushed", DeliveryStage::kFlushed}},
                "When a batch counts as taken, and its `PushAck` (the `Push` summary, the OTLP "
                "`Export` answer) is sent. `accepted`: once queued by the scheduler — the "
                "fastest answer, but records queued when the process dies are lost though "
                "acked. `written`: once every output's `Write` took it (an output may still "
                "hold it in its buffer, e.g. the file output's `flush_interval`). `flushed`: "
                "once every output flushed it (the file output: handed to the kernel, so it "
                "survives a crash of `sluiced`; on the device too with `fsync: always`, see "
                "[Durability](#durability)); each output's sender flushes when no batch waits "
                "to be written or 64 wait for a flush, so one flush covers many batches under "
                "load. Later stages add latency to acks, not to throughput. "
                "Records an output lost (retries ran out, a permanent error, a failed flush) or "
                "`drop_oldest` evicted are reported in the ack's `dropped`, with its "
                "`drop_reason`. See [ARCHITECTURE.md](ARCHITECTURE.md#delivery-and-acks)."),
      DurationKey("max_connection_age", &S::max_connection_age, absl::ZeroDuration(),
                  absl::Hours(24),
                  "Once a connection is this old (gRPC adds ±10% jitter), sluiced asks it to "
                  "close with an HTTP/2 GOAWAY: its open calls go on, new calls open a new "
                  "connection, and a client that balances over several replicas re-resolves the "
                  "service name on the way. Without it, clients of a headless Service see new "
                  "replicas only when a connection drops. `0s`: no limit. `5m` is a sensible "
                  "value behind client-side load balancing; see [SCALING.md](SCALING.md)."),
      DurationKey("max_connection_age_grace", &S::max_connection_age_grace, absl::ZeroDuration(),
                  absl::Hours(24),
                  "How long the calls still open on a connection asked to close may go on; then "
                  "the connection is cut and they end with UNAVAILABLE (a client resends what "
                  "was not acknowledged). Only with `max_connection_age`. `sluice::Client` moves "
                  "to a new connection whenever it rotates its stream (`batches_per_stream`), "
                  "usually well within the grace."),
      IntegerKey("max_streams_per_peer", &S::max_streams_per_peer, 1, 1048576,
                 "Ingest calls open at once from one peer (client IP address). One more is "
                 "refused with RESOURCE_EXHAUSTED naming this key, so that one client cannot "
                 "take the whole `max_concurrent_streams` budget. Capped at "
                 "`max_concurrent_streams`. Behind a proxy every client has the proxy's "
                 "address: raise it there."),
      DurationKey("stream_idle_timeout", &S::stream_idle_timeout, absl::ZeroDuration(),
                  absl::Hours(24),
                  "A `Push` or `PushBatches` call that sends no message for this long is ended "
                  "with UNAVAILABLE (`stream idle for 5m`) after the acks it is owed were sent, "
                  "so that streams opened and forgotten cannot hold stream slots forever. "
                  "`sluice::Client` reopens a stream when it has records again. `0s`: no limit."),
      DurationKey("max_connection_idle", &S::max_connection_idle, absl::ZeroDuration(),
                  absl::Hours(24),
                  "A connection with no call open for this long is closed with an HTTP/2 GOAWAY "
                  "(gRPC's `max_connection_idle`). Connections that only sent the HTTP/2 "
                  "preface are closed this way too. `0s`: no limit."),
      ChoiceKey("invalid_utf8", &S::invalid_utf8,
                {{"replace", InvalidUtf8Policy::kReplace}, {"reject", InvalidUtf8Policy::kReject}},
                "A record whose strings (logger, message, field keys and string values) are not "
                "valid UTF-8: `replace` writes each invalid sequence as U+FFFD and keeps the "
                "record, counted in `sluice_ingest_utf8_replaced_total`; `reject` rejects that "
                "record alone (reason `invalid_utf8`). Either way the rest of the message goes "
                "on."),
  };
  return *table;
}

const KeyTable<AdminConfig>& AdminKeys() {
  using S = AdminConfig;
  static const KeyTable<S>* const table = new KeyTable<S>{
      AddressKey("listen", &S::listen,
                 "Address of `AdminService` (levels, drain, resume, shutdown, stats). It can "
                 "stop the server: keep it on loopback or a private network."),
      CustomKey<S>(TlsKeyDoc("admin"), [](const YAML::Node& value, const std::string& path,
                                          S& out) { return ReadTls(value, path, out.tls); }),
      WithDefaultText(
          ChoiceKey("auth", &S::auth,
                    {{"token", AdminAuthMode::kToken}, {"none", AdminAuthMode::kNone}},
                    "Whether every `AdminService` call needs `authorization: Bearer <token>`. "
                    "`token`: a token of `token_file` (or of `read_only_token_file` for the "
                    "read-only calls); others end with UNAUTHENTICATED, a read-only token on a "
                    "call that changes the server with PERMISSION_DENIED. `none`: no token "
                    "(behind a mesh that authenticates, or on loopback). Not given: `token` "
                    "when `token_file` is given, else `none` if `listen` is a loopback address; "
                    "any other address without a token file fails start-up. The health and "
                    "reflection services of the port need no token. See "
                    "[SECURITY.md](SECURITY.md#admin-tokens)."),
          "see Meaning"),
      StringKey("token_file", &S::token_file, StringRule::kAny,
                "File of admin tokens, one a line (blank lines and `#` comments ignored); each "
                "allows every `AdminService` call. Re-read within a second when it changes, "
                "so tokens can be rotated without a restart."),
      StringKey("read_only_token_file", &S::read_only_token_file, StringRule::kAny,
                "File of read-only tokens, same format: they allow `GetStats`, `GetLevels` "
                "and `Tap` only."),
      IntegerKey("max_taps", &AdminConfig::max_taps, 0, 64,
                 "`sluice tap` calls (AdminService.Tap) open at once; more get "
                 "RESOURCE_EXHAUSTED. Each holds a buffer of at most 1024 records and 1 MiB. "
                 "0 turns tapping off."),
  };
  return *table;
}

const KeyTable<MetricsConfig>& MetricsKeys() {
  static const KeyTable<MetricsConfig>* const table = new KeyTable<MetricsConfig>{
      AddressKey("listen", &MetricsConfig::listen,
                 "Where `/metrics` is served over HTTP. See [METRICS.md](METRICS.md)."),
  };
  return *table;
}

const KeyTable<SchedulerConfig>& SchedulerKeys() {
  using S = SchedulerConfig;
  static const KeyTable<S>* const table = new KeyTable<S>{
      IntegerKey("workers", &S::workers, 1, 256,
                 "Worker threads that compose, format and write records. Each has its own "
                 "channel."),
      IntegerKey("channel_capacity", &S::channel_capacity, 1, int64_t{1} << 24,
                 "Records each worker's channel holds at most."),
      IntegerKey(
          "channel_capacity_bytes", &S::channel_capacity_bytes, int64_t{64} * 1024,
          int64_t{1} << 40,
          "In-memory bytes of the records each worker's channel holds at most (their size in "
          "memory, not on the wire). A channel is full when either capacity is reached; a batch "
          "larger than a whole channel is taken into an empty one, so queued memory is bounded "
          "by `workers × (channel_capacity_bytes + one message)`. The size counted is an "
          "estimate of the parsed records' heap (the record objects, their strings' "
          "capacities, their fields), computed once per batch; a record of a few bytes on the "
          "wire counts a hundred or so. Watch `sluice_scheduler_queue_bytes`."),
      ChoiceKey("overflow", &S::overflow,
                {{"block", OverflowPolicy::kBlock},
                 {"drop_newest", OverflowPolicy::kDropNewest},
                 {"drop_oldest", OverflowPolicy::kDropOldest}},
                "What happens when the chosen channel is full. `block`: the stream stops being "
                "read until there is room, so gRPC flow control slows the client down; nothing "
                "is lost. `drop_newest`: the incoming batch is dropped. `drop_oldest`: the "
                "oldest queued batches of that channel are dropped. Drops are counted and "
                "reported in acknowledgements."),
      ChoiceKey("dispatch", &S::dispatch,
                {{"round_robin", DispatchPolicy::kRoundRobin},
                 {"stream_affinity", DispatchPolicy::kStreamAffinity}},
                "How batches are spread over the workers. `round_robin`: the next worker in "
                "turn, the most even load; batches of one stream may be written out of order. "
                "`stream_affinity`: each stream stays on one worker, so its records are written "
                "in the order they were sent."),
  };
  return *table;
}

// A rule is a threshold (`checkout: debug`) or a list of the levels that pass
// (`checkout: [error, debug]`).
absl::Status ReadLevelRule(const YAML::Node& value, const std::string& path,
                           LevelRuleConfig& rule) {
  if (!value.IsSequence()) return ReadLevel(value, path, rule.level);
  if (value.size() == 0) return KeyError(path, "a list of levels must not be empty");
  for (size_t i = 0; i < value.size(); ++i) {
    Level level;
    if (absl::Status status = ReadLevel(value[i], absl::StrCat(path, "[", i, "]"), level);
        !status.ok()) {
      return status;
    }
    if (std::find(rule.enabled_levels.begin(), rule.enabled_levels.end(), level) ==
        rule.enabled_levels.end()) {
      rule.enabled_levels.push_back(level);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadLevelRules(const YAML::Node& node, const std::string& path, LevelsConfig& out) {
  return ForEachEntry(node, path, "rule prefix",
                      [&](const std::string& prefix, const YAML::Node& value,
                          const std::string& rule_path) -> absl::Status {
                        if (absl::Status valid = ValidateLoggerPrefix(prefix); !valid.ok()) {
                          return KeyError(rule_path, valid.message());
                        }
                        LevelRuleConfig rule{.logger_prefix = prefix};
                        if (absl::Status status = ReadLevelRule(value, rule_path, rule);
                            !status.ok()) {
                          return status;
                        }
                        out.rules.push_back(std::move(rule));
                        return absl::OkStatus();
                      });
}

// The limits apply to the file's own rules as well, whichever order the keys came in.
absl::Status CheckLevelLimits(const LevelsConfig& levels) {
  if (levels.rules.size() > levels.max_rules) {
    return KeyError("levels.rules", absl::StrCat(levels.rules.size(), " rules, more than ",
                                                 "levels.max_rules (", levels.max_rules, ")"));
  }
  for (const LevelRuleConfig& rule : levels.rules) {
    if (rule.logger_prefix.size() > levels.max_prefix_bytes) {
      return KeyError(ChildPath("levels.rules", rule.logger_prefix.substr(0, 64)),
                      absl::StrCat("a prefix of ", rule.logger_prefix.size(),
                                   " bytes, longer than levels.max_prefix_bytes (",
                                   levels.max_prefix_bytes, ")"));
    }
  }
  return absl::OkStatus();
}

const KeyTable<LevelsConfig>& LevelsKeys() {
  static const KeyTable<LevelsConfig>* const table = new KeyTable<LevelsConfig>{
      LevelKey("default", &LevelsConfig::default_level, "Threshold for loggers no rule matches."),
      CustomKey<LevelsConfig>(
          {.name = "rules",
           .type = "map: logger prefix → level or list of levels",
           .default_value = "`{}`",
           .description = "Rules per logger-name prefix. `checkout` matches `checkout` and "
                          "`checkout.db`; the longest matching prefix wins. A level is a "
                          "threshold (`checkout: debug`: DEBUG and above); a list lets exactly "
                          "those levels through (`checkout: [error, debug]`)."},
          ReadLevelRules),
      IntegerKey("max_rules", &LevelsConfig::max_rules, 1, 100000,
                 "Level rules at most, from this file and the admin API together; a SetLevel "
                 "for a new prefix beyond it is refused with RESOURCE_EXHAUSTED."),
      IntegerKey("max_prefix_bytes", &LevelsConfig::max_prefix_bytes, 1, 4096,
                 "Longest logger prefix a rule may have; a longer one is refused with "
                 "INVALID_ARGUMENT."),
  };
  return *table;
}

absl::Status ReadBaseFields(const YAML::Node& node, const std::string& path, PipelineConfig& out) {
  return ForEachEntry(node, path, "field",
                      [&](const std::string& name, const YAML::Node& value,
                          const std::string& field_path) -> absl::Status {
                        if (name.empty()) {
                          return KeyError(field_path, "a field name must not be empty");
                        }
                        if (!value.IsScalar()) {
                          return ExpectedError(field_path, "a scalar value", value);
                        }
                        out.base_fields.emplace_back(name, value.Scalar());
                        return absl::OkStatus();
                      });
}

const KeyTable<PipelineConfig>& PipelineKeys() {
  using S = PipelineConfig;
  static const KeyTable<S>* const table = new KeyTable<S>{
      CustomKey<S>({.name = "base_fields",
                    .type = "map: name → scalar",
                    .default_value = "`{}`",
                    .description = "Fields added to every record, e.g. `{service: checkout, env: "
                                   "prod}`. Values are scalars (strings, numbers, booleans) and "
                                   "are kept as strings."},
                   ReadBaseFields),
      StringKey("time_key", &S::time_key, StringRule::kNonEmpty,
                "Name of the record's time in structured (JSON) output."),
      StringKey("level_key", &S::level_key, StringRule::kNonEmpty, "Name of the record's level."),
      StringKey("logger_key", &S::logger_key, StringRule::kNonEmpty,
                "Name of the record's logger."),
      StringKey("message_key", &S::message_key, StringRule::kNonEmpty,
                "Name of the record's message."),
  };
  return *table;
}

// Two attributes under one key would overwrite each other in every structured output.
absl::Status CheckPipelineKeysDiffer(const PipelineConfig& pipeline) {
  const std::pair<absl::string_view, const std::string*> keys[] = {
      {"time_key", &pipeline.time_key},
      {"level_key", &pipeline.level_key},
      {"logger_key", &pipeline.logger_key},
      {"message_key", &pipeline.message_key}};
  for (size_t i = 0; i < std::size(keys); ++i) {
    for (size_t j = i + 1; j < std::size(keys); ++j) {
      if (*keys[i].second == *keys[j].second) {
        return absl::InvalidArgumentError(absl::StrCat("pipeline.", keys[i].first, " and pipeline.",
                                                       keys[j].first, " are both \"",
                                                       *keys[i].second, "\"; they must differ"));
      }
    }
  }
  return absl::OkStatus();
}

bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.'; }

// An output's or hook's type or instance name: it becomes part of the id and a metric label.
template <typename S>
Key<S> NameKey(absl::string_view name, std::string S::*field, StringRule rule,
               absl::string_view description) {
  Key<S> key = StringKey(name, field, rule, description);
  key.read = [field](const YAML::Node& value, const std::string& path, S& out) {
    if (absl::Status status = ReadString(value, path, out.*field); !status.ok()) return status;
    const std::string& text = out.*field;
    if (text.empty() || !std::all_of(text.begin(), text.end(), IsNameChar)) {
      return KeyError(path, absl::StrCat("\"", absl::CEscape(text),
                                         "\" must be non-empty and made of letters, digits, '_', "
                                         "'-' and '.'"));
    }
    return absl::OkStatus();
  };
  return key;
}

const KeyTable<pipeline::OutputBufferConfig>& OutputBufferKeys() {
  using S = pipeline::OutputBufferConfig;
  static const KeyTable<S>* const table = new KeyTable<S>{
      IntegerKey("max_records", &S::max_records, 1, S::kMaxRecords,
                 "Records routed to the output and not yet written (or flushed, for acks "
                 "that wait for `flushed`), at most. An empty buffer takes one batch of any "
                 "size."),
      IntegerKey("max_bytes", &S::max_bytes, 1024, S::kMaxBytes,
                 "In-memory bytes of those records, at most: a buffered batch counts its "
                 "records' memory and the lines formatted for this output. Every output has "
                 "its own; a batch in two buffers counts in both."),
      ChoiceKey<S, pipeline::WhenFull>(
          "when_full", &S::when_full,
          {{"block", pipeline::WhenFull::kBlock}, {"drop_newest", pipeline::WhenFull::kDropNewest}},
          "What a full buffer does to the next batch. `block`: the worker waits for room, so "
          "the scheduler's channels fill and the clients are paced — nothing is lost, and the "
          "other outputs slow down once the shared channels are full. `drop_newest`: the batch "
          "is dropped for this output alone (`sluice_output_records_dropped_total{reason="
          "\"buffer_full\"}`, and in the books as output_failed); the others carry on."),
  };
  return *table;
}

const KeyTable<pipeline::OutputRetryConfig>& OutputRetryKeys() {
  using S = pipeline::OutputRetryConfig;
  static const KeyTable<S>* const table = new KeyTable<S>{
      DurationKey("initial_backoff", &S::initial_backoff, S::kMinBackoff, S::kMaxBackoff,
                  "The wait after the first failed attempt (UNAVAILABLE, DEADLINE_EXCEEDED, "
                  "an I/O error such as a full disk); it doubles after each further one. Each "
                  "wait is drawn at random from the upper half of its value (jitter)."),
      DurationKey("max_backoff", &S::max_backoff, S::kMinBackoff, S::kMaxBackoff,
                  "The longest wait between two attempts."),
      WithDefaultText(
          DurationKey("max_elapsed", &S::max_elapsed, absl::ZeroDuration(), absl::Hours(24 * 7),
                      "How long one batch is retried before it is dropped for this output "
                      "(reason `retries_exhausted`). `0s`: until the output takes it, or until "
                      "shutdown's deadline. Other errors drop the batch at once (reason "
                      "`permanent_error`)."),
          "`0s` under `block`, `60s` under `drop_newest`"),
  };
  return *table;
}

// The keys every output block has; the output's factory reads the rest of the block.
const KeyTable<OutputConfig>& OutputCommonKeys() {
  using S = OutputConfig;
  static const KeyTable<S>* const table = new KeyTable<S>{
      NameKey<S>("type", &S::type, StringRule::kRequired, "Which output: one of the types below."),
      WithDefaultText(
          NameKey<S>("name", &S::name, StringRule::kNonEmpty,
                     "Instance name. The output id is `type/name` (e.g. `file/audit`); it must "
                     "be unique and labels the output's metrics. Letters, digits, `_`, `-`, "
                     "`.`."),
          "the type"),
      LevelKey("level", &S::level, "Records below this level are not sent to this output."),
      StringListKey("loggers", &S::loggers, false,
                    "Send only records whose logger is one of these or under one (`checkout` "
                    "covers `checkout.db`, not `checkouts`). Not given: any logger."),
      StringMapKey("match", &S::match, false,
                   "Send only records whose fields match all of these: `field: value` (equal; "
                   "a number or boolean field is compared as its text) or `field: /regex/` "
                   "(RE2, found anywhere in the value; anchor with `^` and `$`)."),
      CustomKey<S>({.name = "buffer",
                    .type = "map",
                    .description = "The output's own buffer: `max_records`, `max_bytes`, "
                                   "`when_full` (below)."},
                   [](const YAML::Node& value, const std::string& path, S& out) {
                     return OutputBufferKeys().Read(value, path, out.sender.buffer);
                   }),
      CustomKey<S>({.name = "retry",
                    .type = "map",
                    .description = "How the output's sender retries: `initial_backoff`, "
                                   "`max_backoff`, `max_elapsed` (below)."},
                   [](const YAML::Node& value, const std::string& path, S& out) {
                     return OutputRetryKeys().Read(value, path, out.sender.retry);
                   }),
      CustomKey<S>({.name = "unhealthy_after",
                    .type = "duration",
                    .default_value = "`30s`",
                    .range = "1s..24h",
                    .description = "An output whose attempts have failed for this long is "
                                   "reported unhealthy (`sluice stats`, GetStats, the admin "
                                   "port's health service under "
                                   "`sluice.output.<id>`); readiness is not affected."},
                   [](const YAML::Node& value, const std::string& path, S& out) {
                     return ReadDuration(value, path, absl::Seconds(1), absl::Hours(24),
                                         out.sender.unhealthy_after);
                   }),
  };
  return *table;
}

absl::Status ReadOutput(const YAML::Node& node, const std::string& path, OutputConfig& out) {
  if (!node.IsMap()) return ExpectedError(path, "a map with at least a `type` key", node);
  if (absl::Status status = OutputCommonKeys().ReadSome(node, path, out); !status.ok()) {
    return status;
  }
  if (out.name.empty()) out.name = out.type;
  const YAML::Node retry = node["retry"];
  if (out.sender.buffer.when_full == pipeline::WhenFull::kDropNewest &&
      !(retry.IsDefined() && retry.IsMap() && retry["max_elapsed"].IsDefined())) {
    out.sender.retry.max_elapsed = pipeline::OutputRetryConfig::kDropNewestMaxElapsed;
  }
  // An empty list would route nothing here, which is no output at all; absent means any.
  if (node["loggers"].IsDefined() && out.loggers.empty()) {
    return KeyError(ChildPath(path, "loggers"),
                    "must not be empty; leave the key out to take every logger");
  }
  out.key_path = path;
  out.options = node;
  return absl::OkStatus();
}

absl::Status ReadOutputs(const YAML::Node& node, const std::string& path,
                         std::vector<OutputConfig>& out) {
  if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
  if (!node.IsSequence()) return ExpectedError(path, "a sequence of output blocks", node);
  std::set<std::string> ids;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = ItemPath(path, i);
    OutputConfig output;
    if (absl::Status status = ReadOutput(node[i], item_path, output); !status.ok()) return status;
    if (!ids.insert(output.id()).second) {
      return KeyError(item_path, absl::StrCat("duplicate output id \"", output.id(),
                                              "\"; give one of them a distinct `name`"));
    }
    out.push_back(std::move(output));
  }
  return absl::OkStatus();
}

// The keys every hook block has; the hook's factory reads the rest of the block.
const KeyTable<HookConfig>& HookCommonKeys() {
  using S = HookConfig;
  static const KeyTable<S>* const table = new KeyTable<S>{
      NameKey<S>("type", &S::type, StringRule::kRequired,
                 "Which hook: one of the hook types below."),
      WithDefaultText(
          NameKey<S>("name", &S::name, StringRule::kNonEmpty,
                     "Instance name. The hook id is `type/name` (e.g. `drop/no-debug`); "
                     "it must be unique in its list and labels the hook's metrics."),
          "the type"),
  };
  return *table;
}

absl::Status ReadHooks(const YAML::Node& node, const std::string& path,
                       std::vector<HookConfig>& out) {
  if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
  if (!node.IsSequence()) return ExpectedError(path, "a sequence of hook blocks", node);
  std::set<std::string> ids;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = ItemPath(path, i);
    if (!node[i].IsMap())
      return ExpectedError(item_path, "a map with at least a `type` key", node[i]);
    HookConfig hook;
    if (absl::Status status = HookCommonKeys().ReadSome(node[i], item_path, hook); !status.ok()) {
      return status;
    }
    if (hook.name.empty()) hook.name = hook.type;
    hook.key_path = item_path;
    hook.options = node[i];
    if (!ids.insert(hook.id()).second) {
      return KeyError(item_path, absl::StrCat("duplicate hook id \"", hook.id(),
                                              "\"; give one of them a distinct `name`"));
    }
    out.push_back(std::move(hook));
  }
  return absl::OkStatus();
}

const KeyTable<HooksConfig>& HooksKeys() {
  static const KeyTable<HooksConfig>* const table = new KeyTable<HooksConfig>{
      CustomKey<HooksConfig>({.name = "pre",
                              .type = "list of hook blocks",
                              .default_value = "`[]`",
                              .description = "Hooks run on the ingest RPC, in order."},
                             [](const YAML::Node& value, const std::string& path,
                                HooksConfig& out) { return ReadHooks(value, path, out.pre); }),
      CustomKey<HooksConfig>({.name = "post",
                              .type = "list of hook blocks",
                              .default_value = "`[]`",
                              .description = "Hooks run on the workers before formatting, in "
                                             "order."},
                             [](const YAML::Node& value, const std::string& path,
                                HooksConfig& out) { return ReadHooks(value, path, out.post); }),
  };
  return *table;
}

const KeyTable<ShutdownConfig>& ShutdownKeys() {
  static const KeyTable<ShutdownConfig>* const table = new KeyTable<ShutdownConfig>{
      DurationKey("drain_timeout", &ShutdownConfig::drain_timeout, absl::ZeroDuration(),
                  absl::Hours(1),
                  "How long SIGTERM, SIGINT and `sluice shutdown` wait for queued records to be "
                  "written and outputs flushed before exiting. A second signal exits at once."),
  };
  return *table;
}

// A top-level key: one section, read by its own table into its member of Config.
template <typename Section>
Key<Config> SectionKey(absl::string_view name, Section Config::*field,
                       const KeyTable<Section>& (*keys)()) {
  return CustomKey<Config>(
      {.name = std::string(name)},
      [field, keys](const YAML::Node& value, const std::string& path, Config& out) {
        return keys().Read(value, path, out.*field);
      });
}

const KeyTable<Config>& RootKeys() {
  static const KeyTable<Config>* const table = new KeyTable<Config>{
      SectionKey("ingest", &Config::ingest, IngestKeys),
      SectionKey("admin", &Config::admin, AdminKeys),
      SectionKey("metrics", &Config::metrics, MetricsKeys),
      SectionKey("scheduler", &Config::scheduler, SchedulerKeys),
      SectionKey("levels", &Config::levels, LevelsKeys),
      SectionKey("pipeline", &Config::pipeline, PipelineKeys),
      SectionKey("hooks", &Config::hooks, HooksKeys),
      CustomKey<Config>({.name = "outputs"},
                        [](const YAML::Node& value, const std::string& path, Config& out) {
                          return ReadOutputs(value, path, out.outputs);
                        }),
      SectionKey("shutdown", &Config::shutdown, ShutdownKeys),
  };
  return *table;
}

// `document_prefix` starts the errors about the document as a whole (syntax, shape), which
// have no key path to start with.
absl::Status ParseRoot(const YAML::Node& root, absl::string_view document_prefix, Config& config) {
  if (root.IsNull()) return absl::OkStatus();
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat(
        document_prefix, "the document must be a map of sections, got ", DescribeValue(root)));
  }
  if (absl::Status status = RootKeys().Read(root, "", config); !status.ok()) return status;
  if (absl::Status status = CheckPipelineKeysDiffer(config.pipeline); !status.ok()) return status;
  if (absl::Status status = CheckLevelLimits(config.levels); !status.ok()) return status;
  config.ingest.max_streams_per_peer =
      std::min(config.ingest.max_streams_per_peer, config.ingest.max_concurrent_streams);
  return absl::OkStatus();
}

// Records where each document of a YAML stream starts; ignores everything else.
class DocumentStarts final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts_.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  const std::vector<YAML::Mark>& starts() const { return starts_; }

 private:
  std::vector<YAML::Mark> starts_;
};

// The number of documents in `text`. Not YAML::LoadAll: yaml-cpp 0.7 (Debian 12) hands back
// an empty document without consuming a token it cannot start a node with (a leading ','),
// and LoadAll asks again forever, keeping every one until memory runs out
// (jbeder/yaml-cpp#1040). A document that starts where the previous one started is that
// token: a syntax error, thrown like yaml-cpp's own.
size_t CountDocuments(const std::string& text) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentStarts documents;
  while (parser.HandleNextDocument(documents)) {
    const std::vector<YAML::Mark>& starts = documents.starts();
    if (starts.size() >= 2 && starts.back().pos == starts[starts.size() - 2].pos) {
      throw YAML::ParserException(starts.back(), "unexpected token where a value should start");
    }
  }
  return documents.starts().size();
}

// yaml-cpp reports syntax errors by exception; this is the edge where they become statuses.
absl::StatusOr<Config> Parse(absl::string_view yaml_text, absl::string_view document_prefix) {
  Config config;
  try {
    const std::string text(yaml_text);
    const size_t documents = CountDocuments(text);
    if (documents > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          document_prefix, "expected one YAML document, found ", documents, " (separated by ---)"));
    }
    if (documents == 0) return config;
    absl::Status status = ParseRoot(YAML::Load(text), document_prefix, config);
    if (!status.ok()) return status;
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return absl::InvalidArgumentError(absl::StrCat(document_prefix, e.msg));
    return absl::InvalidArgumentError(absl::StrCat(document_prefix, "line ", e.mark.line + 1,
                                                   ", column ", e.mark.column + 1, ": ", e.msg));
  }
  return config;
}

}  // namespace

std::vector<SectionDoc> ServerSectionDocs() {
  return {{"ingest", IngestKeys().docs()},
          {"admin", AdminKeys().docs()},
          {"tls", TlsKeys().docs()},
          {"metrics", MetricsKeys().docs()},
          {"scheduler", SchedulerKeys().docs()},
          {"levels", LevelsKeys().docs()},
          {"pipeline", PipelineKeys().docs()},
          {"hooks", HooksKeys().docs()},
          {"hook_entries", HookCommonKeys().docs()},
          {"outputs", OutputCommonKeys().docs()},
          {"output_buffer", OutputBufferKeys().docs()},
          {"output_retry", OutputRetryKeys().docs()},
          {"shutdown", ShutdownKeys().docs()}};
}

absl::StatusOr<Config> ParseConfig(absl::string_view yaml_text) {
  return Parse(yaml_text, "config: ");
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::ErrnoToStatus(errno, path);
  std::string text;
  char buffer[64 * 1024];
  size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, read);
  const int read_errno = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (read_errno != 0) return absl::ErrnoToStatus(read_errno, path);

  absl::StatusOr<Config> config = Parse(text, "");
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

absl::Status ApplyOverrides(const Overrides& overrides, Config& config) {
  const std::tuple<absl::string_view, const std::optional<std::string>&, std::string&> flags[] = {
      {"--ingest_listen", overrides.ingest_listen, config.ingest.listen},
      {"--admin_listen", overrides.admin_listen, config.admin.listen},
      {"--metrics_listen", overrides.metrics_listen, config.metrics.listen},
  };
  // All flags are checked before any is applied, so a failed call leaves `config` as it was.
  for (const auto& [flag, value, target] : flags) {
    if (!value.has_value()) continue;
    if (absl::Status status = ValidateListenAddress(*value); !status.ok()) {
      return KeyError(flag, status.message());
    }
  }
  for (const auto& [flag, value, target] : flags) {
    if (value.has_value()) target = *value;
  }
  return absl::OkStatus();
}

}  // namespace sluice::config
