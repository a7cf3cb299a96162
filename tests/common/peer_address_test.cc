#include "server/common/peer_address.h"

#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(PeerAddressTest, PeerHostDropsThePort) {
  EXPECT_EQ(PeerHost("ipv4:10.0.0.7:51234"), "ipv4:10.0.0.7");
  EXPECT_EQ(PeerHost("ipv6:[::1]:51234"), "ipv6:[::1]");
  EXPECT_EQ(PeerHost("unix:/run/sluice.sock"), "unix:/run/sluice.sock");
  EXPECT_EQ(PeerHost("ipv4:5000"), "ipv4:5000");
  EXPECT_EQ(PeerHost(""), "");
}

TEST(PeerAddressTest, PeerWithoutSchemeDropsOnlyIpSchemes) {
  EXPECT_EQ(PeerWithoutScheme("ipv4:10.0.0.7:51234"), "10.0.0.7:51234");
  EXPECT_EQ(PeerWithoutScheme("ipv6:[::1]"), "[::1]");
  EXPECT_EQ(PeerWithoutScheme("unix:/run/sluice.sock"), "unix:/run/sluice.sock");
  EXPECT_EQ(PeerWithoutScheme("ipv4"), "ipv4");
}

}  // namespace
}  // namespace sluice
