#include "server/common/otlp_values.h"

#include <string>

#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(OtlpKeysTest, AKeyListFindsExactlyTheKeysAppended) {
  std::string keys;
  EXPECT_FALSE(HasOtlpKey(keys, "service.name"));
  AppendLengthPrefixed("service.name", &keys);
  const std::string long_key(300, 'k');  // a two-byte length
  AppendLengthPrefixed(long_key, &keys);
  AppendLengthPrefixed("region", &keys);
  EXPECT_TRUE(HasOtlpKey(keys, "service.name"));
  EXPECT_TRUE(HasOtlpKey(keys, long_key));
  EXPECT_TRUE(HasOtlpKey(keys, "region"));
  EXPECT_FALSE(HasOtlpKey(keys, "service"));
  EXPECT_FALSE(HasOtlpKey(keys, "regio"));
  EXPECT_FALSE(HasOtlpKey(keys, std::string(299, 'k')));
}

TEST(OtlpKeysTest, AMalformedKeyListFindsNothingPastTheDamage) {
  std::string keys;
  AppendLengthPrefixed("a", &keys);
  keys.push_back('\x09');  // claims nine bytes, has two
  keys.append("bc");
  EXPECT_TRUE(HasOtlpKey(keys, "a"));
  EXPECT_FALSE(HasOtlpKey(keys, "bc"));
  EXPECT_FALSE(HasOtlpKey(std::string("\xff\xff\xff\xff\xff\xff", 6), "x"));
}

}  // namespace
}  // namespace sluice
