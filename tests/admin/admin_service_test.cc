#include "server/admin/admin_service.h"

#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "server/pipeline/tap_hub.h"
#include "tests/test_util/eventually.h"

namespace sluice::admin {
namespace {

// Answers drains from a thread of its own, as the real server does.
class FakeControl : public ServerControl {
 public:
  ~FakeControl() override {
    for (std::thread& t : threads_) t.join();
  }
  void Drain(absl::Duration timeout, DrainDone done) override {
    last_timeout_ = timeout;
    threads_.emplace_back([done = std::move(done)]() mutable {
      DrainResult result;
      result.counts.received = 10;
      result.counts.written = 10;
      result.completed = true;
      std::move(done)(result);
    });
  }
  void Resume() override { resumed_ = true; }
  void Shutdown(absl::Duration timeout, DrainDone done) override {
    shutdown_ = true;
    Drain(timeout, std::move(done));
  }
  ServerStats Stats() const override {
    ServerStats stats;
    stats.counts.received = 7;
    stats.workers = {{3, 100}, {0, 100}};
    stats.parked_streams = 2;
    return stats;
  }
  absl::Duration default_drain_timeout() const override { return absl::Seconds(30); }
  void Reload(ReloadDone done) override {
    threads_.emplace_back(
        [this, done = std::move(done)]() mutable { std::move(done)(reload_result_); });
  }

  absl::StatusOr<ReloadResult> reload_result_;
  absl::Duration last_timeout_;
  bool resumed_ = false;
  bool shutdown_ = false;

 private:
  std::vector<std::thread> threads_;
};

class AdminServiceTest : public ::testing::Test {
 protected:
  AdminServiceTest() : table_(config::LevelsConfig{}), service_(table_, control_, registry_) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    stub_ = v1::AdminService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  ~AdminServiceTest() override { server_->Shutdown(); }

  grpc::Status SetLevel(const std::string& prefix, v1::Level level, uint32_t ttl = 0) {
    grpc::ClientContext context;
    v1::SetLevelRequest request;
    request.set_logger_prefix(prefix);
    request.set_level(level);
    request.set_ttl_seconds(ttl);
    v1::SetLevelResponse response;
    return stub_->SetLevel(&context, request, &response);
  }

