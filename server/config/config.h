// The configuration of a Sluice server: typed structs with their defaults, loaded from a
// YAML file and overridden by command-line flags.
//
// Called once at start-up by server/app (and by tests). Each section is a table of keys
// read by the one YAML reader (yaml_reader.h); an unknown key or a bad value is an
// INVALID_ARGUMENT whose message starts with the key path ("scheduler.workers: must be
// between 1 and 256, got 0"). The section structs of the scheduler and the pipeline live
// with those modules; this struct aggregates them. The per-output keys other than `type`,
// `name`, `level`, `loggers` and `match` are validated by the output's own factory
// (server/outputs), which receives the raw YAML node of its block; the patterns of `match`
// are compiled where the route is built (server/app), naming their keys alike.
#ifndef SLUICE_SERVER_CONFIG_CONFIG_H_
#define SLUICE_SERVER_CONFIG_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/delivery.h"
#include "server/config/yaml_reader.h"
#include "server/pipeline/output_sender_config.h"
#include "server/pipeline/pipeline_config.h"
#include "server/scheduler/scheduler_config.h"
#include "sluice/level.h"
#include "yaml-cpp/yaml.h"

namespace sluice::config {

// What ingest does with a record whose strings are not valid UTF-8 (ingest.invalid_utf8).
enum class InvalidUtf8Policy {
  kReplace,  // each invalid sequence becomes U+FFFD; the record goes on, counted (default)
  kReject,   // the record is rejected with reason invalid_utf8; the rest of its batch goes on
};

// `ingest.tls` and `admin.tls`: the port serves TLS with this certificate, and verifies
// client certificates against client_ca_file when one is given (mTLS). The files are
// re-read every refresh_interval; connections open then keep what they were opened with.
struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  // Empty: clients are not asked for a certificate.
  std::string client_ca_file;
  // Unset: true when client_ca_file is given. False with a CA: a client certificate is
  // verified when sent, and a client without one is let in too.
  std::optional<bool> require_client_cert;
  absl::Duration refresh_interval = absl::Seconds(60);

  bool requires_client_cert() const {
    return !client_ca_file.empty() && require_client_cert.value_or(true);
  }
  bool operator==(const TlsConfig& other) const = default;
};

// `admin.auth`: whether AdminService calls need a bearer token.
enum class AdminAuthMode {
  // Not given: `token` when admin.token_file is given, `none` when the admin port listens
  // on loopback only; any other address without a token file fails start-up.
  kDefault,
  kToken,
  kNone,
};

struct IngestConfig {
  std::string listen = "0.0.0.0:4317";
  // Absent: plaintext.
  std::optional<TlsConfig> tls;
  // `token tenant` lines; when set, every ingest call needs one of its tokens, and the
  // records of the call carry the token's tenant in their `tenant` field.
  std::string tokens_file;
  // Records in one message: a PushBatches batch or an OTLP Export request with more is
  // refused as a whole (INVALID_ARGUMENT) before its records are built. Push gathers the
  // records of a stream into batches of at most this many...
  uint32_t max_batch_records = 8192;
  // ...and a record is not held back longer than this waiting for more.
  absl::Duration max_batch_delay = absl::Milliseconds(5);
  // Largest gRPC message accepted, in bytes; gRPC refuses larger ones with RESOURCE_EXHAUSTED.
  uint32_t max_message_bytes = 4 * 1024 * 1024;
  // Limits on one record, checked at admission: a record over any of them is rejected
  // (counted by reason, reported in the ack or summary), the rest of the stream goes on.
  // Serialized size of the record.
  uint32_t max_record_bytes = 64 * 1024;
  uint32_t max_fields_per_record = 64;
  uint32_t max_field_key_bytes = 128;
  // Length of a string or bytes value.
  uint32_t max_field_value_bytes = 32 * 1024;
  // Ingest calls open at once across the whole server; one more is refused with
  // RESOURCE_EXHAUSTED.
  uint32_t max_concurrent_streams = 1024;
  // When a PushBatches ack (and a Push summary, an OTLP Export response) is sent: once the
  // batch is queued (accepted), once the outputs wrote it (written), or once they flushed
  // it (flushed). Later stages cost latency, not throughput.
  DeliveryStage ack_on = DeliveryStage::kWritten;
  // A connection older than this is asked to close (HTTP/2 GOAWAY), so that clients
  // reconnect and re-resolve the service name: replicas added since get their share and
  // removed ones drop out. Zero: connections live as long as their clients keep them.
  absl::Duration max_connection_age = absl::ZeroDuration();
  // Calls still open on a connection asked to close get this long to finish; then the
  // connection is cut and they end with UNAVAILABLE (clients resend what was not acked).
  absl::Duration max_connection_age_grace = absl::Seconds(30);
  // Ingest calls open at once from one peer (client IP address), so that one client cannot
  // take the whole max_concurrent_streams budget.
  uint32_t max_streams_per_peer = 256;
  // A call that sends nothing for this long is ended (acks still owed are sent first), so
  // idle streams cannot hold stream slots forever. Zero: no limit.
  absl::Duration stream_idle_timeout = absl::Minutes(5);
  // A connection with no call open for this long is closed (HTTP/2 GOAWAY). Zero: no limit.
  absl::Duration max_connection_idle = absl::Minutes(5);
  // Strings that are not valid UTF-8: replaced with U+FFFD or the record rejected.
  InvalidUtf8Policy invalid_utf8 = InvalidUtf8Policy::kReplace;
};

