#include "server/config/config.h"

#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

// The message of the INVALID_ARGUMENT that parsing `yaml` must fail with.
std::string ErrorOf(absl::string_view yaml) {
  absl::StatusOr<Config> config = ParseConfig(yaml);
  if (config.ok()) {
    ADD_FAILURE() << "parsed without error:\n" << yaml;
    return "";
  }
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  return std::string(config.status().message());
}

Config ParseOk(absl::string_view yaml) {
  absl::StatusOr<Config> config = ParseConfig(yaml);
  EXPECT_TRUE(config.ok()) << config.status() << "\n" << yaml;
  return config.ok() ? *std::move(config) : Config{};
}

std::string WriteTempFile(absl::string_view name, absl::string_view text) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/", name);
  std::ofstream(path) << text;
  return path;
}

void ExpectDefaults(const Config& config) {
  EXPECT_EQ(config.ingest.listen, "0.0.0.0:4317");
  EXPECT_EQ(config.ingest.max_batch_records, 8192u);
  EXPECT_EQ(config.ingest.max_batch_delay, absl::Milliseconds(5));
  EXPECT_EQ(config.ingest.max_message_bytes, 4u * 1024 * 1024);
  EXPECT_EQ(config.ingest.max_record_bytes, 64u * 1024);
  EXPECT_EQ(config.ingest.max_fields_per_record, 64u);
  EXPECT_EQ(config.ingest.max_field_key_bytes, 128u);
  EXPECT_EQ(config.ingest.max_field_value_bytes, 32u * 1024);
  EXPECT_EQ(config.ingest.max_concurrent_streams, 1024u);
  EXPECT_EQ(config.ingest.ack_on, DeliveryStage::kWritten);
  EXPECT_EQ(config.ingest.max_connection_age, absl::ZeroDuration());
  EXPECT_EQ(config.ingest.max_connection_age_grace, absl::Seconds(30));
  EXPECT_EQ(config.admin.listen, "127.0.0.1:4319");
  EXPECT_EQ(config.metrics.listen, "0.0.0.0:9464");
  EXPECT_EQ(config.scheduler.workers, 4u);
  EXPECT_EQ(config.scheduler.channel_capacity, 65536u);
  EXPECT_EQ(config.scheduler.overflow, scheduler::OverflowPolicy::kBlock);
  EXPECT_EQ(config.scheduler.dispatch, scheduler::DispatchPolicy::kRoundRobin);
  EXPECT_EQ(config.levels.default_level, Level::kInfo);
  EXPECT_TRUE(config.levels.rules.empty());
  EXPECT_TRUE(config.pipeline.base_fields.empty());
  EXPECT_EQ(config.pipeline.time_key, "time");
  EXPECT_EQ(config.pipeline.level_key, "level");
  EXPECT_EQ(config.pipeline.logger_key, "logger");
  EXPECT_EQ(config.pipeline.message_key, "message");
  EXPECT_TRUE(config.outputs.empty());
  EXPECT_EQ(config.shutdown.drain_timeout, absl::Seconds(30));
}

TEST(ConfigTest, EmptyDocumentYieldsTheDefaults) {
  ExpectDefaults(ParseOk(""));
  ExpectDefaults(ParseOk("# only a comment\n"));
}

TEST(ConfigTest, EmptySectionsKeepTheirDefaults) {
  ExpectDefaults(ParseOk("ingest:\nadmin: {}\nscheduler:\nlevels:\noutputs:\nshutdown: {}\n"));
}

