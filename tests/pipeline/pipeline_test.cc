#include "server/pipeline/pipeline.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "server/config/config.h"
#include "server/outputs/encoding_registry.h"
#include "server/pipeline/hooks/builtin_hooks.h"
#include "tests/test_util/eventually.h"
#include "yaml-cpp/yaml.h"

namespace sluice::pipeline {
namespace {

// Answers Write with the statuses it was given, then OK; remembers the lines it took.
class ScriptedOutput : public outputs::Output {
 public:
  ScriptedOutput(std::string id, std::deque<absl::Status> script = {})
      : id_(std::move(id)), script_(std::move(script)) {}

  absl::string_view id() const override { return id_; }
  std::optional<outputs::EncodingId> encoding() const override { return outputs::kJsonEncoding; }
  absl::Status Start() override { return start_status; }
  absl::Status Write(outputs::OutputBatch& batch) override {
    ++attempts;
    if (!script_.empty()) {
      absl::Status status = script_.front();
      script_.pop_front();
      if (!status.ok()) return status;
    }
    lines += std::string(batch.Lines(outputs::kJsonEncoding));
    return absl::OkStatus();
  }
  absl::Status Flush(absl::Time) override {
    ++flushes;
    if (!flush_script.empty()) {
      absl::Status status = flush_script.front();
      flush_script.pop_front();
      return status;
    }
    return flush_status;
  }
  absl::Status Shutdown(absl::Time) override { return absl::OkStatus(); }

  absl::Status start_status;
  absl::Status flush_status;
  // Answered before flush_status, in order.
  std::deque<absl::Status> flush_script;
  int attempts = 0;
  int flushes = 0;
  std::string lines;

