#include "server/auth/token_set.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(DigestsEqualTest, TellsEqualFromDifferentDigestsWhereverTheyDiffer) {
  const TokenDigest digest = DigestOf("s3cret");
  EXPECT_TRUE(DigestsEqual(digest, DigestOf("s3cret")));
  for (size_t i : {size_t{0}, size_t{15}, size_t{31}}) {
    TokenDigest other = digest;
    other[i] ^= 0x01;
    EXPECT_FALSE(DigestsEqual(digest, other)) << "byte " << i;
  }
}

TEST(DigestOfTest, IsSha256) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  const TokenDigest digest = DigestOf("abc");
  EXPECT_EQ(digest[0], 0xba);
  EXPECT_EQ(digest[1], 0x78);
  EXPECT_EQ(digest[31], 0xad);
}

TEST(ParseTokenFileTest, IgnoresBlankLinesAndCommentsAndTrims) {
  absl::StatusOr<TokenSet> tokens = ParseTokenFile(
      "# admin tokens\n\n  first  \n\t# old: gone\nsecond\r\n", TokenFormat::kTokens);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->size(), 2u);
  EXPECT_NE(tokens->Find("first"), nullptr);
  EXPECT_NE(tokens->Find("second"), nullptr);
  EXPECT_EQ(tokens->Find("gone"), nullptr);
  EXPECT_EQ(tokens->Find("# admin tokens"), nullptr);
  EXPECT_EQ(tokens->Find("firs"), nullptr);
  EXPECT_EQ(tokens->Find(""), nullptr);
}

TEST(ParseTokenFileTest, ReadsTenantsOfIngestTokens) {
  absl::StatusOr<TokenSet> tokens =
      ParseTokenFile("tok-a acme\ntok-b\tglobex\n", TokenFormat::kTokenTenant);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  const TokenSet::Entry* a = tokens->Find("tok-a");
  const TokenSet::Entry* b = tokens->Find("tok-b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->tenant, "acme");
  EXPECT_EQ(b->tenant, "globex");
  EXPECT_EQ(tokens->Find("acme"), nullptr);
}

TEST(ParseTokenFileTest, RefusesMalformedLinesNamingTheLineButNotTheToken) {
  const absl::StatusOr<TokenSet> spaced =
      ParseTokenFile("good\nhunter2 extra\n", TokenFormat::kTokens);
  ASSERT_FALSE(spaced.ok());
  EXPECT_THAT(spaced.status().message(), HasSubstr("line 2"));
  EXPECT_THAT(spaced.status().message(), Not(HasSubstr("hunter2")));

  const absl::StatusOr<TokenSet> no_tenant = ParseTokenFile("hunter2\n", TokenFormat::kTokenTenant);
  ASSERT_FALSE(no_tenant.ok());
  EXPECT_THAT(no_tenant.status().message(), HasSubstr("line 1"));
  EXPECT_THAT(no_tenant.status().message(), Not(HasSubstr("hunter2")));
}

TEST(ParseTokenFileTest, RefusesAFileWithoutTokensOrWithATokenTwice) {
  EXPECT_EQ(ParseTokenFile("# nothing\n\n", TokenFormat::kTokens).status().code(),
            absl::StatusCode::kInvalidArgument);
  const absl::StatusOr<TokenSet> twice =
      ParseTokenFile("same a\nsame b\n", TokenFormat::kTokenTenant);
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), HasSubstr("line 2"));
}

}  // namespace
}  // namespace sluice::auth