TEST(ConfigTest, FullExampleParsesToTheWrittenValues) {
  const Config config = ParseOk(R"yaml(
ingest: { listen: "127.0.0.1:5317", max_batch_records: 100, max_batch_delay: 2ms,
          max_message_bytes: 1048576, max_record_bytes: 4096, max_fields_per_record: 8,
          max_field_key_bytes: 32, max_field_value_bytes: 1024, max_concurrent_streams: 100 }
admin: { listen: "127.0.0.1:5319" }
metrics: { listen: "[::1]:9465" }
scheduler: { workers: 8, channel_capacity: 1024, overflow: drop_oldest, dispatch: stream_affinity }
levels: { default: warn, rules: { checkout: debug, "checkout.db": error } }
pipeline:
  base_fields: { service: demo, env: prod, replicas: 3 }
  time_key: ts
  level_key: severity
  logger_key: component
  message_key: msg
outputs:
  - { type: console, name: stdout, level: info, format: text }
  - { type: file, name: main, path: ./sluice-data/records.log }
shutdown: { drain_timeout: 1m }
)yaml");
  EXPECT_EQ(config.ingest.listen, "127.0.0.1:5317");
  EXPECT_EQ(config.ingest.max_batch_records, 100u);
  EXPECT_EQ(config.ingest.max_batch_delay, absl::Milliseconds(2));
  EXPECT_EQ(config.ingest.max_message_bytes, 1048576u);
  EXPECT_EQ(config.ingest.max_record_bytes, 4096u);
  EXPECT_EQ(config.ingest.max_fields_per_record, 8u);
  EXPECT_EQ(config.ingest.max_field_key_bytes, 32u);
  EXPECT_EQ(config.ingest.max_field_value_bytes, 1024u);
  EXPECT_EQ(config.ingest.max_concurrent_streams, 100u);
  EXPECT_EQ(config.admin.listen, "127.0.0.1:5319");
  EXPECT_EQ(config.metrics.listen, "[::1]:9465");
  EXPECT_EQ(config.scheduler.workers, 8u);
  EXPECT_EQ(config.scheduler.channel_capacity, 1024u);
  EXPECT_EQ(config.scheduler.overflow, scheduler::OverflowPolicy::kDropOldest);
  EXPECT_EQ(config.scheduler.dispatch, scheduler::DispatchPolicy::kStreamAffinity);
  EXPECT_EQ(config.levels.default_level, Level::kWarn);
  ASSERT_EQ(config.levels.rules.size(), 2u);
  EXPECT_EQ(config.levels.rules[0].logger_prefix, "checkout");
  EXPECT_EQ(config.levels.rules[0].level, Level::kDebug);
  EXPECT_EQ(config.levels.rules[1].logger_prefix, "checkout.db");
  EXPECT_EQ(config.levels.rules[1].level, Level::kError);
  EXPECT_THAT(config.pipeline.base_fields,
              ElementsAre(Pair("service", "demo"), Pair("env", "prod"), Pair("replicas", "3")));
  EXPECT_EQ(config.pipeline.time_key, "ts");
  EXPECT_EQ(config.pipeline.level_key, "severity");
  EXPECT_EQ(config.pipeline.logger_key, "component");
  EXPECT_EQ(config.pipeline.message_key, "msg");
  ASSERT_EQ(config.outputs.size(), 2u);
  EXPECT_EQ(config.outputs[0].id(), "console/stdout");
  EXPECT_EQ(config.outputs[0].level, Level::kInfo);
  EXPECT_EQ(config.outputs[0].options["format"].as<std::string>(), "text");
  EXPECT_EQ(config.outputs[1].id(), "file/main");
  EXPECT_EQ(config.outputs[1].level, Level::kTrace);
  EXPECT_EQ(config.outputs[1].options["path"].as<std::string>(), "./sluice-data/records.log");
  EXPECT_EQ(config.shutdown.drain_timeout, absl::Minutes(1));
}

TEST(ConfigTest, OtherPoliciesParse) {
  EXPECT_EQ(ParseOk("scheduler: {overflow: drop_newest}").scheduler.overflow,
            scheduler::OverflowPolicy::kDropNewest);
  EXPECT_EQ(ParseOk("scheduler: {overflow: block, dispatch: round_robin}").scheduler.dispatch,
            scheduler::DispatchPolicy::kRoundRobin);
}

TEST(ConfigTest, EveryAckStageParses) {
  EXPECT_EQ(ParseOk("ingest: {ack_on: accepted}").ingest.ack_on, DeliveryStage::kAccepted);
  EXPECT_EQ(ParseOk("ingest: {ack_on: written}").ingest.ack_on, DeliveryStage::kWritten);
  EXPECT_EQ(ParseOk("ingest: {ack_on: flushed}").ingest.ack_on, DeliveryStage::kFlushed);
  EXPECT_EQ(ErrorOf("ingest: {ack_on: synced}"),
            "ingest.ack_on: expected one of accepted, written, flushed, got \"synced\"");
}

TEST(ConfigTest, ConnectionAgeAndGraceAreDurationsUpToADay) {
  const Config config = ParseOk("ingest: {max_connection_age: 5m, max_connection_age_grace: 10s}");
  EXPECT_EQ(config.ingest.max_connection_age, absl::Minutes(5));
  EXPECT_EQ(config.ingest.max_connection_age_grace, absl::Seconds(10));
  EXPECT_EQ(ParseOk("ingest: {max_connection_age: 0s}").ingest.max_connection_age,
            absl::ZeroDuration());
  EXPECT_EQ(ErrorOf("ingest: {max_connection_age: 25h}"),
            "ingest.max_connection_age: must be between 0 and 24h, got 25h");
  EXPECT_EQ(ErrorOf("ingest: {max_connection_age_grace: -1s}"),
            "ingest.max_connection_age_grace: must be between 0 and 24h, got -1s");
}

TEST(ConfigTest, UnknownTopLevelKeyIsRejectedListingTheKnownOnes) {
  EXPECT_EQ(ErrorOf("schedular: {workers: 2}"),
            "schedular: unknown key (known: ingest, admin, metrics, scheduler, levels, pipeline, "
            "hooks, outputs, shutdown)");
}

TEST(ConfigTest, UnknownKeyInEachSectionIsRejectedWithItsPath) {
  EXPECT_EQ(
      ErrorOf("scheduler: {worker: 4}"),
      "scheduler.worker: unknown key (known: workers, channel_capacity, channel_capacity_bytes, "
      "overflow, dispatch)");
  EXPECT_THAT(ErrorOf("ingest: {port: 4317}"), StartsWith("ingest.port: unknown key"));
  EXPECT_EQ(ErrorOf("admin: {listen: \"127.0.0.1:1\", ssl: true}"),
            "admin.ssl: unknown key (known: listen, tls, auth, token_file, read_only_token_file, "
            "max_taps)");
  EXPECT_THAT(ErrorOf("metrics: {path: /m}"), StartsWith("metrics.path: unknown key"));
  EXPECT_EQ(ErrorOf("levels: {defualt: info}"),
            "levels.defualt: unknown key (known: default, rules, max_rules, max_prefix_bytes)");
  EXPECT_THAT(ErrorOf("pipeline: {base: {}}"), StartsWith("pipeline.base: unknown key"));
  EXPECT_EQ(ErrorOf("shutdown: {timeout: 1s}"),
            "shutdown.timeout: unknown key (known: drain_timeout)");
}