 private:
  std::string id_;
  std::deque<absl::Status> script_;
};

RecordBatch MakeBatch(std::vector<v1::Level> levels) {
  RecordBatch batch;
  batch.set_received_at(absl::Now());
  int i = 0;
  for (v1::Level level : levels) {
    v1::LogRecord* record = batch.records().Add();
    record->set_level(level);
    record->set_message(absl::StrCat("m", i++));
    record->set_time_unix_nano(1);
  }
  return batch;
}

// Attaches a delivery callback for `stage` to `batch` that stores its report in `report`.
void AwaitDelivery(RecordBatch& batch, DeliveryStage stage, std::optional<Delivery>& report) {
  batch.set_delivery(stage, [&report](const Delivery& delivery) { report = delivery; });
}

// Retries at once and gives up soon, so that tests of giving up are quick.
OutputSenderConfig FastRetry() {
  OutputSenderConfig config;
  config.retry.initial_backoff = absl::Microseconds(10);
  config.retry.max_backoff = absl::Microseconds(100);
  config.retry.max_elapsed = absl::Milliseconds(20);
  return config;
}

// Processes `batch` on worker 0 and waits until every output's sender finished it: the
// books and the delivery are settled by then (they are, before the buffer lets go of it).
void ProcessAndSettle(Pipeline& pipeline, RecordBatch& batch) {
  pipeline.Process(0, batch);
  ASSERT_TRUE(test_util::Eventually([&pipeline] {
    for (const OutputSenderSnapshot& output : pipeline.Snapshot()) {
      if (output.buffer_records > 0) return false;
    }
    return true;
  }));
}

struct Built {
  std::unique_ptr<Pipeline> pipeline;
  std::vector<ScriptedOutput*> outputs;
};

Built Build(std::vector<std::pair<std::unique_ptr<ScriptedOutput>, Level>> outputs, Ledger& ledger,
            OutputMetrics* metrics = nullptr, bool start = true) {
  Built built;
  std::vector<Pipeline::Destination> destinations;
  for (auto& [output, level] : outputs) {
    built.outputs.push_back(output.get());
    destinations.push_back({std::move(output), level, hooks::RecordMatch(), FastRetry()});
  }
  built.pipeline =
      std::make_unique<Pipeline>(PipelineConfig{}, std::move(destinations),
                                 outputs::EncodingRegistry(), /*workers=*/1, ledger, metrics);
  if (start) {
    EXPECT_TRUE(built.pipeline->Start().ok());
  }
  return built;
}

TEST(PipelineTest, EachOutputGetsOnlyTheRecordsItsLevelAdmits) {
  Ledger ledger;
  std::vector<std::pair<std::unique_ptr<ScriptedOutput>, Level>> outputs;
  outputs.emplace_back(std::make_unique<ScriptedOutput>("all/x"), Level::kTrace);
  outputs.emplace_back(std::make_unique<ScriptedOutput>("errors/x"), Level::kError);
  outputs.emplace_back(std::make_unique<ScriptedOutput>("fatal/x"), Level::kFatal);
  Built built = Build(std::move(outputs), ledger);
  RecordBatch batch = MakeBatch({v1::LEVEL_INFO, v1::LEVEL_ERROR, v1::LEVEL_DEBUG});
  ProcessAndSettle(*built.pipeline, batch);

  EXPECT_EQ(std::count(built.outputs[0]->lines.begin(), built.outputs[0]->lines.end(), '\n'), 3);
  EXPECT_THAT(built.outputs[1]->lines, ::testing::HasSubstr("\"m1\""));
  EXPECT_THAT(built.outputs[1]->lines, ::testing::Not(::testing::HasSubstr("\"m0\"")));
  EXPECT_EQ(built.outputs[2]->attempts, 0);  // nothing for it: not even called
  EXPECT_EQ(ledger.Snapshot().written, 3u);
}

TEST(PipelineTest, PostHooksRunBeforeFormattingAndTheirDropsAreInTheBooks) {
  Ledger ledger;
  std::vector<std::pair<std::unique_ptr<ScriptedOutput>, Level>> outputs;
  outputs.emplace_back(std::make_unique<ScriptedOutput>("all/x"), Level::kTrace);
  Built built = Build(std::move(outputs), ledger);
  const YAML::Node config = YAML::Load(
      "post:\n  - {type: add_fields, fields: {dc: eu-1}}\n"
      "  - {type: drop, name: no-debug, level_at_most: debug}\n");
  hooks::HookRegistry registry;
  hooks::RegisterBuiltinHooks(registry);
  std::vector<config::HookConfig> configs;
  for (size_t i = 0; i < config["post"].size(); ++i) {
    configs.push_back({.key_path = "hooks.post",
                       .type = config["post"][i]["type"].as<std::string>(),
                       .name = "x",
                       .options = config["post"][i]});
  }
  configs[1].name = "no-debug";
  auto created = registry.CreateAll(hooks::HookPhase::kPost, configs);
  ASSERT_TRUE(created.ok()) << created.status();
  built.pipeline->SetPostHooks(hooks::HookChain(std::move(*created), nullptr));

  RecordBatch batch = MakeBatch({v1::LEVEL_INFO, v1::LEVEL_DEBUG, v1::LEVEL_ERROR});
  std::optional<Delivery> report;
  AwaitDelivery(batch, DeliveryStage::kWritten, report);
  ProcessAndSettle(*built.pipeline, batch);

  EXPECT_EQ(std::count(built.outputs[0]->lines.begin(), built.outputs[0]->lines.end(), '\n'), 2);
  EXPECT_THAT(built.outputs[0]->lines, ::testing::Not(::testing::HasSubstr("\"m1\"")));
  EXPECT_THAT(built.outputs[0]->lines, ::testing::HasSubstr("\"dc\":\"eu-1\""));
  const LedgerCounts counts = ledger.Snapshot();
  EXPECT_EQ(counts.written, 2u);
  EXPECT_EQ(counts.dropped_by_hook, 1u);
  EXPECT_EQ(counts.dropped, 0u);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->delivered, 3u);
  EXPECT_EQ(report->dropped, 0u);
}

TEST(PipelineTest, TransientErrorsAreRetriedUntilTheOutputTakesTheBatch) {
  Ledger ledger;
  std::vector<std::pair<std::unique_ptr<ScriptedOutput>, Level>> outputs;
  outputs.emplace_back(
      std::make_unique<ScriptedOutput>(
          "flaky/x", std::deque<absl::Status>{absl::UnavailableError("down"),
                                              absl::DeadlineExceededError("slow")}),
      Level::kTrace);
  Built built = Build(std::move(outputs), ledger);
  RecordBatch batch = MakeBatch({v1::LEVEL_INFO});
  ProcessAndSettle(*built.pipeline, batch);
  EXPECT_EQ(built.outputs[0]->attempts, 3);
  EXPECT_THAT(built.outputs[0]->lines, ::testing::HasSubstr("\"m0\""));
}

TEST(PipelineTest, GivesUpAfterTheLastAttemptAndCountsTheDropWithoutHurtingOtherOutputs) {
  Ledger ledger;
  prometheus::Registry registry;
  OutputMetrics metrics(registry, {"down/x", "fine/x"});
  std::vector<std::pair<std::unique_ptr<ScriptedOutput>, Level>> outputs;
  outputs.emplace_back(
      std::make_unique<ScriptedOutput>(
          "down/x", std::deque<absl::Status>(1000000, absl::UnavailableError("down"))),
      Level::kTrace);
  outputs.emplace_back(std::make_unique<ScriptedOutput>("fine/x"), Level::kTrace);
  Built built = Build(std::move(outputs), ledger, &metrics);
  RecordBatch batch = MakeBatch({v1::LEVEL_INFO, v1::LEVEL_WARN});
  ProcessAndSettle(*built.pipeline, batch);

  EXPECT_GE(built.outputs[0]->attempts, 2);
  EXPECT_EQ(built.outputs[1]->attempts, 1);
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_THAT(text, ::testing::HasSubstr("sluice_output_records_dropped_total{output=\"down/x\","
                                         "reason=\"retries_exhausted\"} 2"));
  EXPECT_THAT(text, ::testing::HasSubstr(
                        absl::StrCat("sluice_output_records_send_failed_total{output=\"down/x\"} ",
                                     2 * built.outputs[0]->attempts)));
  EXPECT_THAT(text, ::testing::HasSubstr("sluice_output_records_sent_total{output=\"fine/x\"} 2"));
  // One output of two lost them: the books count them dropped, not written.
  const LedgerCounts counts = ledger.Snapshot();
  EXPECT_EQ(counts.written, 0u);
  EXPECT_EQ(counts.dropped_output_failed, 2u);
  EXPECT_EQ(counts.dropped, 2u);
}

TEST(PipelineTest, ADelayTheDestinationAsksForReplacesTheBackoff) {
  Ledger ledger;
  auto output = std::make_unique<ScriptedOutput>(
      "paced/x", std::deque<absl::Status>{outputs::WithRetryDelay(
                     absl::UnavailableError("slow down"), absl::Milliseconds(1))});
  ScriptedOutput* scripted = output.get();
  // A backoff of an hour: only the destination's delay lets the retry come in time.
  OutputSenderConfig sender;
  sender.retry.initial_backoff = absl::Hours(1);
  sender.retry.max_backoff = absl::Hours(1);
  std::vector<Pipeline::Destination> destinations;
  destinations.push_back({std::move(output), Level::kTrace, hooks::RecordMatch(), sender});
  Pipeline pipeline(PipelineConfig{}, std::move(destinations), outputs::EncodingRegistry(),
                    /*workers=*/1, ledger, nullptr);
  ASSERT_TRUE(pipeline.Start().ok());
  RecordBatch batch = MakeBatch({v1::LEVEL_INFO});
  ProcessAndSettle(pipeline, batch);
  EXPECT_EQ(scripted->attempts, 2);
  EXPECT_EQ(ledger.Snapshot().written, 1u);
}

TEST(PipelineTest, PermanentErrorsAreNotRetried) {
  Ledger ledger;
  prometheus::Registry registry;
  OutputMetrics metrics(registry, {"broken/x"});
  std::vector<std::pair<std::unique_ptr<ScriptedOutput>, Level>> outputs;
  outputs.emplace_back(
      std::make_unique<ScriptedOutput>(
          "broken/x", std::deque<absl::Status>{absl::InvalidArgumentError("bad record")}),
      Level::kTrace);
  Built built = Build(std::move(outputs), ledger, &metrics);
  RecordBatch batch = MakeBatch({v1::LEVEL_INFO});
  ProcessAndSettle(*built.pipeline, batch);
  EXPECT_EQ(built.outputs[0]->attempts, 1);
  EXPECT_THAT(prometheus::TextSerializer().Serialize(registry.Collect()),
              ::testing::HasSubstr("sluice_output_records_dropped_total{output=\"broken/x\","
                                   "reason=\"permanent_error\"} 1"));
  EXPECT_EQ(ledger.Snapshot().written, 0u);
  EXPECT_EQ(ledger.Snapshot().dropped_output_failed, 1u);
}

TEST(PipelineTest, ARecordSeveralOutputsFailedOnIsDroppedOnceAndTheRestWritten) {
  Ledger ledger;
  std::vector<std::pair<std::unique_ptr<ScriptedOutput>, Level>> outputs;
  outputs.emplace_back(std::make_unique<ScriptedOutput>("fine/x"), Level::kTrace);
  outputs.emplace_back(
      std::make_unique<ScriptedOutput>(
          "warnings/x", std::deque<absl::Status>{absl::InvalidArgumentError("refused")}),
      Level::kWarn);
  outputs.emplace_back(
      std::make_unique<ScriptedOutput>(
          "errors/x", std::deque<absl::Status>{absl::InvalidArgumentError("refused")}),
      Level::kError);
  Built built = Build(std::move(outputs), ledger);
  RecordBatch batch = MakeBatch({v1::LEVEL_INFO, v1::LEVEL_WARN, v1::LEVEL_ERROR});
  std::optional<Delivery> report;
  AwaitDelivery(batch, DeliveryStage::kWritten, report);
  ProcessAndSettle(*built.pipeline, batch);

  // WARN was lost by one output, ERROR by two: two records lost, one written.
  const LedgerCounts counts = ledger.Snapshot();
  EXPECT_EQ(counts.written, 1u);
  EXPECT_EQ(counts.dropped_output_failed, 2u);
  EXPECT_EQ(counts.written + counts.dropped, 3u);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->delivered, counts.written);
  EXPECT_EQ(report->dropped, counts.dropped_output_failed);
}

