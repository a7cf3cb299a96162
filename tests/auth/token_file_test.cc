#include "server/auth/token_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::auth {
namespace {

using ::testing::HasSubstr;

class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sluice-auth-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/tokens";
  }
  void TearDown() override {
    std::remove(path_.c_str());
    std::remove((path_ + ".new").c_str());
    ::rmdir(dir_.c_str());
  }

  // Replaces the file the way an operator (or a Secret volume) would: a new file renamed
  // over the old one, so that the change is seen whatever the clock's resolution.
  void Write(const std::string& text) {
    {
      std::ofstream out(path_ + ".new");
      out << text;
    }
    ASSERT_EQ(std::rename((path_ + ".new").c_str(), path_.c_str()), 0);
  }

  std::string dir_;
  std::string path_;
};

TEST_F(TokenFileTest, OpenNamesTheKeyAndTheFile) {
  const absl::StatusOr<std::unique_ptr<TokenFile>> missing =
      TokenFile::Open("admin.token_file", path_, TokenFormat::kTokens);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("admin.token_file: " + path_));

  Write("# none yet\n");
  const absl::StatusOr<std::unique_ptr<TokenFile>> empty =
      TokenFile::Open("admin.token_file", path_, TokenFormat::kTokens);
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("holds no token"));
}

TEST_F(TokenFileTest, RefreshTakesARotatedFileAndKeepsTheOldTokensOfABadOne) {
  Write("old\n");
  absl::StatusOr<std::unique_ptr<TokenFile>> file =
      TokenFile::Open("admin.token_file", path_, TokenFormat::kTokens);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_NE((*file)->current()->Find("old"), nullptr);

  Write("new\n");
  (*file)->Refresh();
  EXPECT_EQ((*file)->current()->Find("old"), nullptr);
  EXPECT_NE((*file)->current()->Find("new"), nullptr);

  // Invalid, then gone: what was read last stays.
  Write("two words\n");
  (*file)->Refresh();
  EXPECT_NE((*file)->current()->Find("new"), nullptr);
  std::remove(path_.c_str());
  (*file)->Refresh();
  EXPECT_NE((*file)->current()->Find("new"), nullptr);

  Write("newer\n");
  (*file)->Refresh();
  EXPECT_EQ((*file)->current()->Find("new"), nullptr);
  EXPECT_NE((*file)->current()->Find("newer"), nullptr);
}

}  // namespace
}  // namespace sluice::auth
