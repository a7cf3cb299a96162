#include "server/outputs/encoding_registry.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/outputs/encoders/builtin_encodings.h"

namespace sluice::outputs {
namespace {

// Writes a fixed tag per record, so tests can tell which encoder wrote a line.
class TagEncoder final : public Encoder {
 public:
  explicit TagEncoder(std::string tag) : tag_(std::move(tag)) {}
  void Append(const ComposedRecord& /*record*/, std::string* out) override {
    out->append(tag_ + "\n");
  }

 private:
  const std::string tag_;
};

EncoderFactory TagFactory(std::string tag, int* made = nullptr) {
  return [tag = std::move(tag), made]() -> std::unique_ptr<Encoder> {
    if (made != nullptr) ++*made;
    return std::make_unique<TagEncoder>(tag);
  };
}

std::string Line(Encoder& encoder) {
  const RecordKeys keys{"time", "level", "logger", "message"};
  std::string out;
  encoder.Append(ComposedRecord{.keys = &keys}, &out);
  return out;
}

TEST(EncodingRegistryTest, StartsWithTheBuiltInEncodingsAtTheirIds) {
  EncodingRegistry registry;
  ASSERT_EQ(registry.size(), 3u);
  EXPECT_EQ(registry.name(kTextEncoding), "text");
  EXPECT_EQ(registry.name(kJsonEncoding), "json");
  EXPECT_EQ(registry.name(kLogfmtEncoding), "logfmt");
  EXPECT_EQ(*registry.Find("text"), kTextEncoding);
  EXPECT_EQ(*registry.Find("json"), kJsonEncoding);
  EXPECT_EQ(*registry.Find("logfmt"), kLogfmtEncoding);
  EXPECT_THAT(Line(*registry.NewEncoder(kTextEncoding)), ::testing::HasSubstr(" INFO"));
  EXPECT_THAT(Line(*registry.NewEncoder(kJsonEncoding)), ::testing::StartsWith("{\"time\":"));
  EXPECT_THAT(Line(*registry.NewEncoder(kLogfmtEncoding)), ::testing::StartsWith("time="));
}

TEST(EncodingRegistryTest, FindingAnUnknownNameListsTheKnownOnes) {
  EncodingRegistry registry;
  ASSERT_TRUE(registry.Add("syslog/main", TagFactory("s")).ok());
  const absl::StatusOr<EncodingId> found = registry.Find("xml");
  EXPECT_EQ(found.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(found.status().message(),
            "unknown encoding \"xml\" (known: text, json, logfmt, syslog/main)");
}

TEST(EncodingRegistryTest, AnAddedEncodingGetsTheNextIdAndItsOwnEncoders) {
  EncodingRegistry registry;
  int made = 0;
  const absl::StatusOr<EncodingId> id = registry.Add("tag", TagFactory("tagged", &made));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(EncodingIndex(*id), 3u);
  EXPECT_EQ(registry.size(), 4u);
  EXPECT_EQ(registry.name(*id), "tag");
  EXPECT_EQ(*registry.Find("tag"), *id);
  std::unique_ptr<Encoder> first = registry.NewEncoder(*id);
  std::unique_ptr<Encoder> second = registry.NewEncoder(*id);
  EXPECT_EQ(made, 2);
  EXPECT_NE(first.get(), second.get());
  EXPECT_EQ(Line(*first), "tagged\n");
}

TEST(EncodingRegistryTest, ANameIsAddedOnlyOnce) {
  EncodingRegistry registry;
  ASSERT_TRUE(registry.Add("tag", TagFactory("a")).ok());
  EXPECT_EQ(registry.Add("tag", TagFactory("b")).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.Add("json", TagFactory("b")).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.Add("", TagFactory("b")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.size(), 4u);
  EXPECT_EQ(Line(*registry.NewEncoder(*registry.Find("tag"))), "a\n");
}

TEST(EncodingRegistryTest, FindOrAddSharesOneEncodingAmongItsCallers) {
  EncodingRegistry registry;
  int made_first = 0;
  int made_second = 0;
  const absl::StatusOr<EncodingId> first = registry.FindOrAdd("rows", TagFactory("1", &made_first));
  const absl::StatusOr<EncodingId> second =
      registry.FindOrAdd("rows", TagFactory("2", &made_second));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(registry.size(), 4u);
  EXPECT_EQ(Line(*registry.NewEncoder(*second)), "1\n");
  EXPECT_EQ(made_first, 1);
  EXPECT_EQ(made_second, 0);
}

}  // namespace
}  // namespace sluice::outputs