TEST(PipelineTest, WrittenDeliveryIsReportedOnceEveryOutputTookTheBatch) {
  Ledger ledger;
  std::vector<std::pair<std::unique_ptr<ScriptedOutput>, Level>> outputs;
  outputs.emplace_back(std::make_unique<ScriptedOutput>("all/x"), Level::kTrace);
  Built built = Build(std::move(outputs), ledger);
  RecordBatch batch = MakeBatch({v1::LEVEL_INFO, v1::LEVEL_ERROR});
  std::optional<Delivery> report;
  AwaitDelivery(batch, DeliveryStage::kWritten, report);
  ProcessAndSettle(*built.pipeline, batch);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->delivered, 2u);
  EXPECT_EQ(report->dropped, 0u);
  EXPECT_EQ(built.outputs[0]->flushes, 0);
}

TEST(PipelineTest, RecordsAFailedOutputDroppedAreReportedDropped) {
  Ledger ledger;
  std::vector<std::pair<std::unique_ptr<ScriptedOutput>, Level>> outputs;
  outputs.emplace_back(std::make_unique<ScriptedOutput>("fine/x"), Level::kTrace);
  outputs.emplace_back(
      std::make_unique<ScriptedOutput>(
          "errors/x", std::deque<absl::Status>{absl::InvalidArgumentError("schema mismatch")}),
      Level::kError);
  Built built = Build(std::move(outputs), ledger);
  RecordBatch batch = MakeBatch({v1::LEVEL_INFO, v1::LEVEL_ERROR, v1::LEVEL_INFO});
  std::optional<Delivery> report;
  AwaitDelivery(batch, DeliveryStage::kWritten, report);
  ProcessAndSettle(*built.pipeline, batch);
  ASSERT_TRUE(report.has_value());
  // The error output takes only the ERROR record, and lost it.
  EXPECT_EQ(report->delivered, 2u);
  EXPECT_EQ(report->dropped, 1u);
  EXPECT_EQ(report->reason, DropReason::kOutputFailed);
  EXPECT_EQ(ledger.Snapshot().written, 2u);
  EXPECT_EQ(ledger.Snapshot().dropped_output_failed, 1u);
}

