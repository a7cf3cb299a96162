#include "server/auth/token_authenticator.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace sluice::auth {
namespace {

using ::testing::HasSubstr;

TEST(IsLoopbackAddressTest, KnowsLoopbackFromOtherAddresses) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:4319"));
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.53:0"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:4319"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:4319"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:4319"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:4319"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.7:4319"));
  EXPECT_FALSE(IsLoopbackAddress("128.0.0.1:4319"));
}

class CreateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sluice-auth-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    std::ofstream(dir_ + "/tokens") << "secret\n";
  }
  void TearDown() override {
    std::remove((dir_ + "/tokens").c_str());
    ::rmdir(dir_.c_str());
  }

  absl::StatusOr<std::unique_ptr<TokenAuthenticator>> Create(const config::AdminConfig& config) {
    return TokenAuthenticator::Create(config, failures_);
  }

  std::string dir_;
  prometheus::Registry registry_;
  AuthFailures failures_{registry_};
};

TEST_F(CreateTest, WithoutTokensOnlyALoopbackAddressNeedsNone) {
  config::AdminConfig loopback;
  absl::StatusOr<std::unique_ptr<TokenAuthenticator>> none = Create(loopback);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, nullptr);

  config::AdminConfig exposed;
  exposed.listen = "0.0.0.0:4319";
  const absl::StatusOr<std::unique_ptr<TokenAuthenticator>> refused = Create(exposed);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("admin.token_file: required"));

  exposed.auth = config::AdminAuthMode::kNone;
  absl::StatusOr<std::unique_ptr<TokenAuthenticator>> explicit_none = Create(exposed);
  ASSERT_TRUE(explicit_none.ok()) << explicit_none.status();
  EXPECT_EQ(*explicit_none, nullptr);
}

TEST_F(CreateTest, ATokenFileOrAuthTokenMeansTokens) {
  config::AdminConfig with_file;
  with_file.token_file = dir_ + "/tokens";
  absl::StatusOr<std::unique_ptr<TokenAuthenticator>> tokens = Create(with_file);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_NE(*tokens, nullptr);

  config::AdminConfig token_without_file;
  token_without_file.auth = config::AdminAuthMode::kToken;
  const absl::StatusOr<std::unique_ptr<TokenAuthenticator>> refused = Create(token_without_file);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("admin.token_file"));

  config::AdminConfig none_with_file = with_file;
  none_with_file.auth = config::AdminAuthMode::kNone;
  EXPECT_FALSE(Create(none_with_file).ok());

  config::AdminConfig missing_read_only = with_file;
  missing_read_only.read_only_token_file = dir_ + "/absent";
  const absl::StatusOr<std::unique_ptr<TokenAuthenticator>> unreadable = Create(missing_read_only);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_THAT(unreadable.status().message(), HasSubstr("admin.read_only_token_file"));
}

}  // namespace
}  // namespace sluice::auth
