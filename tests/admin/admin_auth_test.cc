// The token check at the start of every AdminService method (server/auth's
// TokenAuthenticator): without a valid token nothing happens, and a read-only token only
// reads.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "server/admin/admin_service.h"

namespace sluice::admin {
namespace {

// Counts what reached it; answers drains at once.
class CountingControl : public ServerControl {
 public:
  void Drain(absl::Duration, DrainDone done) override {
    ++calls;
    std::move(done)(DrainResult{});
  }
  void Resume() override { ++calls; }
  void Shutdown(absl::Duration, DrainDone done) override {
    ++calls;
    std::move(done)(DrainResult{});
  }
  void Reload(ReloadDone done) override {
    ++calls;
    std::move(done)(ReloadResult{});
  }
  ServerStats Stats() const override { return {}; }
  absl::Duration default_drain_timeout() const override { return absl::Seconds(1); }

  int calls = 0;
};

class AdminAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sluice-admin-auth-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    std::ofstream(dir_ + "/admin.tokens") << "admin-secret\n";
    std::ofstream(dir_ + "/viewer.tokens") << "viewer-secret\n";
    config::AdminConfig config;
    config.token_file = dir_ + "/admin.tokens";
    config.read_only_token_file = dir_ + "/viewer.tokens";
    absl::StatusOr<std::unique_ptr<auth::TokenAuthenticator>> created =
        auth::TokenAuthenticator::Create(config, failures_);
    ASSERT_TRUE(created.ok()) << created.status();
    authenticator_ = *std::move(created);
    service_ = std::make_unique<AdminService>(table_, control_, registry_, authenticator_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = v1::AdminService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    server_->Shutdown();
    std::remove((dir_ + "/admin.tokens").c_str());
    std::remove((dir_ + "/viewer.tokens").c_str());
    ::rmdir(dir_.c_str());
  }

  // Every method, with whether it only reads, called with `token` (none when empty).
  std::vector<std::pair<bool, grpc::Status>> CallEveryMethod(const std::string& token) {
    const auto context = [&] {
      auto result = std::make_unique<grpc::ClientContext>();
      if (!token.empty()) result->AddMetadata("authorization", "Bearer " + token);
      return result;
    };
    std::vector<std::pair<bool, grpc::Status>> statuses;
    {
      v1::GetLevelsResponse response;
      statuses.emplace_back(true, stub_->GetLevels(context().get(), {}, &response));
    }
    {
      v1::GetStatsResponse response;
      statuses.emplace_back(true, stub_->GetStats(context().get(), {}, &response));
    }
    {
      v1::SetLevelRequest request;
      request.set_logger_prefix("checkout");
      request.set_level(v1::LEVEL_DEBUG);
      v1::SetLevelResponse response;
      statuses.emplace_back(false, stub_->SetLevel(context().get(), request, &response));
    }
    {
      v1::DrainResponse response;
      statuses.emplace_back(false, stub_->Drain(context().get(), {}, &response));
    }
    {
      v1::ResumeResponse response;
      statuses.emplace_back(false, stub_->Resume(context().get(), {}, &response));
    }
    {
      v1::ShutdownResponse response;
      statuses.emplace_back(false, stub_->Shutdown(context().get(), {}, &response));
    }
    {
      v1::ReloadResponse response;
      statuses.emplace_back(false, stub_->Reload(context().get(), {}, &response));
    }
    return statuses;
  }

  std::string dir_;
  prometheus::Registry registry_;
  auth::AuthFailures failures_{registry_};
  std::unique_ptr<auth::TokenAuthenticator> authenticator_;
  levels::LevelTable table_{config::LevelsConfig{}};
  CountingControl control_;
  std::unique_ptr<AdminService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::AdminService::Stub> stub_;
};

TEST_F(AdminAuthTest, WithoutAValidTokenEveryMethodIsRefusedAndDoesNothing) {
  for (const std::string& token : {std::string(), std::string("guess"), std::string("Bearer")}) {
    for (const auto& [reads, status] : CallEveryMethod(token)) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << "token \"" << token << "\": " << status.error_message();
    }
  }
  EXPECT_EQ(control_.calls, 0);
  EXPECT_TRUE(table_.Snapshot()->rules().empty());
}

TEST_F(AdminAuthTest, AReadOnlyTokenReadsAndIsDeniedTheRest) {
  for (const auto& [reads, status] : CallEveryMethod("viewer-secret")) {
    if (reads) {
      EXPECT_TRUE(status.ok()) << status.error_message();
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
    }
  }
  EXPECT_EQ(control_.calls, 0);
  EXPECT_TRUE(table_.Snapshot()->rules().empty());
}

TEST_F(AdminAuthTest, AnAdminTokenMayCallEveryMethod) {
  for (const auto& [reads, status] : CallEveryMethod("admin-secret")) {
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(control_.calls, 4);  // Drain, Resume, Shutdown, Reload
  EXPECT_FALSE(table_.Snapshot()->rules().empty());
}

}  // namespace
}  // namespace sluice::admin