TEST(PipelineTest, FlushedDeliveryIsReportedAfterTheOutputFlushed) {
  Ledger ledger;
  std::vector<std::pair<std::unique_ptr<ScriptedOutput>, Level>> outputs;
  outputs.emplace_back(std::make_unique<ScriptedOutput>("all/x"), Level::kTrace);
  Built built = Build(std::move(outputs), ledger);
  std::optional<Delivery> report;
  RecordBatch batch = MakeBatch({v1::LEVEL_INFO, v1::LEVEL_WARN});
  AwaitDelivery(batch, DeliveryStage::kFlushed, report);
  ProcessAndSettle(*built.pipeline, batch);
  EXPECT_EQ(built.outputs[0]->flushes, 1);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->delivered, 2u);
  EXPECT_EQ(report->dropped, 0u);
}

TEST(PipelineTest, ATransientFlushFailureIsRetriedNotReportedDropped) {
  Ledger ledger;
  std::vector<std::pair<std::unique_ptr<ScriptedOutput>, Level>> outputs;
  outputs.emplace_back(std::make_unique<ScriptedOutput>("next-tier/x"), Level::kTrace);
  outputs[0].first->flush_script = {absl::DeadlineExceededError("not acknowledged yet"),
                                    absl::UnavailableError("reconnecting")};
  Built built = Build(std::move(outputs), ledger);
  std::optional<Delivery> report;
  RecordBatch batch = MakeBatch({v1::LEVEL_INFO, v1::LEVEL_WARN});
  AwaitDelivery(batch, DeliveryStage::kFlushed, report);
  ProcessAndSettle(*built.pipeline, batch);
  EXPECT_EQ(built.outputs[0]->flushes, 3);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->delivered, 2u);
  EXPECT_EQ(report->dropped, 0u);
  EXPECT_EQ(ledger.Snapshot().written, 2u);
}