TEST(ConfigTest, UnusualKeysAreQuotedInThePath) {
  EXPECT_THAT(ErrorOf("scheduler: {\"work ers\": 4}"),
              StartsWith("scheduler[\"work ers\"]: unknown key"));
}

TEST(ConfigTest, OutputBlocksKeepTheirOwnKeysForTheFactory) {
  const Config config = ParseOk("outputs: [{type: file, path: /tmp/x, buffer_bytes: 10, zzz: 1}]");
  ASSERT_EQ(config.outputs.size(), 1u);
  const YAML::Node& options = config.outputs[0].options;
  EXPECT_EQ(options["type"].as<std::string>(), "file");
  EXPECT_EQ(options["buffer_bytes"].as<int>(), 10);
  EXPECT_EQ(options["zzz"].as<int>(), 1);
}

TEST(ConfigTest, DuplicateKeyIsRejected) {
  EXPECT_EQ(ErrorOf("scheduler:\n  workers: 2\n  workers: 3\n"),
            "scheduler.workers: duplicate key");
  EXPECT_EQ(ErrorOf("ingest: {}\ningest: {}\n"), "ingest: duplicate key");
}

TEST(ConfigTest, WrongTypesNameTheKeyAndTheValue) {
  EXPECT_EQ(ErrorOf("scheduler: {workers: four}"),
            "scheduler.workers: expected an integer, got \"four\"");
  EXPECT_EQ(ErrorOf("scheduler: {workers: 2.5}"),
            "scheduler.workers: expected an integer, got \"2.5\"");
  EXPECT_EQ(ErrorOf("scheduler: {workers: [1]}"),
            "scheduler.workers: expected an integer, got a sequence");
  EXPECT_EQ(ErrorOf("scheduler: {workers: }"),
            "scheduler.workers: expected an integer, got an empty value");
  EXPECT_EQ(ErrorOf("ingest: {listen: {host: x}}"), "ingest.listen: expected a string, got a map");
  EXPECT_EQ(ErrorOf("scheduler: 4"), "scheduler: expected a map, got \"4\"");
  EXPECT_EQ(ErrorOf("scheduler: {overflow: wait}"),
            "scheduler.overflow: expected one of block, drop_newest, drop_oldest, got \"wait\"");
  EXPECT_EQ(ErrorOf("scheduler: {dispatch: random}"),
            "scheduler.dispatch: expected one of round_robin, stream_affinity, got \"random\"");
  EXPECT_EQ(ErrorOf("levels: {rules: [checkout]}"), "levels.rules: expected a map, got a sequence");
}

TEST(ConfigTest, DocumentRootMustBeAMap) {
  EXPECT_EQ(ErrorOf("- ingest\n"),
            "config: the document must be a map of sections, got a sequence");
  EXPECT_EQ(ErrorOf("hello\n"), "config: the document must be a map of sections, got \"hello\"");
}

// Found by tests/fuzz/config_fuzzer: yaml-cpp 0.7's LoadAll never returned on a stray ','
// where a value starts, and grew until memory ran out.
TEST(ConfigTest, AStrayCommaIsASyntaxErrorNotAnEndlessStream) {
  EXPECT_THAT(ErrorOf(", a"), StartsWith("config: line 1, column 1: "));
  EXPECT_THAT(ErrorOf(",\xff"), StartsWith("config: line 1, column 1: "));
  EXPECT_THAT(ErrorOf("  , name: x\n"), StartsWith("config: line 1, column 3: "));
}

TEST(ConfigTest, MoreThanOneDocumentIsRejected) {
  EXPECT_THAT(ErrorOf("ingest: {}\n---\nadmin: {}\n"),
              StartsWith("config: expected one YAML document, found 2"));
}

TEST(ConfigTest, WorkersRangeIsOneTo256) {
  EXPECT_EQ(ParseOk("scheduler: {workers: 1}").scheduler.workers, 1u);
  EXPECT_EQ(ParseOk("scheduler: {workers: 256}").scheduler.workers, 256u);
  EXPECT_EQ(ErrorOf("scheduler: {workers: 0}"),
            "scheduler.workers: must be between 1 and 256, got 0");
  EXPECT_EQ(ErrorOf("scheduler: {workers: 257}"),
            "scheduler.workers: must be between 1 and 256, got 257");
  EXPECT_EQ(ErrorOf("scheduler: {workers: -1}"),
            "scheduler.workers: must be between 1 and 256, got -1");
}