  prometheus::Registry registry_;
  levels::LevelTable table_;
  FakeControl control_;
  AdminService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::AdminService::Stub> stub_;
};

TEST_F(AdminServiceTest, SetLevelChangesTheTableAndGetLevelsShowsIt) {
  ASSERT_TRUE(SetLevel("checkout", v1::LEVEL_DEBUG, 600).ok());
  EXPECT_EQ(table_.Snapshot()->FilterFor("checkout.db").threshold(), Level::kDebug);

  grpc::ClientContext context;
  v1::GetLevelsResponse levels;
  ASSERT_TRUE(stub_->GetLevels(&context, v1::GetLevelsRequest(), &levels).ok());
  EXPECT_EQ(levels.default_level(), v1::LEVEL_INFO);
  ASSERT_EQ(levels.rules_size(), 1);
  EXPECT_EQ(levels.rules(0).logger_prefix(), "checkout");
  EXPECT_EQ(levels.rules(0).level(), v1::LEVEL_DEBUG);
  EXPECT_GT(levels.rules(0).ttl_seconds(), 0u);
  EXPECT_LE(levels.rules(0).ttl_seconds(), 600u);
}

TEST_F(AdminServiceTest, GetLevelsSaysWhereEachRuleCameFromAndWhenItExpires) {
  const absl::Time before = absl::Now();
  ASSERT_TRUE(SetLevel("checkout", v1::LEVEL_DEBUG, 600).ok());
  grpc::ClientContext context;
  v1::GetLevelsResponse levels;
  ASSERT_TRUE(stub_->GetLevels(&context, v1::GetLevelsRequest(), &levels).ok());
  EXPECT_EQ(levels.default_source(), v1::LEVEL_RULE_SOURCE_CONFIG);
  ASSERT_EQ(levels.rules_size(), 1);
  const v1::LevelRule& rule = levels.rules(0);
  EXPECT_EQ(rule.source(), v1::LEVEL_RULE_SOURCE_ADMIN);
  const absl::Time set_at = absl::FromUnixNanos(static_cast<int64_t>(rule.set_time_unix_nano()));
  EXPECT_GE(set_at, before);
  EXPECT_LE(set_at, absl::Now());
  EXPECT_EQ(absl::FromUnixNanos(static_cast<int64_t>(rule.expire_time_unix_nano())),
            set_at + absl::Seconds(600));
}

TEST_F(AdminServiceTest, SetLevelAcceptsASetOfEnabledLevels) {
  grpc::ClientContext context;
  v1::SetLevelRequest request;
  request.set_logger_prefix("checkout");
  request.add_enabled_levels(v1::LEVEL_ERROR);
  request.add_enabled_levels(v1::LEVEL_DEBUG);
  v1::SetLevelResponse response;
  ASSERT_TRUE(stub_->SetLevel(&context, request, &response).ok());
  ASSERT_EQ(response.levels().rules_size(), 1);
  const v1::LevelRule& rule = response.levels().rules(0);
  EXPECT_EQ(rule.level(), v1::LEVEL_UNSPECIFIED);
  EXPECT_THAT(rule.enabled_levels(), ::testing::ElementsAre(v1::LEVEL_DEBUG, v1::LEVEL_ERROR));
  const levels::LevelFilter filter = table_.Snapshot()->FilterFor("checkout");
  EXPECT_TRUE(filter.Admits(Level::kError));
  EXPECT_FALSE(filter.Admits(Level::kWarn));
}

TEST_F(AdminServiceTest, ASetOfLevelsIsRefusedForTheDefaultWithALevelOrWithAnUnknownLevel) {
  const auto set_levels = [&](const std::string& prefix, v1::Level level,
                              std::vector<int> enabled) {
    grpc::ClientContext context;
    v1::SetLevelRequest request;
    request.set_logger_prefix(prefix);
    request.set_level(level);
    for (int value : enabled) request.add_enabled_levels(static_cast<v1::Level>(value));
    v1::SetLevelResponse response;
    return stub_->SetLevel(&context, request, &response).error_code();
  };
  EXPECT_EQ(set_levels("", v1::LEVEL_UNSPECIFIED, {v1::LEVEL_ERROR}),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(set_levels("a", v1::LEVEL_WARN, {v1::LEVEL_ERROR}), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(set_levels("a", v1::LEVEL_UNSPECIFIED, {v1::LEVEL_ERROR, 42}),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(set_levels("a", v1::LEVEL_UNSPECIFIED, {v1::LEVEL_UNSPECIFIED}),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(table_.Snapshot()->rules().empty());
}

TEST_F(AdminServiceTest, ATtlRuleRevertsToThePreviousThresholdOnceItExpires) {
  ASSERT_TRUE(SetLevel("checkout", v1::LEVEL_WARN).ok());
  ASSERT_TRUE(SetLevel("checkout", v1::LEVEL_DEBUG, 1).ok());
  EXPECT_EQ(table_.Snapshot()->FilterFor("checkout").threshold(), Level::kDebug);

  table_.ExpireDue(absl::Now() + absl::Seconds(2));
  grpc::ClientContext context;
  v1::GetLevelsResponse levels;
  ASSERT_TRUE(stub_->GetLevels(&context, v1::GetLevelsRequest(), &levels).ok());
  ASSERT_EQ(levels.rules_size(), 1);
  EXPECT_EQ(levels.rules(0).logger_prefix(), "checkout");
  EXPECT_EQ(levels.rules(0).level(), v1::LEVEL_WARN);
  EXPECT_EQ(levels.rules(0).ttl_seconds(), 0u);
}

TEST_F(AdminServiceTest, EmptyPrefixSetsTheDefault) {
  ASSERT_TRUE(SetLevel("", v1::LEVEL_ERROR).ok());
  EXPECT_EQ(table_.Snapshot()->default_level(), Level::kError);
}

TEST_F(AdminServiceTest, UnspecifiedLevelRemovesTheRule) {
  ASSERT_TRUE(SetLevel("a", v1::LEVEL_WARN).ok());
  ASSERT_TRUE(SetLevel("a", v1::LEVEL_UNSPECIFIED).ok());
  EXPECT_TRUE(table_.Snapshot()->rules().empty());
  EXPECT_EQ(SetLevel("a", v1::LEVEL_UNSPECIFIED).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AdminServiceTest, InvalidRequestsAreInvalidArgument) {
  EXPECT_EQ(SetLevel("a", static_cast<v1::Level>(42)).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(SetLevel("bad prefix", v1::LEVEL_WARN).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(SetLevel("", v1::LEVEL_UNSPECIFIED).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(SetLevel("", v1::LEVEL_DEBUG, 60).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(table_.Snapshot()->default_level(), Level::kInfo);
}

TEST_F(AdminServiceTest, DrainAnswersWithTheCountsOnceTheControlIsDone) {
  grpc::ClientContext context;
  v1::DrainRequest request;
  request.set_timeout_ms(1500);
  v1::DrainResponse response;
  ASSERT_TRUE(stub_->Drain(&context, request, &response).ok());
  EXPECT_TRUE(response.completed());
  EXPECT_EQ(response.counts().received(), 10u);
  EXPECT_EQ(response.counts().written(), 10u);
  EXPECT_EQ(control_.last_timeout_, absl::Milliseconds(1500));
}

TEST_F(AdminServiceTest, DrainWithoutTimeoutUsesTheConfiguredOne) {
  grpc::ClientContext context;
  v1::DrainResponse response;
  ASSERT_TRUE(stub_->Drain(&context, v1::DrainRequest(), &response).ok());
  EXPECT_EQ(control_.last_timeout_, absl::Seconds(30));
}

TEST_F(AdminServiceTest, ResumeAndShutdownReachTheControl) {
  {
    grpc::ClientContext context;
    v1::ResumeResponse response;
    ASSERT_TRUE(stub_->Resume(&context, v1::ResumeRequest(), &response).ok());
    EXPECT_TRUE(control_.resumed_);
  }
  grpc::ClientContext context;
  v1::ShutdownResponse response;
  ASSERT_TRUE(stub_->Shutdown(&context, v1::ShutdownRequest(), &response).ok());
  EXPECT_TRUE(control_.shutdown_);
  EXPECT_TRUE(response.drain().completed());
}

TEST_F(AdminServiceTest, GetStatsReportsWorkersAndCounts) {
  grpc::ClientContext context;
  v1::GetStatsResponse stats;
  ASSERT_TRUE(stub_->GetStats(&context, v1::GetStatsRequest(), &stats).ok());
  EXPECT_EQ(stats.counts().received(), 7u);
  ASSERT_EQ(stats.workers_size(), 2);
  EXPECT_EQ(stats.workers(0).queue_depth(), 3u);
  EXPECT_EQ(stats.workers(1).queue_capacity(), 100u);
  EXPECT_EQ(stats.parked_streams(), 2u);
}

TEST_F(AdminServiceTest, ReloadAnswersWhatWasAppliedFromTheControlsThread) {
  control_.reload_result_ = ReloadResult{{"levels", "outputs: added file/b"}, {"ingest.listen"}};
  grpc::ClientContext context;
  v1::ReloadResponse response;
  ASSERT_TRUE(stub_->Reload(&context, v1::ReloadRequest(), &response).ok());
  EXPECT_EQ(response.applied_size(), 2);
  EXPECT_EQ(response.applied(1), "outputs: added file/b");
  ASSERT_EQ(response.not_applied_size(), 1);
  EXPECT_EQ(response.not_applied(0), "ingest.listen");
}

TEST_F(AdminServiceTest, RefusedReloadIsInvalidArgumentWithTheError) {
  control_.reload_result_ = absl::InvalidArgumentError("config: outputs[0].path: cannot open");
  grpc::ClientContext context;
  v1::ReloadResponse response;
  const grpc::Status status = stub_->Reload(&context, v1::ReloadRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "config: outputs[0].path: cannot open");
  EXPECT_EQ(response.applied_size(), 0);
}

// Tap calls against a hub of at most two taps, the test offering the records a worker would.
class AdminTapTest : public ::testing::Test {
 protected:
  AdminTapTest()
      : table_(config::LevelsConfig{}),
        hub_(&registry_, 2),
        service_(table_, control_, registry_, /*auth=*/nullptr, &hub_) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    stub_ = v1::AdminService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  ~AdminTapTest() override {
    hub_.CloseAll();
    server_->Shutdown();
  }

  struct Call {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::LogRecord>> reader;
  };
  std::unique_ptr<Call> StartTap(const v1::TapRequest& request) {
    auto call = std::make_unique<Call>();
    call->reader = stub_->Tap(&call->context, request);
    return call;
  }

  void Offer(const std::string& logger, const std::string& message) {
    RecordBatch batch;
    v1::LogRecord* record = batch.records().Add();
    record->set_level(v1::LEVEL_WARN);
    record->set_logger(logger);
    record->set_message(message);
    hub_.Offer(batch, {}, composer_);
  }

  double Requests(const std::string& code) {
    for (const prometheus::MetricFamily& family : registry_.Collect()) {
      if (family.name != "sluice_admin_requests_total") continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        bool tap = false, matches = false;
        for (const prometheus::ClientMetric::Label& label : metric.label) {
          if (label.name == "method" && label.value == "Tap") tap = true;
          if (label.name == "code" && label.value == code) matches = true;
        }
        if (tap && matches) return metric.counter.value;
      }
    }
    return 0;
  }

  prometheus::Registry registry_;
  levels::LevelTable table_;
  FakeControl control_;
  pipeline::PipelineConfig pipeline_config_;
  pipeline::FieldComposer composer_{pipeline_config_};
  pipeline::TapHub hub_;
  AdminService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::AdminService::Stub> stub_;
};

TEST_F(AdminTapTest, StreamsTheOfferedRecordsAndEndsWithOkWhenTheHubCloses) {
  v1::TapRequest request;
  request.set_logger_prefix("checkout");
  std::unique_ptr<Call> call = StartTap(request);
  ASSERT_TRUE(test_util::Eventually([&] { return hub_.open_taps() == 1; }));
  Offer("billing", "not this one");
  Offer("checkout.db", "this one");
  v1::LogRecord record;
  ASSERT_TRUE(call->reader->Read(&record));
  EXPECT_EQ(record.message(), "this one");

  hub_.CloseAll();
  EXPECT_FALSE(call->reader->Read(&record));
  EXPECT_TRUE(call->reader->Finish().ok());
  EXPECT_TRUE(test_util::Eventually([&] { return hub_.open_taps() == 0; }));
  EXPECT_EQ(Requests("OK"), 1);
}

TEST_F(AdminTapTest, AnInvalidFilterIsInvalidArgument) {
  v1::TapRequest request;
  (*request.mutable_match())["user"] = "/[a-/";
  std::unique_ptr<Call> call = StartTap(request);
  v1::LogRecord record;
  EXPECT_FALSE(call->reader->Read(&record));
  const grpc::Status status = call->reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("match.user"), std::string::npos) << status.error_message();
  EXPECT_EQ(hub_.open_taps(), 0u);
  EXPECT_EQ(Requests("INVALID_ARGUMENT"), 1);
}

TEST_F(AdminTapTest, MoreThanMaxTapsIsResourceExhaustedUntilOneCloses) {
  std::unique_ptr<Call> first = StartTap({});
  std::unique_ptr<Call> second = StartTap({});
  ASSERT_TRUE(test_util::Eventually([&] { return hub_.open_taps() == 2; }));

  std::unique_ptr<Call> third = StartTap({});
  v1::LogRecord record;
  EXPECT_FALSE(third->reader->Read(&record));
  const grpc::Status refused = third->reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("admin.max_taps"), std::string::npos);
  EXPECT_EQ(Requests("RESOURCE_EXHAUSTED"), 1);

  // A tap its client cancels goes away and makes room.
  first->context.TryCancel();
  EXPECT_FALSE(first->reader->Read(&record));
  EXPECT_EQ(first->reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(test_util::Eventually([&] { return hub_.open_taps() == 1; }));
  std::unique_ptr<Call> fourth = StartTap({});
  ASSERT_TRUE(test_util::Eventually([&] { return hub_.open_taps() == 2; }));
  Offer("a", "to both");
  ASSERT_TRUE(second->reader->Read(&record));
  EXPECT_EQ(record.message(), "to both");
  ASSERT_TRUE(fourth->reader->Read(&record));
  EXPECT_EQ(record.message(), "to both");
}

}  // namespace
}  // namespace sluice::admin
