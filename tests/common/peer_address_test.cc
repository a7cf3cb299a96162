#include "server/common/peer_address.h"

#include <string>

#include "absl/strings/string_view.h"
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

std::string Address(absl::string_view peer, bool with_port) {
  std::string out = "left over";
  WritePeerAddress(peer, with_port, &out);
  return out;
}

TEST(PeerAddressTest, WritePeerAddressDropsTheIpSchemeAndThePortUnlessAsked) {
  EXPECT_EQ(Address("ipv4:10.0.0.7:51234", false), "10.0.0.7");
  EXPECT_EQ(Address("ipv4:10.0.0.7:51234", true), "10.0.0.7:51234");
  EXPECT_EQ(Address("unix:/run/sluice.sock", false), "unix:/run/sluice.sock");
  EXPECT_EQ(Address("ipv4", true), "ipv4");
}

// What gRPC's peer() returns for an IPv6 client: the brackets percent-encoded.
TEST(PeerAddressTest, WritePeerAddressDecodesGrpcsPercentEncodedIpv6) {
  EXPECT_EQ(Address("ipv6:%5B::1%5D:51234", false), "[::1]");
  EXPECT_EQ(Address("ipv6:%5B::1%5D:51234", true), "[::1]:51234");
  EXPECT_EQ(Address("ipv6:%5Bfe80::1%25eth0%5D:51234", true), "[fe80::1%eth0]:51234");
  EXPECT_EQ(Address("ipv6:[::1]:51234", false), "[::1]");
  // A '%' not followed by two hex digits is kept as it is.
  EXPECT_EQ(Address("ipv6:%5B::1%zz%5D%5", true), "[::1%zz]%5");
}

}  // namespace
}  // namespace sluice