TEST(ConfigTest, ChannelCapacityRangeIsOneTo16Mi) {
  EXPECT_EQ(ParseOk("scheduler: {channel_capacity: 1}").scheduler.channel_capacity, 1u);
  EXPECT_EQ(ParseOk("scheduler: {channel_capacity: 16777216}").scheduler.channel_capacity,
            16777216u);
  EXPECT_THAT(ErrorOf("scheduler: {channel_capacity: 0}"),
              StartsWith("scheduler.channel_capacity: must be between 1 and 16777216"));
  EXPECT_THAT(ErrorOf("scheduler: {channel_capacity: 16777217}"),
              StartsWith("scheduler.channel_capacity: must be between 1 and 16777216"));
}

TEST(ConfigTest, MaxBatchRecordsRangeIsOneTo65536) {
  EXPECT_EQ(ParseOk("ingest: {max_batch_records: 1}").ingest.max_batch_records, 1u);
  EXPECT_EQ(ParseOk("ingest: {max_batch_records: 65536}").ingest.max_batch_records, 65536u);
  EXPECT_THAT(ErrorOf("ingest: {max_batch_records: 0}"),
              StartsWith("ingest.max_batch_records: must be between 1 and 65536"));
  EXPECT_THAT(ErrorOf("ingest: {max_batch_records: 65537}"),
              StartsWith("ingest.max_batch_records: must be between 1 and 65536"));
}

TEST(ConfigTest, MaxBatchDelayRangeIsZeroToTenSeconds) {
  EXPECT_EQ(ParseOk("ingest: {max_batch_delay: 0s}").ingest.max_batch_delay, absl::ZeroDuration());
  EXPECT_EQ(ParseOk("ingest: {max_batch_delay: 10s}").ingest.max_batch_delay, absl::Seconds(10));
  EXPECT_EQ(ErrorOf("ingest: {max_batch_delay: 10.001s}"),
            "ingest.max_batch_delay: must be between 0 and 10s, got 10.001s");
  EXPECT_EQ(ErrorOf("ingest: {max_batch_delay: -1ms}"),
            "ingest.max_batch_delay: must be between 0 and 10s, got -1ms");
}

TEST(ConfigTest, MaxMessageBytesRangeIsOneKibToSixtyFourMib) {
  EXPECT_EQ(ParseOk("ingest: {max_message_bytes: 1024}").ingest.max_message_bytes, 1024u);
  EXPECT_EQ(ParseOk("ingest: {max_message_bytes: 67108864}").ingest.max_message_bytes, 67108864u);
  EXPECT_THAT(ErrorOf("ingest: {max_message_bytes: 1023}"),
              StartsWith("ingest.max_message_bytes: must be between 1024 and 67108864"));
  EXPECT_THAT(ErrorOf("ingest: {max_message_bytes: 67108865}"),
              StartsWith("ingest.max_message_bytes: must be between 1024 and 67108864"));
  EXPECT_THAT(ErrorOf("ingest: {max_message_bytes: 99999999999999999999999}"),
              StartsWith("ingest.max_message_bytes: expected an integer"));
}

TEST(ConfigTest, MaxRecordBytesRangeIs64BytesToSixtyFourMib) {
  EXPECT_EQ(ParseOk("ingest: {max_record_bytes: 64}").ingest.max_record_bytes, 64u);
  EXPECT_EQ(ParseOk("ingest: {max_record_bytes: 67108864}").ingest.max_record_bytes, 67108864u);
  EXPECT_EQ(ErrorOf("ingest: {max_record_bytes: 63}"),
            "ingest.max_record_bytes: must be between 64 and 67108864, got 63");
  EXPECT_EQ(ErrorOf("ingest: {max_record_bytes: 67108865}"),
            "ingest.max_record_bytes: must be between 64 and 67108864, got 67108865");
  EXPECT_EQ(ErrorOf("ingest: {max_record_bytes: 64KiB}"),
            "ingest.max_record_bytes: expected an integer, got \"64KiB\"");
}

TEST(ConfigTest, MaxFieldsPerRecordRangeIsZeroTo65536) {
  EXPECT_EQ(ParseOk("ingest: {max_fields_per_record: 0}").ingest.max_fields_per_record, 0u);
  EXPECT_EQ(ParseOk("ingest: {max_fields_per_record: 65536}").ingest.max_fields_per_record, 65536u);
  EXPECT_EQ(ErrorOf("ingest: {max_fields_per_record: -1}"),
            "ingest.max_fields_per_record: must be between 0 and 65536, got -1");
  EXPECT_EQ(ErrorOf("ingest: {max_fields_per_record: 65537}"),
            "ingest.max_fields_per_record: must be between 0 and 65536, got 65537");
}

TEST(ConfigTest, MaxFieldKeyBytesRangeIsOneTo65536) {
  EXPECT_EQ(ParseOk("ingest: {max_field_key_bytes: 1}").ingest.max_field_key_bytes, 1u);
  EXPECT_EQ(ParseOk("ingest: {max_field_key_bytes: 65536}").ingest.max_field_key_bytes, 65536u);
  EXPECT_EQ(ErrorOf("ingest: {max_field_key_bytes: 0}"),
            "ingest.max_field_key_bytes: must be between 1 and 65536, got 0");
  EXPECT_EQ(ErrorOf("ingest: {max_field_key_bytes: 65537}"),
            "ingest.max_field_key_bytes: must be between 1 and 65536, got 65537");
}

