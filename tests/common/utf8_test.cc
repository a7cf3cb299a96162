#include "server/common/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace sluice {
namespace {

const std::string kFffd(kUtf8Replacement);

std::string Replaced(std::string text, size_t* count = nullptr) {
  const size_t replaced = ReplaceInvalidUtf8(text);
  if (count != nullptr) *count = replaced;
  return text;
}

TEST(Utf8Test, AcceptsAsciiAndEveryMultiByteLength) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii, longer than one eight-byte word"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9"));               // U+00E9
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC 10"));           // U+20AC
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));          // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));          // U+10FFFF, the last one
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF\xEE\x80\x80"));  // U+D7FF and U+E000 around the surrogates
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));
}

TEST(Utf8Test, RejectsOverlongForms) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));  // '/' in two bytes
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // '/' in three bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x9F\xBF"));      // U+07FF in three bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in four bytes
}

TEST(Utf8Test, RejectsSurrogatesAndCodePointsAboveTheLast) {
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // U+D800
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));      // U+DFFF
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST(Utf8Test, RejectsTruncatedSequencesAndStrayContinuationBytes) {
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("caf\xE9 au lait"));  // Latin-1
}

TEST(Utf8Test, ValidPrefixIsTheOffsetOfTheFirstInvalidSequence) {
  EXPECT_EQ(ValidUtf8Prefix("abc"), 3u);
  EXPECT_EQ(ValidUtf8Prefix("caf\xE9"), 3u);
  EXPECT_EQ(ValidUtf8Prefix("0123456789\xC3\xA9\xFF"), 12u);
}

TEST(Utf8Test, ReplaceLeavesValidTextAlone) {
  size_t count = 99;
  EXPECT_EQ(Replaced("caf\xC3\xA9 \xF0\x9F\x98\x80", &count), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(count, 0u);
}

TEST(Utf8Test, ReplacesEachLatin1ByteWithOneReplacementCharacter) {
  size_t count = 0;
  EXPECT_EQ(Replaced("caf\xE9 cr\xE8me", &count), "caf" + kFffd + " cr" + kFffd + "me");
  EXPECT_EQ(count, 2u);
}

TEST(Utf8Test, ReplacesMaximalSubpartsOnce) {
  // A truncated sequence is one subpart: one U+FFFD, and the byte after it is kept.
  EXPECT_EQ(Replaced("\xE2\x82"
                     "A"),
            kFffd + "A");
  EXPECT_EQ(Replaced("\xF0\x9F\x98"), kFffd);
  // An overlong or surrogate lead stops at its first byte: each byte is its own subpart.
  EXPECT_EQ(Replaced("\xC0\xAF"), kFffd + kFffd);
  EXPECT_EQ(Replaced("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  // Stray continuation bytes, one each.
  EXPECT_EQ(Replaced("\x80\x80"), kFffd + kFffd);
  // A valid sequence right after an invalid one survives.
  EXPECT_EQ(Replaced("\xC3\xC3\xA9"), kFffd + "\xC3\xA9");
}

TEST(Utf8Test, ReplacementOutputIsValid) {
  std::string text;
  for (int byte = 0; byte < 256; ++byte) text.push_back(static_cast<char>(byte));
  ReplaceInvalidUtf8(text);
  EXPECT_TRUE(IsValidUtf8(text));
}

}  // namespace
}  // namespace sluice