TEST(PipelineTest, AFailedFlushReportsEveryHeldRecordDropped) {
  Ledger ledger;
  std::vector<std::pair<std::unique_ptr<ScriptedOutput>, Level>> outputs;
  outputs.emplace_back(std::make_unique<ScriptedOutput>("full/x"), Level::kTrace);
  outputs[0].first->flush_status = absl::ResourceExhaustedError("No space left on device");
  Built built = Build(std::move(outputs), ledger);
  RecordBatch batch = MakeBatch({v1::LEVEL_INFO, v1::LEVEL_INFO});
  std::optional<Delivery> report;
  AwaitDelivery(batch, DeliveryStage::kFlushed, report);
  ProcessAndSettle(*built.pipeline, batch);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->delivered, 0u);
  EXPECT_EQ(report->dropped, 2u);
  EXPECT_EQ(report->reason, DropReason::kOutputFailed);
}

TEST(PipelineTest, StartFailureNamesTheOutput) {
  Ledger ledger;
  auto output = std::make_unique<ScriptedOutput>("file/audit");
  output->start_status = absl::PermissionDeniedError("/var/log/x: Permission denied");
  std::vector<std::pair<std::unique_ptr<ScriptedOutput>, Level>> outputs;
  outputs.emplace_back(std::move(output), Level::kTrace);
  Built built = Build(std::move(outputs), ledger, nullptr, /*start=*/false);
  absl::Status started = built.pipeline->Start();
  EXPECT_EQ(started.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(started.message(), "file/audit: /var/log/x: Permission denied");
}

hooks::RecordMatch Route(std::vector<std::string> loggers, hooks::RecordMatch::FieldValues match) {
  absl::StatusOr<hooks::RecordMatch> route =
      hooks::RecordMatch::Create(std::move(loggers), match, "outputs[0].match");
  EXPECT_TRUE(route.ok()) << route.status();
  return route.ok() ? *std::move(route) : hooks::RecordMatch();
}

// A batch of records with these loggers, all INFO but those listed in `errors`; a record
// whose logger ends in ".db" has the field component: db-pool.
RecordBatch LoggerBatch(std::vector<std::string> loggers, std::vector<int> errors = {}) {
  RecordBatch batch = MakeBatch(std::vector<v1::Level>(loggers.size(), v1::LEVEL_INFO));
  for (size_t i = 0; i < loggers.size(); ++i) {
    v1::LogRecord& record = *batch.records().Mutable(static_cast<int>(i));
    record.set_logger(loggers[i]);
    if (absl::EndsWith(loggers[i], ".db")) {
      v1::Field* field = record.add_fields();
      field->set_key("component");
      field->set_string_value("db-pool");
    }
  }
  for (int i : errors) batch.records().Mutable(i)->set_level(v1::LEVEL_ERROR);
  return batch;
}

struct RoutedOutput {
  std::unique_ptr<ScriptedOutput> output;
  Level level = Level::kTrace;
  hooks::RecordMatch route;
};

Built BuildRouted(std::vector<RoutedOutput> outputs, Ledger& ledger,
                  OutputMetrics* metrics = nullptr) {
  Built built;
  std::vector<Pipeline::Destination> destinations;
  for (RoutedOutput& output : outputs) {
    built.outputs.push_back(output.output.get());
    destinations.push_back(
        {std::move(output.output), output.level, std::move(output.route), FastRetry()});
  }
  built.pipeline =
      std::make_unique<Pipeline>(PipelineConfig{}, std::move(destinations),
                                 outputs::EncodingRegistry(), /*workers=*/1, ledger, metrics);
  EXPECT_TRUE(built.pipeline->Start().ok());
  return built;
}

int LineCount(const std::string& lines) {
  return static_cast<int>(std::count(lines.begin(), lines.end(), '\n'));
}

TEST(PipelineRoutesTest, RecordsReachOnlyTheirOutputsAndThoseNoneTakesAreUnrouted) {
  Ledger ledger;
  prometheus::Registry registry;
  OutputMetrics metrics(registry, {"file/audit", "file/errors", "file/db"});
  std::vector<RoutedOutput> outputs;
  outputs.push_back(
      {std::make_unique<ScriptedOutput>("file/audit"), Level::kTrace, Route({"audit"}, {})});
  outputs.push_back({std::make_unique<ScriptedOutput>("file/errors"), Level::kError, {}});
  outputs.push_back({std::make_unique<ScriptedOutput>("file/db"), Level::kTrace,
                     Route({}, {{"component", "/^db/"}})});
  Built built = BuildRouted(std::move(outputs), ledger, &metrics);
  // m0 audit; m1 nowhere; m2 errors and db; m3 audit and errors; m4 nowhere.
  RecordBatch batch =
      LoggerBatch({"audit.login", "checkout", "checkout.db", "audit", "auditing"}, {2, 3});
  std::optional<Delivery> report;
  AwaitDelivery(batch, DeliveryStage::kWritten, report);
  ProcessAndSettle(*built.pipeline, batch);

  EXPECT_EQ(LineCount(built.outputs[0]->lines), 2);
  EXPECT_THAT(built.outputs[0]->lines, ::testing::HasSubstr("\"m0\""));
  EXPECT_THAT(built.outputs[0]->lines, ::testing::HasSubstr("\"m3\""));
  EXPECT_EQ(LineCount(built.outputs[1]->lines), 2);
  EXPECT_THAT(built.outputs[1]->lines, ::testing::HasSubstr("\"m2\""));
  EXPECT_THAT(built.outputs[1]->lines, ::testing::HasSubstr("\"m3\""));
  EXPECT_EQ(LineCount(built.outputs[2]->lines), 1);
  EXPECT_THAT(built.outputs[2]->lines, ::testing::HasSubstr("\"m2\""));
  const LedgerCounts counts = ledger.Snapshot();
  EXPECT_EQ(counts.written, 3u);
  EXPECT_EQ(counts.unrouted, 2u);
  EXPECT_EQ(counts.dropped, 0u);
  EXPECT_THAT(prometheus::TextSerializer().Serialize(registry.Collect()),
              ::testing::HasSubstr("sluice_pipeline_records_unrouted_total 2"));
  // Unrouted records went where the configuration sends them: delivered.
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->delivered, 5u);
  EXPECT_EQ(report->dropped, 0u);
}