TEST(ConfigTest, MaxFieldValueBytesRangeIsOneToSixtyFourMib) {
  EXPECT_EQ(ParseOk("ingest: {max_field_value_bytes: 1}").ingest.max_field_value_bytes, 1u);
  EXPECT_EQ(ParseOk("ingest: {max_field_value_bytes: 67108864}").ingest.max_field_value_bytes,
            67108864u);
  EXPECT_EQ(ErrorOf("ingest: {max_field_value_bytes: 0}"),
            "ingest.max_field_value_bytes: must be between 1 and 67108864, got 0");
  EXPECT_EQ(ErrorOf("ingest: {max_field_value_bytes: 67108865}"),
            "ingest.max_field_value_bytes: must be between 1 and 67108864, got 67108865");
}

TEST(ConfigTest, MaxConcurrentStreamsRangeIsOneToOneMi) {
  EXPECT_EQ(ParseOk("ingest: {max_concurrent_streams: 1}").ingest.max_concurrent_streams, 1u);
  EXPECT_EQ(ParseOk("ingest: {max_concurrent_streams: 1048576}").ingest.max_concurrent_streams,
            1048576u);
  EXPECT_EQ(ErrorOf("ingest: {max_concurrent_streams: 0}"),
            "ingest.max_concurrent_streams: must be between 1 and 1048576, got 0");
  EXPECT_EQ(ErrorOf("ingest: {max_concurrent_streams: 1048577}"),
            "ingest.max_concurrent_streams: must be between 1 and 1048576, got 1048577");
}

TEST(ConfigTest, DrainTimeoutRangeIsZeroToOneHour) {
  EXPECT_EQ(ParseOk("shutdown: {drain_timeout: 0s}").shutdown.drain_timeout, absl::ZeroDuration());
  EXPECT_EQ(ParseOk("shutdown: {drain_timeout: 1h}").shutdown.drain_timeout, absl::Hours(1));
  EXPECT_EQ(ErrorOf("shutdown: {drain_timeout: 61m}"),
            "shutdown.drain_timeout: must be between 0 and 1h, got 1h1m");
}

TEST(ConfigTest, DurationsAcceptAbseilSyntax) {
  EXPECT_EQ(ParseOk("ingest: {max_batch_delay: 250us}").ingest.max_batch_delay,
            absl::Microseconds(250));
  EXPECT_EQ(ParseOk("ingest: {max_batch_delay: 1.5s}").ingest.max_batch_delay,
            absl::Milliseconds(1500));
  EXPECT_EQ(ParseOk("shutdown: {drain_timeout: 1m30s}").shutdown.drain_timeout, absl::Seconds(90));
}

TEST(ConfigTest, DurationWithoutUnitAsksForOne) {
  EXPECT_EQ(ErrorOf("shutdown: {drain_timeout: 30}"),
            "shutdown.drain_timeout: \"30\" has no unit; add one, e.g. \"30s\" or \"30ms\"");
  EXPECT_THAT(ErrorOf("ingest: {max_batch_delay: 0}"), HasSubstr("has no unit"));
  EXPECT_EQ(ErrorOf("ingest: {max_batch_delay: soon}"),
            "ingest.max_batch_delay: expected a duration such as \"5ms\" or \"30s\", got \"soon\"");
}

TEST(ConfigTest, LevelsAcceptEveryNameInAnyCase) {
  EXPECT_EQ(ParseOk("levels: {default: TRACE}").levels.default_level, Level::kTrace);
  EXPECT_EQ(ParseOk("levels: {default: warning}").levels.default_level, Level::kWarn);
  EXPECT_EQ(ParseOk("levels: {default: Fatal}").levels.default_level, Level::kFatal);
  EXPECT_THAT(ErrorOf("levels: {default: verbose}"),
              StartsWith("levels.default: invalid level \"verbose\": expected one of trace"));
  EXPECT_THAT(ErrorOf("levels: {rules: {checkout: loud}}"),
              StartsWith("levels.rules.checkout: invalid level \"loud\""));
}

TEST(ConfigTest, ALevelRuleMayBeAListOfLevels) {
  const Config config = ParseOk("levels: {rules: {audit: [error, DEBUG, error], api: warn}}");
  ASSERT_EQ(config.levels.rules.size(), 2u);
  EXPECT_EQ(config.levels.rules[0].enabled_levels,
            (std::vector<Level>{Level::kError, Level::kDebug}));
  EXPECT_TRUE(config.levels.rules[1].enabled_levels.empty());
  EXPECT_EQ(ErrorOf("levels: {rules: {audit: []}}"),
            "levels.rules.audit: a list of levels must not be empty");
  EXPECT_THAT(ErrorOf("levels: {rules: {audit: [error, loud]}}"),
              StartsWith("levels.rules.audit[1]: invalid level \"loud\""));
}

TEST(ConfigTest, LevelRulesAreBoundedByTheConfiguredLimits) {
  EXPECT_EQ(ErrorOf("levels: {rules: {a: debug, b: debug, c: debug}, max_rules: 2}"),
            "levels.rules: 3 rules, more than levels.max_rules (2)");
  EXPECT_EQ(ErrorOf("levels: {max_prefix_bytes: 4, rules: {abcde: debug}}"),
            "levels.rules.abcde: a prefix of 5 bytes, longer than levels.max_prefix_bytes (4)");
  EXPECT_EQ(ParseOk("levels: {max_prefix_bytes: 5, rules: {abcde: debug}}").levels.rules.size(),
            1u);
  EXPECT_THAT(ErrorOf("levels: {max_rules: 0}"), StartsWith("levels.max_rules: "));
}

