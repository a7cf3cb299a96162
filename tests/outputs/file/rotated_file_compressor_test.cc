#include "server/outputs/file/rotated_file_compressor.h"

#include <atomic>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "tests/outputs/output_test_util.h"
#include "tests/test_util/eventually.h"

namespace sluice::outputs {
namespace {

// Lines enough to need several of the compressor's chunks.
std::string ManyLines() {
  std::string lines;
  for (int i = 0; lines.size() < 600 * 1024; ++i) {
    absl::StrAppend(&lines, "{\"level\":\"INFO\",\"message\":\"record ", i, "\"}\n");
  }
  return lines;
}

TEST(RotatedFileCompressorTest, ReplacesAFileWithItsGzipWhoseContentIsTheSame) {
  TempDir dir;
  const std::string original = dir.Path("records-20261202T103000Z.log");
  const std::string lines = ManyLines();
  WriteFile(original, lines);
  std::atomic<bool> stop{false};
  ASSERT_TRUE(RotatedFileCompressor::CompressFile(original, stop).ok());
  EXPECT_FALSE(std::filesystem::exists(original));
  EXPECT_LT(std::filesystem::file_size(original + ".gz"), lines.size() / 4);
  EXPECT_EQ(ReadGzipFile(original + ".gz"), lines);
  EXPECT_FALSE(std::filesystem::exists(dir.Path(
      absl::StrCat(".records-20261202T103000Z.log", RotatedFileCompressor::kPartialSuffix))));
}

TEST(RotatedFileCompressorTest, AStopLeavesTheOriginalAndNoPartialOrGzipFile) {
  TempDir dir;
  const std::string original = dir.Path("records-20261202T103000Z.log");
  WriteFile(original, ManyLines());
  std::atomic<bool> stop{true};
  const absl::Status status = RotatedFileCompressor::CompressFile(original, stop);
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_EQ(ReadFile(original), ManyLines());
  EXPECT_THAT(std::distance(std::filesystem::directory_iterator(dir.Path("")),
                            std::filesystem::directory_iterator()),
              1);
}

TEST(RotatedFileCompressorTest, AFileRetentionRemovedFirstIsNotAFailure) {
  TempDir dir;
  std::atomic<bool> stop{false};
  const absl::Status status =
      RotatedFileCompressor::CompressFile(dir.Path("records-20261202T103000Z.log"), stop);
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
}

TEST(RotatedFileCompressorTest, CompressesQueuedFilesInTheBackgroundAndCountsThem) {
  TempDir dir;
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& family =
      prometheus::BuildCounter().Name("files").Register(registry);
  prometheus::Counter& compressed = family.Add({{"kind", "compressed"}});
  prometheus::Counter& failed = family.Add({{"kind", "failed"}});
  RotatedFileCompressor compressor("file/test", &compressed, &failed);
  for (int i = 0; i < 3; ++i) {
    const std::string path = dir.Path(absl::StrCat("records-20261202T10300", i, "Z.log"));
    WriteFile(path, absl::StrCat("line ", i, "\n"));
    compressor.Add(path);
  }
  ASSERT_TRUE(test_util::Eventually([&] { return compressed.Value() == 3; }, absl::Seconds(10)))
      << compressed.Value();
  for (int i = 0; i < 3; ++i) {
    const std::string path = dir.Path(absl::StrCat("records-20261202T10300", i, "Z.log"));
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_EQ(ReadGzipFile(path + ".gz"), absl::StrCat("line ", i, "\n"));
  }
  EXPECT_EQ(failed.Value(), 0);
}

}  // namespace
}  // namespace sluice::outputs