TEST(PipelineRoutesTest, AnOutputWithNothingRoutedToItIsNotCalled) {
  Ledger ledger;
  std::vector<RoutedOutput> outputs;
  outputs.push_back(
      {std::make_unique<ScriptedOutput>("file/audit"), Level::kTrace, Route({"audit"}, {})});
  Built built = BuildRouted(std::move(outputs), ledger);
  RecordBatch batch = LoggerBatch({"checkout", "payments"});
  ProcessAndSettle(*built.pipeline, batch);
  EXPECT_EQ(built.outputs[0]->attempts, 0);
  EXPECT_EQ(ledger.Snapshot().unrouted, 2u);
  EXPECT_EQ(ledger.Snapshot().written, 0u);
}

TEST(PipelineRoutesTest, FailedRoutedOutputsCountTheUnionOfTheirRecordsAsDropped) {
  Ledger ledger;
  std::vector<RoutedOutput> outputs;
  outputs.push_back({std::make_unique<ScriptedOutput>(
                         "file/audit", std::deque<absl::Status>{absl::InternalError("full")}),
                     Level::kTrace, Route({"audit"}, {})});
  outputs.push_back({std::make_unique<ScriptedOutput>(
                         "file/db", std::deque<absl::Status>{absl::InternalError("full")}),
                     Level::kTrace, Route({}, {{"component", "db-pool"}})});
  outputs.push_back({std::make_unique<ScriptedOutput>("file/archive"), Level::kTrace, {}});
  Built built = BuildRouted(std::move(outputs), ledger);
  // audit failed m0 and m2, db failed m1 and m2: three records lost (not two, the larger
  // share; not four, the sum), m3 written.
  RecordBatch batch = LoggerBatch({"audit", "checkout.db", "audit.db", "checkout"});
  std::optional<Delivery> report;
  AwaitDelivery(batch, DeliveryStage::kWritten, report);
  ProcessAndSettle(*built.pipeline, batch);

  EXPECT_EQ(LineCount(built.outputs[2]->lines), 4);
  const LedgerCounts counts = ledger.Snapshot();
  EXPECT_EQ(counts.dropped_output_failed, 3u);
  EXPECT_EQ(counts.written, 1u);
  EXPECT_EQ(counts.unrouted, 0u);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->delivered, 1u);
  EXPECT_EQ(report->dropped, 3u);
  EXPECT_EQ(report->reason, DropReason::kOutputFailed);
}