TEST(ConfigTest, LevelRulePrefixesAreValidated) {
  EXPECT_EQ(ParseOk("levels: {rules: {a-b_c.D9: debug}}").levels.rules[0].logger_prefix,
            "a-b_c.D9");
  EXPECT_THAT(ErrorOf("levels: {rules: {\".checkout\": debug}}"),
              StartsWith("levels.rules[\".checkout\"]: a logger prefix must"));
  EXPECT_THAT(ErrorOf("levels: {rules: {\"checkout.\": debug}}"),
              StartsWith("levels.rules[\"checkout.\"]: a logger prefix must"));
  EXPECT_THAT(ErrorOf("levels: {rules: {\"check out\": debug}}"),
              StartsWith("levels.rules[\"check out\"]: a logger prefix must"));
  EXPECT_THAT(ErrorOf("levels: {rules: {\"\": debug}}"),
              StartsWith("levels.rules[\"\"]: a logger prefix must"));
  EXPECT_THAT(ErrorOf("levels: {rules: {\"checkout..db\": debug}}"),
              StartsWith("levels.rules[\"checkout..db\"]: a logger prefix must"));
}

TEST(ConfigTest, DuplicateLevelRulePrefixIsRejected) {
  EXPECT_EQ(ErrorOf("levels:\n  rules:\n    checkout: debug\n    \"checkout\": warn\n"),
            "levels.rules.checkout: duplicate rule prefix");
}

TEST(ConfigTest, OutputsMustBeASequenceOfMapsWithAType) {
  EXPECT_EQ(ErrorOf("outputs: {type: console}"),
            "outputs: expected a sequence of output blocks, got a map");
  EXPECT_EQ(ErrorOf("outputs: [console]"),
            "outputs[0]: expected a map with at least a `type` key, got \"console\"");
  EXPECT_EQ(ErrorOf("outputs: [{type: console}, {name: x}]"),
            "outputs[1]: missing required key `type`");
  EXPECT_EQ(ErrorOf("outputs: [{type: [console]}]"),
            "outputs[0].type: expected a string, got a sequence");
  EXPECT_THAT(ErrorOf("outputs: [{type: null}]"),
              HasSubstr("outputs[0].type: expected a string, got an empty value or null (write"));
  EXPECT_THAT(ErrorOf("outputs: [{type: console, name: \"a/b\"}]"),
              StartsWith("outputs[0].name: \"a/b\" must be non-empty"));
  EXPECT_THAT(ErrorOf("outputs: [{type: console, level: loud}]"),
              StartsWith("outputs[0].level: invalid level \"loud\""));
}

TEST(ConfigTest, OutputNameDefaultsToTheTypeAndLevelToTrace) {
  const Config config = ParseOk("outputs: [{type: \"null\"}, {type: console, level: error}]");
  ASSERT_EQ(config.outputs.size(), 2u);
  EXPECT_EQ(config.outputs[0].type, "null");
  EXPECT_EQ(config.outputs[0].name, "null");
  EXPECT_EQ(config.outputs[0].id(), "null/null");
  EXPECT_EQ(config.outputs[0].level, Level::kTrace);
  EXPECT_EQ(config.outputs[1].id(), "console/console");
  EXPECT_EQ(config.outputs[1].level, Level::kError);
}

TEST(ConfigTest, OutputRoutesReadLoggersAndMatchInFileOrder) {
  const Config config = ParseOk(
      "outputs:\n"
      "  - {type: file, name: audit, path: a.log, loggers: [audit, login]}\n"
      "  - {type: file, name: db, path: d.log, match: {component: /^db/, code: 200}}\n"
      "  - {type: file, name: all, path: all.log}\n");
  ASSERT_EQ(config.outputs.size(), 3u);
  EXPECT_THAT(config.outputs[0].loggers, ElementsAre("audit", "login"));
  EXPECT_TRUE(config.outputs[0].match.empty());
  EXPECT_TRUE(config.outputs[1].loggers.empty());
  EXPECT_THAT(config.outputs[1].match,
              ElementsAre(Pair("component", "/^db/"), Pair("code", "200")));
  EXPECT_TRUE(config.outputs[2].loggers.empty());
  EXPECT_TRUE(config.outputs[2].match.empty());
}

TEST(ConfigTest, OutputRouteErrorsNameTheirKeys) {
  EXPECT_EQ(ErrorOf("outputs: [{type: console}, {type: \"null\", loggers: []}]"),
            "outputs[1].loggers: must not be empty; leave the key out to take every logger");
  EXPECT_THAT(ErrorOf("outputs: [{type: console, loggers: audit}]"),
              StartsWith("outputs[0].loggers: expected"));
  EXPECT_THAT(ErrorOf("outputs: [{type: console, loggers: [\"\"]}]"),
              StartsWith("outputs[0].loggers[0]:"));
  EXPECT_THAT(ErrorOf("outputs: [{type: console, match: [user]}]"),
              StartsWith("outputs[0].match: expected"));
  EXPECT_THAT(ErrorOf("outputs: [{type: console}, {type: \"null\", match: {user: [a, b]}}]"),
              StartsWith("outputs[1].match.user: expected"));
}