struct AdminConfig {
  std::string listen = "127.0.0.1:4319";
  std::optional<TlsConfig> tls;
  AdminAuthMode auth = AdminAuthMode::kDefault;
  // Tokens for every AdminService call, one a line...
  std::string token_file;
  // ...and tokens for the read-only ones (GetStats, GetLevels, Tap).
  std::string read_only_token_file;
  // Tap calls open at once; more get RESOURCE_EXHAUSTED.
  uint32_t max_taps = 4;
};

struct MetricsConfig {
  std::string listen = "0.0.0.0:9464";
};

struct LevelRuleConfig {
  std::string logger_prefix;
  // The threshold, unless `enabled_levels` is not empty: then exactly those levels pass.
  Level level = Level::kInfo;
  std::vector<Level> enabled_levels = {};
};

struct LevelsConfig {
  Level default_level = Level::kInfo;
  // From the `levels.rules` map, in file order.
  std::vector<LevelRuleConfig> rules;
  // Bounds on the level table, whoever sets the rules (this file or the admin RPC): every
  // rule costs a lookup per new logger name on ingest and a series on /metrics.
  uint32_t max_rules = 256;
  uint32_t max_prefix_bytes = 128;
};

// One entry of the `outputs` list. `options` is the whole YAML block, checked by the
// factory of `type`.
struct OutputConfig {
  // Where the block is in the file ("outputs[1]"): the factory names its keys from here.
  std::string key_path;
  std::string type;
  // Instance name; the output id is "type/name". Defaults to the type.
  std::string name;
  // Records below this level are not sent to this output.
  Level level = Level::kTrace;
  // Of the others, only records under one of these loggers (empty: any logger)...
  std::vector<std::string> loggers;
  // ...whose fields match all of these (`value` or `/regex/`, hooks::RecordMatch).
  std::vector<std::pair<std::string, std::string>> match;
  // The output's buffer, retries and health threshold (`buffer`, `retry`, `unhealthy_after`).
  pipeline::OutputSenderConfig sender;
  YAML::Node options;

  std::string id() const { return type + "/" + name; }
};

// One entry of `hooks.pre` or `hooks.post`. `options` is the whole YAML block, checked by
// the hook factory of `type` (server/pipeline/hooks/).
struct HookConfig {
  // Where the block is in the file ("hooks.post[1]").
  std::string key_path;
  std::string type;
  // Instance name; the hook id is "type/name". Defaults to the type.
  std::string name;
  YAML::Node options;

  std::string id() const { return type + "/" + name; }
};

// The `hooks` section: each list runs in its order.
struct HooksConfig {
  // On the ingest RPC (phase 2).
  std::vector<HookConfig> pre;
  // On the workers (phase 3).
  std::vector<HookConfig> post;
};

struct ShutdownConfig {
  // How long SIGTERM/SIGINT and Shutdown wait for the channels to empty.
  absl::Duration drain_timeout = absl::Seconds(30);
};

struct Config {
  IngestConfig ingest;
  AdminConfig admin;
  MetricsConfig metrics;
  scheduler::SchedulerConfig scheduler;
  LevelsConfig levels;
  pipeline::PipelineConfig pipeline;
  HooksConfig hooks;
  std::vector<OutputConfig> outputs;
  ShutdownConfig shutdown;
};

// Values given on the command line; each one set replaces the file's.
struct Overrides {
  std::optional<std::string> ingest_listen;
  std::optional<std::string> admin_listen;
  std::optional<std::string> metrics_listen;
};

// Parses and validates YAML text. An empty document yields the defaults with no outputs.
absl::StatusOr<Config> ParseConfig(absl::string_view yaml_text);

// Reads `path` and parses it; errors name the file.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// Applies the flags over `config` and validates the result again (listen addresses).
absl::Status ApplyOverrides(const Overrides& overrides, Config& config);

// The key tables of the server's sections, in the order docs/CONFIG.md lists them:
// ingest, admin, metrics, scheduler, levels, pipeline, hooks, hook_entries (the keys every
// hook block has), outputs (the keys every output block has), output_buffer and
// output_retry (the maps under an output's `buffer` and `retry`), shutdown.
std::vector<SectionDoc> ServerSectionDocs();

}  // namespace sluice::config

#endif  // SLUICE_SERVER_CONFIG_CONFIG_H_