TEST(PipelineRoutesTest, ARouteMatchesTheFieldValueTheOutputsShowAfterThePostHooks) {
  Ledger ledger;
  std::vector<RoutedOutput> outputs;
  outputs.push_back({std::make_unique<ScriptedOutput>("file/db"), Level::kTrace,
                     Route({}, {{"component", "/^db/"}})});
  Built built = BuildRouted(std::move(outputs), ledger);
  const YAML::Node block = YAML::Load("{type: add_fields, fields: {component: db-pool}}");
  hooks::HookRegistry registry;
  hooks::RegisterBuiltinHooks(registry);
  auto created = registry.CreateAll(
      hooks::HookPhase::kPost,
      {{.key_path = "hooks.post[0]", .type = "add_fields", .name = "x", .options = block}});
  ASSERT_TRUE(created.ok()) << created.status();
  built.pipeline->SetPostHooks(hooks::HookChain(std::move(*created), nullptr));
  // m0 says component: cache, which the post-hook's db-pool overrides; m1 has none.
  RecordBatch batch = LoggerBatch({"checkout", "payments"});
  v1::Field* field = batch.records().Mutable(0)->add_fields();
  field->set_key("component");
  field->set_string_value("cache");
  ProcessAndSettle(*built.pipeline, batch);
  EXPECT_EQ(LineCount(built.outputs[0]->lines), 2);
  EXPECT_EQ(ledger.Snapshot().unrouted, 0u);

  // Without the hook, only what the application sent counts.
  Ledger plain_ledger;
  std::vector<RoutedOutput> plain_outputs;
  plain_outputs.push_back({std::make_unique<ScriptedOutput>("file/db"), Level::kTrace,
                           Route({}, {{"component", "/^db/"}})});
  Built plain = BuildRouted(std::move(plain_outputs), plain_ledger);
  RecordBatch again = LoggerBatch({"checkout.db", "payments"});
  ProcessAndSettle(*plain.pipeline, again);
  EXPECT_EQ(LineCount(plain.outputs[0]->lines), 1);
  EXPECT_EQ(plain_ledger.Snapshot().unrouted, 1u);
}