TEST(ConfigTest, DuplicateOutputIdsAreRejected) {
  EXPECT_THAT(ErrorOf("outputs:\n"
                      "  - {type: file, name: main, path: a.log}\n"
                      "  - {type: file, name: main, path: b.log}\n"),
              StartsWith("outputs[1]: duplicate output id \"file/main\""));
  EXPECT_THAT(ErrorOf("outputs: [{type: console}, {type: console}]"),
              StartsWith("outputs[1]: duplicate output id \"console/console\""));
  EXPECT_EQ(ParseOk("outputs: [{type: console}, {type: console, name: err}]").outputs.size(), 2u);
}

TEST(ConfigTest, PipelineKeysMustBeNonEmptyAndDistinct) {
  EXPECT_EQ(ErrorOf("pipeline: {time_key: \"\"}"), "pipeline.time_key: must not be empty");
  EXPECT_EQ(ErrorOf("pipeline: {message_key: logger}"),
            "pipeline.logger_key and pipeline.message_key are both \"logger\"; they must differ");
  EXPECT_EQ(ErrorOf("pipeline: {time_key: t, level_key: t}"),
            "pipeline.time_key and pipeline.level_key are both \"t\"; they must differ");
}

TEST(ConfigTest, BaseFieldValuesMustBeScalars) {
  EXPECT_EQ(ErrorOf("pipeline: {base_fields: {tags: [a, b]}}"),
            "pipeline.base_fields.tags: expected a scalar value, got a sequence");
  EXPECT_EQ(ErrorOf("pipeline: {base_fields: {env: }}"),
            "pipeline.base_fields.env: expected a scalar value, got an empty value");
  EXPECT_EQ(ErrorOf("pipeline: {base_fields: [env]}"),
            "pipeline.base_fields: expected a map, got a sequence");
  EXPECT_EQ(ErrorOf("pipeline: {base_fields: {\"\": x}}"),
            "pipeline.base_fields[\"\"]: a field name must not be empty");
}

TEST(ConfigTest, ListenAddressFormsAreAccepted) {
  for (absl::string_view address : {"0.0.0.0:4317", "127.0.0.1:0", "localhost:65535", "[::1]:4317",
                                    "[::]:0", "sluice.example.internal:80"}) {
    EXPECT_TRUE(ValidateListenAddress(address).ok()) << address;
  }
}

TEST(ConfigTest, MalformedListenAddressesAreRejected) {
  for (absl::string_view address :
       {"", "4317", ":4317", "localhost", "localhost:", "localhost:65536", "localhost:-1",
        "localhost:http", "::1:4317", "[::1]4317", "[::1", "[]:4317", "local host:80",
        "localhost:123456"}) {
    const absl::Status status = ValidateListenAddress(address);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << address;
  }
  EXPECT_THAT(std::string(ValidateListenAddress("::1:4317").message()),
              HasSubstr("must be in brackets"));
}

TEST(ConfigTest, ListenAddressInTheFileIsValidated) {
  EXPECT_THAT(ErrorOf("metrics: {listen: \"0.0.0.0\"}"),
              StartsWith("metrics.listen: \"0.0.0.0\" is not a listen address: missing ':port'"));
  EXPECT_THAT(ErrorOf("ingest: {listen: \"0.0.0.0:70000\"}"), StartsWith("ingest.listen: "));
  EXPECT_THAT(ErrorOf("admin: {listen: 4319}"), StartsWith("admin.listen: \"4319\" is not"));
}

TEST(ConfigTest, OverridesWinOverTheFile) {
  Config config = ParseOk("ingest: {listen: \"0.0.0.0:1\"}\nadmin: {listen: \"127.0.0.1:2\"}\n");
  Overrides overrides;
  overrides.ingest_listen = "127.0.0.1:0";
  overrides.metrics_listen = "[::1]:9999";
  ASSERT_TRUE(ApplyOverrides(overrides, config).ok());
  EXPECT_EQ(config.ingest.listen, "127.0.0.1:0");
  EXPECT_EQ(config.admin.listen, "127.0.0.1:2");
  EXPECT_EQ(config.metrics.listen, "[::1]:9999");
}

TEST(ConfigTest, InvalidOverrideIsRejectedNamingTheFlagAndChangesNothing) {
  Config config;
  Overrides overrides;
  overrides.ingest_listen = "127.0.0.1:0";
  overrides.admin_listen = "nowhere";
  const absl::Status status = ApplyOverrides(overrides, config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              StartsWith("--admin_listen: \"nowhere\" is not a listen address"));
  EXPECT_EQ(config.ingest.listen, "0.0.0.0:4317");
  EXPECT_EQ(config.admin.listen, "127.0.0.1:4319");
}

TEST(ConfigTest, YamlSyntaxErrorReportsLineAndColumn) {
  EXPECT_THAT(ErrorOf("ingest:\n  listen: \"0.0.0.0:4317\"\n  max_batch_records: [1, 2\n"),
              StartsWith("config: line 4, column 1: "));
  EXPECT_THAT(ErrorOf("scheduler: {workers: 4\n"), StartsWith("config: line "));
}

TEST(ConfigTest, MissingFileIsNotFoundNamingThePath) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/no-such-dir/sluiced.yaml");
  const absl::StatusOr<Config> config = LoadConfigFile(path);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(config.status().message()), StartsWith(path + ": "));
}

TEST(ConfigTest, FileErrorsNameTheFile) {
  const std::string bad_value =
      WriteTempFile("config_test_bad_value.yaml", "scheduler:\n  workers: 0\n");
  EXPECT_THAT(std::string(LoadConfigFile(bad_value).status().message()),
              StartsWith(bad_value + ": scheduler.workers: must be between 1 and 256"));
  const std::string bad_syntax = WriteTempFile("config_test_bad_syntax.yaml", "a: [\n");
  EXPECT_THAT(std::string(LoadConfigFile(bad_syntax).status().message()),
              StartsWith(bad_syntax + ": line "));
  const std::string good = WriteTempFile("config_test_good.yaml", "scheduler: {workers: 2}\n");
  absl::StatusOr<Config> config = LoadConfigFile(good);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->scheduler.workers, 2u);
}

TEST(ConfigTest, ShippedDefaultConfigParses) {
  const absl::StatusOr<Config> config =
      LoadConfigFile(absl::StrCat(SLUICE_SOURCE_DIR, "/deploy/sluiced.yaml"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->ingest.listen, "0.0.0.0:4317");
  EXPECT_EQ(config->admin.listen, "127.0.0.1:4319");
  EXPECT_EQ(config->metrics.listen, "0.0.0.0:9464");
  EXPECT_EQ(config->scheduler.workers, 4u);
  EXPECT_EQ(config->scheduler.channel_capacity, 65536u);
  EXPECT_EQ(config->scheduler.overflow, scheduler::OverflowPolicy::kBlock);
  EXPECT_EQ(config->scheduler.dispatch, scheduler::DispatchPolicy::kRoundRobin);
  EXPECT_EQ(config->levels.default_level, Level::kInfo);
  EXPECT_EQ(config->shutdown.drain_timeout, absl::Seconds(30));
  ASSERT_EQ(config->outputs.size(), 2u);
  EXPECT_EQ(config->outputs[0].id(), "console/stdout");
  EXPECT_EQ(config->outputs[0].level, Level::kInfo);
  EXPECT_EQ(config->outputs[1].id(), "file/main");
  EXPECT_EQ(config->outputs[1].options["format"].as<std::string>(), "json");
}

TEST(SecurityConfigTest, TlsAndTokenKeysParse) {
  const Config config = ParseOk(R"(
ingest:
  tls: { cert_file: s.pem, key_file: s.key, client_ca_file: ca.pem, refresh_interval: 5s }
  tokens_file: ingest.tokens
admin:
  tls: { cert_file: a.pem, key_file: a.key }
  auth: token
  token_file: admin.tokens
  read_only_token_file: viewer.tokens
)");
  ASSERT_TRUE(config.ingest.tls.has_value());
  EXPECT_EQ(config.ingest.tls->cert_file, "s.pem");
  EXPECT_EQ(config.ingest.tls->refresh_interval, absl::Seconds(5));
  EXPECT_TRUE(config.ingest.tls->requires_client_cert());
  EXPECT_EQ(config.ingest.tokens_file, "ingest.tokens");
  ASSERT_TRUE(config.admin.tls.has_value());
  EXPECT_FALSE(config.admin.tls->requires_client_cert());
  EXPECT_EQ(config.admin.auth, AdminAuthMode::kToken);
  EXPECT_EQ(config.admin.read_only_token_file, "viewer.tokens");
  EXPECT_FALSE(ParseOk("").ingest.tls.has_value());
  EXPECT_EQ(ParseOk("").admin.auth, AdminAuthMode::kDefault);
}

TEST(SecurityConfigTest, TlsBlocksAreValidated) {
  EXPECT_THAT(ErrorOf("ingest: { tls: { key_file: s.key } }"), HasSubstr("ingest.tls"));
  EXPECT_THAT(ErrorOf("admin: { tls: { cert_file: a.pem, key_file: a.key, "
                      "require_client_cert: true } }"),
              HasSubstr("admin.tls.require_client_cert: needs client_ca_file"));
  EXPECT_FALSE(ParseOk("ingest: { tls: { cert_file: s.pem, key_file: s.key, client_ca_file: c, "
                       "require_client_cert: false } }")
                   .ingest.tls->requires_client_cert());
  EXPECT_THAT(ErrorOf("admin: { auth: maybe }"), HasSubstr("admin.auth"));
}

TEST(ConfigTest, AdminMaxTapsDefaultsToFourAndIsBounded) {
  EXPECT_EQ(ParseOk("").admin.max_taps, 4u);
  EXPECT_EQ(ParseOk("admin: {max_taps: 0}").admin.max_taps, 0u);
  EXPECT_THAT(ErrorOf("admin: {max_taps: 65}"), StartsWith("admin.max_taps: "));
}

}  // namespace
}  // namespace sluice::config