TEST(PipelineRoutesTest, AFailedFlushDropsOnlyTheRoutedRecordsOfAHeldBatch) {
  Ledger ledger;
  std::vector<RoutedOutput> outputs;
  outputs.push_back(
      {std::make_unique<ScriptedOutput>("file/audit"), Level::kTrace, Route({"audit"}, {})});
  outputs[0].output->flush_status = absl::ResourceExhaustedError("No space left on device");
  Built built = BuildRouted(std::move(outputs), ledger);
  const YAML::Node block = YAML::Load("{type: drop, level_at_most: debug}");
  hooks::HookRegistry registry;
  hooks::RegisterBuiltinHooks(registry);
  auto created = registry.CreateAll(
      hooks::HookPhase::kPost,
      {{.key_path = "hooks.post[0]", .type = "drop", .name = "no-debug", .options = block}});
  ASSERT_TRUE(created.ok()) << created.status();
  built.pipeline->SetPostHooks(hooks::HookChain(std::move(*created), nullptr));
  // m0 and m3 routed to audit; m1 and m4 routed nowhere; the hook drops m2.
  RecordBatch batch = LoggerBatch({"audit", "checkout", "audit.login", "audit.db", "payments"});
  batch.records().Mutable(2)->set_level(v1::LEVEL_DEBUG);
  std::optional<Delivery> report;
  AwaitDelivery(batch, DeliveryStage::kFlushed, report);
  ProcessAndSettle(*built.pipeline, batch);

  EXPECT_EQ(built.outputs[0]->flushes, 1);
  ASSERT_TRUE(report.has_value());
  // Only the records that waited for the failed flush are in doubt.
  EXPECT_EQ(report->dropped, 2u);
  EXPECT_EQ(report->delivered, 3u);
  EXPECT_EQ(report->reason, DropReason::kOutputFailed);
}

TEST(PipelineRoutesTest, AFailedFlushLeavesAHeldBatchThatWaitedForNoOutputDelivered) {
  Ledger ledger;
  std::vector<RoutedOutput> outputs;
  outputs.push_back(
      {std::make_unique<ScriptedOutput>("file/audit"), Level::kTrace, Route({"audit"}, {})});
  outputs[0].output->flush_status = absl::ResourceExhaustedError("No space left on device");
  Built built = BuildRouted(std::move(outputs), ledger);
  RecordBatch batch = LoggerBatch({"checkout", "payments"});
  std::optional<Delivery> report;
  AwaitDelivery(batch, DeliveryStage::kFlushed, report);
  ProcessAndSettle(*built.pipeline, batch);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->delivered, 2u);
  EXPECT_EQ(report->dropped, 0u);
  EXPECT_EQ(report->reason, DropReason::kNone);
}

TEST(PipelineRoutesTest, WithoutOutputsEveryRecordIsUnrouted) {
  Ledger ledger;
  Built built = BuildRouted({}, ledger);
  RecordBatch batch = LoggerBatch({"a", "b"});
  ProcessAndSettle(*built.pipeline, batch);
  EXPECT_EQ(ledger.Snapshot().unrouted, 2u);
  EXPECT_EQ(ledger.Snapshot().written, 0u);
}

}  // namespace
}  // namespace sluice::pipeline
