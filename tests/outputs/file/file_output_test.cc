#include "server/outputs/file/file_output.h"

#include <sys/mount.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "tests/outputs/output_test_util.h"

namespace sluice::outputs {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<FileOutputConfig> Parse(const std::string& yaml) {
  return FileOutputConfig::Parse(YAML::Load(yaml), "outputs[0]");
}

// A config whose flusher never fires during a test, so only the test's calls write.
FileOutputConfig Config(const std::string& path, uint64_t buffer_bytes = 1 << 20) {
  FileOutputConfig config;
  config.path = path;
  config.format = kTextEncoding;
  config.buffer_bytes = buffer_bytes;
  config.flush_interval = absl::Hours(1);
  return config;
}

FakeOutputBatch Batch(absl::string_view text) {
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, std::string(text));
  return batch;
}

absl::Status WriteText(FileOutput& output, absl::string_view text) {
  FakeOutputBatch batch = Batch(text);
  return output.Write(batch);
}

TEST(FileOutputConfigTest, RequiresAPath) {
  absl::StatusOr<FileOutputConfig> config = Parse("{type: file, name: main}");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(), "outputs[0]: missing required key `path`");
}

TEST(FileOutputConfigTest, RejectsAnEmptyPath) {
  EXPECT_EQ(Parse("{type: file, path: ''}").status().message(),
            "outputs[0].path: must not be empty");
}

TEST(FileOutputConfigTest, DefaultsToJsonWithAQuarterMebibyteBufferFlushedEverySecond) {
  absl::StatusOr<FileOutputConfig> config = Parse("{type: file, path: /tmp/x.log}");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->path, "/tmp/x.log");
  EXPECT_EQ(config->format, kJsonEncoding);
  EXPECT_EQ(config->buffer_bytes, 262144u);
  EXPECT_EQ(config->flush_interval, absl::Seconds(1));
}

TEST(FileOutputConfigTest, ReadsEveryKey) {
  absl::StatusOr<FileOutputConfig> config =
      Parse("{type: file, path: a.log, format: text, buffer_bytes: 0, flush_interval: 250ms}");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->format, kTextEncoding);
  EXPECT_EQ(config->buffer_bytes, 0u);
  EXPECT_EQ(config->flush_interval, absl::Milliseconds(250));
}

TEST(FileOutputConfigTest, ReadsTheDurabilityAndCompressionKeys) {
  absl::StatusOr<FileOutputConfig> config =
      Parse("{type: file, path: a.log, fsync: interval, fsync_interval: 200ms, compress: gzip}");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->fsync, FileOutputConfig::Fsync::kInterval);
  EXPECT_EQ(config->fsync_interval, absl::Milliseconds(200));
  EXPECT_EQ(config->compress, FileOutputConfig::Compression::kGzip);
}

TEST(FileOutputConfigTest, DefaultsToNoFsyncAndNoCompression) {
  absl::StatusOr<FileOutputConfig> config = Parse("{type: file, path: a.log}");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->fsync, FileOutputConfig::Fsync::kNever);
  EXPECT_EQ(config->compress, FileOutputConfig::Compression::kNone);
}

TEST(FileOutputConfigTest, RejectsAnUnknownFsyncPolicy) {
  absl::StatusOr<FileOutputConfig> config = Parse("{type: file, path: a.log, fsync: sometimes}");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("outputs[0].fsync"));
}

TEST(FileOutputConfigTest, RejectsAnUnknownCompression) {
  absl::StatusOr<FileOutputConfig> config = Parse("{type: file, path: a.log, compress: zstd}");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("outputs[0].compress"));
}

TEST(FileOutputConfigTest, RejectsAnUnknownFormat) {
  EXPECT_EQ(Parse("{type: file, path: a.log, format: csv}").status().message(),
            "outputs[0].format: expected one of json, text, logfmt, got \"csv\"");
}

TEST(FileOutputConfigTest, RejectsABufferAbove64MiB) {
  EXPECT_EQ(Parse("{type: file, path: a.log, buffer_bytes: 67108865}").status().message(),
            "outputs[0].buffer_bytes: must be between 0 and 67108864, got 67108865");
}

TEST(FileOutputConfigTest, RejectsANegativeBuffer) {
  EXPECT_FALSE(Parse("{type: file, path: a.log, buffer_bytes: -1}").ok());
}

TEST(FileOutputConfigTest, RejectsAFlushIntervalThatIsNotADuration) {
  EXPECT_EQ(Parse("{type: file, path: a.log, flush_interval: 5}").status().message(),
            "outputs[0].flush_interval: \"5\" has no unit; add one, e.g. \"5s\" or \"5ms\"");
  EXPECT_EQ(Parse("{type: file, path: a.log, flush_interval: soon}").status().message(),
            "outputs[0].flush_interval: expected a duration such as \"5ms\" or \"30s\", got "
            "\"soon\"");
}

TEST(FileOutputConfigTest, RejectsAFlushIntervalOutOfBounds) {
  EXPECT_THAT(Parse("{type: file, path: a.log, flush_interval: 0s}").status().message(),
              HasSubstr("must be between 1ms and 1h"));
  EXPECT_FALSE(Parse("{type: file, path: a.log, flush_interval: 2h}").ok());
}

TEST(FileOutputConfigTest, RejectsAnUnknownKey) {
  EXPECT_EQ(Parse("{type: file, name: main, path: a.log, sync: always}").status().message(),
            "outputs[0].sync: unknown key (known: type, name, level, loggers, match, buffer, "
            "retry, unhealthy_after, path, format, buffer_bytes, flush_interval, max_bytes, "
            "rotate_every, max_files, max_age, compress, fsync, fsync_interval)");
}

TEST(FileOutputTest, KeepsLinesInTheBufferUntilFlush) {
  TempDir dir;
  FileOutput output("file/test", Config(dir.Path("out.log")));
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "one").ok());
  ASSERT_TRUE(WriteText(output, "two").ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "");
  ASSERT_TRUE(output.Flush(absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO one\nINFO two\n");
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
}

TEST(FileOutputTest, WritesBufferedLinesOnShutdown) {
  TempDir dir;
  FileOutput output("file/test", Config(dir.Path("out.log")));
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "last words").ok());
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO last words\n");
}

TEST(FileOutputTest, WritesOnlyTheRecordsAtOrAboveTheLevel) {
  TempDir dir;
  FileOutput output("file/test", Config(dir.Path("out.log")));
  ASSERT_TRUE(output.Start().ok());
  FakeOutputBatch batch;
  batch.Add(Level::kDebug, "noise").Add(Level::kError, "signal");
  ASSERT_TRUE(output.Write(batch.RouteAtLeast(Level::kWarn)).ok());
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "ERROR signal\n");
}

TEST(FileOutputTest, AppendsToAnExistingFile) {
  TempDir dir;
  WriteFile(dir.Path("out.log"), "earlier\n");
  FileOutput output("file/test", Config(dir.Path("out.log")));
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "later").ok());
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "earlier\nINFO later\n");
}

TEST(FileOutputTest, WritesTheBufferWhenTheNextBatchWouldOverflowIt) {
  TempDir dir;
  // "INFO first\n" is 11 bytes: two do not fit in 16.
  FileOutput output("file/test", Config(dir.Path("out.log"), /*buffer_bytes=*/16));
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "first").ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "");
  ASSERT_TRUE(WriteText(output, "secnd").ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO first\n");
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO first\nINFO secnd\n");
}

TEST(FileOutputTest, WritesABatchLargerThanTheBufferAfterWhatIsBuffered) {
  TempDir dir;
  FileOutput output("file/test", Config(dir.Path("out.log"), /*buffer_bytes=*/16));
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "small").ok());
  ASSERT_TRUE(WriteText(output, "a line longer than the buffer").ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO small\nINFO a line longer than the buffer\n");
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
}

TEST(FileOutputTest, WithoutABufferEveryBatchIsWrittenAtOnce) {
  TempDir dir;
  FileOutput output("file/test", Config(dir.Path("out.log"), /*buffer_bytes=*/0));
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "now").ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO now\n");
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
}

TEST(FileOutputTest, AnIdleOutputFlushesWithinTheFlushInterval) {
  TempDir dir;
  FileOutputConfig config = Config(dir.Path("out.log"));
  config.flush_interval = absl::Milliseconds(5);
  FileOutput output("file/test", config);
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "eventually").ok());
  EXPECT_EQ(AwaitFileContent(dir.Path("out.log"), "INFO eventually\n"), "INFO eventually\n");
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
}

TEST(FileOutputTest, CreatesAMissingParentDirectory) {
  TempDir dir;
  const std::string path = dir.Path("a/b/out.log");
  FileOutput output("file/test", Config(path));
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "deep").ok());
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadFile(path), "INFO deep\n");
}

TEST(FileOutputTest, StartFailsOnAnUnwritablePathNamingIt) {
  TempDir dir;
  WriteFile(dir.Path("plain"), "");
  // A regular file where a directory should be: no mode bits or root privileges help.
  const std::string path = dir.Path("plain/out.log");
  FileOutput output("file/test", Config(path));
  absl::Status status = output.Start();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr(dir.Path("plain")));
  EXPECT_THAT(status.message(), HasSubstr("file/test"));
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
}

TEST(FileOutputTest, StartFailsWhenThePathIsADirectory) {
  TempDir dir;
  FileOutput output("file/test", Config(dir.Path("")));
  absl::Status status = output.Start();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("cannot open \"" + dir.Path("") + "\""));
}

TEST(FileOutputTest, ReopenAfterARenameSendsLaterLinesToANewFileAtThePath) {
  TempDir dir;
  FileOutput output("file/test", Config(dir.Path("out.log")));
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "before").ok());
  // logrotate: rename, then the postrotate signal.
  std::filesystem::rename(dir.Path("out.log"), dir.Path("out.log.1"));
  ASSERT_TRUE(output.Reopen().ok());
  ASSERT_TRUE(WriteText(output, "after").ok());
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log.1")), "INFO before\n");
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO after\n");
}

TEST(FileOutputTest, ReopenWithoutARenameAppendsToTheSameFile) {
  TempDir dir;
  FileOutput output("file/test", Config(dir.Path("out.log")));
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "one").ok());
  ASSERT_TRUE(output.Reopen().ok());
  ASSERT_TRUE(WriteText(output, "two").ok());
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO one\nINFO two\n");
}

TEST(FileOutputTest, AReopenThatCannotOpenThePathKeepsWritingToTheOpenFile) {
  TempDir dir;
  FileOutput output("file/test", Config(dir.Path("out.log")));
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "one").ok());
  std::filesystem::rename(dir.Path("out.log"), dir.Path("out.log.1"));
  // A directory where the file should be: open(2) fails whatever the privileges.
  std::filesystem::create_directory(dir.Path("out.log"));
  const absl::Status reopened = output.Reopen();
  EXPECT_FALSE(reopened.ok());
  EXPECT_THAT(reopened.message(), HasSubstr("cannot open \"" + dir.Path("out.log") + "\""));
  ASSERT_TRUE(WriteText(output, "two").ok());
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log.1")), "INFO one\nINFO two\n");
}

TEST(FileOutputTest, ReopenBeforeStartAndAfterShutdownIsOkAndOpensNothing) {
  TempDir dir;
  FileOutput output("file/test", Config(dir.Path("out.log")));
  EXPECT_TRUE(output.Reopen().ok());
  EXPECT_FALSE(std::filesystem::exists(dir.Path("out.log")));
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  std::filesystem::remove(dir.Path("out.log"));
  EXPECT_TRUE(output.Reopen().ok());
  EXPECT_FALSE(std::filesystem::exists(dir.Path("out.log")));
}

TEST(FileOutputTest, ShutdownTwiceIsOk) {
  TempDir dir;
  FileOutput output("file/test", Config(dir.Path("out.log")));
  ASSERT_TRUE(output.Start().ok());
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
}

TEST(FileOutputTest, ShutdownWithoutStartIsOkAndCreatesNothing) {
  TempDir dir;
  FileOutput output("file/test", Config(dir.Path("out.log")));
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.Path("out.log")));
}

TEST(FileOutputTest, DestroyingAStartedOutputWritesItsBuffer) {
  TempDir dir;
  {
    FileOutput output("file/test", Config(dir.Path("out.log")));
    ASSERT_TRUE(output.Start().ok());
    ASSERT_TRUE(WriteText(output, "kept").ok());
  }
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO kept\n");
}

// /dev/full accepts open(O_APPEND) and fails every write with ENOSPC.
TEST(FileOutputTest, AFullDiskIsUnavailableAndLeavesTheBatchWithTheCaller) {
  FileOutput output("file/test", Config("/dev/full", /*buffer_bytes=*/0));
  ASSERT_TRUE(output.Start().ok());
  absl::Status status = WriteText(output, "nowhere to go");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("/dev/full"));
  EXPECT_TRUE(output.Flush(absl::InfiniteFuture()).ok());
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
}

TEST(FileOutputTest, AFullDiskKeepsTheBufferAndRefusesBatchesThatDoNotFit) {
  FileOutput output("file/test", Config("/dev/full", /*buffer_bytes=*/16));
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "first").ok());
  EXPECT_EQ(output.Flush(absl::InfiniteFuture()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(WriteText(output, "secnd").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(output.Flush(absl::InfiniteFuture()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(output.Shutdown(absl::InfiniteFuture()).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
}

TEST(FileOutputTest, StartCutsThePartialLineAPreviousRunLeftAtTheEnd) {
  TempDir dir;
  WriteFile(dir.Path("out.log"), "INFO a\nINFO b\nINFO par");
  FileOutput output("file/test", Config(dir.Path("out.log"), /*buffer_bytes=*/0));
  ASSERT_TRUE(output.Start().ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO a\nINFO b\n");
  ASSERT_TRUE(WriteText(output, "c").ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO a\nINFO b\nINFO c\n");
}

TEST(FileOutputTest, StartEmptiesAFileWithoutACompleteLine) {
  TempDir dir;
  WriteFile(dir.Path("out.log"), std::string(10000, 'x'));
  FileOutput output("file/test", Config(dir.Path("out.log"), /*buffer_bytes=*/0));
  ASSERT_TRUE(output.Start().ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "");
}

TEST(FileOutputTest, StartFindsTheLastLineEndFarFromTheEnd) {
  TempDir dir;
  const std::string head = "INFO a\n";
  WriteFile(dir.Path("out.log"), head + std::string(10000, 'x'));
  FileOutput output("file/test", Config(dir.Path("out.log"), /*buffer_bytes=*/0));
  ASSERT_TRUE(output.Start().ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), head);
}

TEST(FileOutputTest, ReopenCutsAPartialLineOfTheFileItOpens) {
  TempDir dir;
  FileOutput output("file/test", Config(dir.Path("out.log"), /*buffer_bytes=*/0));
  ASSERT_TRUE(output.Start().ok());
  std::filesystem::rename(dir.Path("out.log"), dir.Path("out.log.1"));
  WriteFile(dir.Path("out.log"), "INFO whole\nINFO torn");
  ASSERT_TRUE(output.Reopen().ok());
  ASSERT_TRUE(WriteText(output, "next").ok());
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO whole\nINFO next\n");
}

double WriteErrors(prometheus::Registry& registry, const std::string& output,
                   const std::string& errno_name) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != "sluice_output_write_errors_total") continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      bool output_matches = false;
      bool errno_matches = false;
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        output_matches |= label.name == "output" && label.value == output;
        errno_matches |= label.name == "errno" && label.value == errno_name;
      }
      if (output_matches && errno_matches) return metric.counter.value;
    }
  }
  return 0;
}

TEST(FileOutputTest, AFailedWriteNamesItsErrnoAndIsCountedByIt) {
  prometheus::Registry registry;
  FileOutput first("file/first", Config("/dev/full", /*buffer_bytes=*/0), &registry);
  FileOutput second("file/second", Config("/dev/full", /*buffer_bytes=*/0), &registry);
  ASSERT_TRUE(first.Start().ok());
  ASSERT_TRUE(second.Start().ok());
  const absl::Status status = WriteText(first, "nowhere");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("(ENOSPC)"));
  EXPECT_EQ(WriteText(first, "nowhere").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(WriteText(second, "nowhere").code(), absl::StatusCode::kUnavailable);
  // Both outputs count into the one family the registry holds.
  EXPECT_EQ(WriteErrors(registry, "file/first", "ENOSPC"), 2);
  EXPECT_EQ(WriteErrors(registry, "file/second", "ENOSPC"), 1);
}

TEST(FileOutputTest, ShutdownThatCannotWriteTheBufferSaysHowManyRecordsAreLost) {
  FileOutput output("file/test", Config("/dev/full", /*buffer_bytes=*/64));
  ASSERT_TRUE(output.Start().ok());
  FakeOutputBatch batch;
  batch.Add(Level::kInfo, "one").Add(Level::kInfo, "two").Add(Level::kInfo, "three");
  ASSERT_TRUE(output.Write(batch).ok());
  const absl::Status status = output.Shutdown(absl::InfiniteFuture());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("3 records could not be written"));
}

// A tmpfs of 256 KiB of its own, so that the disk can be filled without touching any
// other file system; skipped where mounting is not allowed.
class FileOutputFullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, "size=256k") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs at " << mount_point_ << " (" << std::strerror(errno)
                   << "); the full-disk tests need root or CAP_SYS_ADMIN";
    }
    mounted_ = true;
  }

  void TearDown() override {
    if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
  }

  // Fills the file system with a filler file, to the last byte.
  void Fill() {
    WriteFile(Path("filler"), "");
    FILE* filler = std::fopen(Path("filler").c_str(), "w");
    ASSERT_NE(filler, nullptr);
    const std::string block(4096, 'f');
    while (std::fwrite(block.data(), 1, block.size(), filler) == block.size()) {
    }
    std::fclose(filler);
    filler = std::fopen(Path("filler").c_str(), "a");
    while (std::fputc('f', filler) != EOF && std::fflush(filler) == 0) {
    }
    std::fclose(filler);
  }

  void Free() { std::filesystem::remove(Path("filler")); }

  std::string Path(absl::string_view name) const { return dir_.Path(name); }

  TempDir dir_;
  const std::string mount_point_ = dir_.Path("");
  bool mounted_ = false;
};

std::string Numbered(int i) { return absl::StrCat("record number ", i, " with some padding"); }

TEST_F(FileOutputFullDiskTest, WritesEveryLineExactlyOnceOnceSpaceReturns) {
  prometheus::Registry registry;
  FileOutput output("file/test", Config(Path("out.log"), /*buffer_bytes=*/1000), &registry);
  ASSERT_TRUE(output.Start().ok());
  ASSERT_NO_FATAL_FAILURE(Fill());
  int taken = 0;
  int refused = 0;
  std::string expected;
  for (int i = 0; refused == 0 && i < 10000; ++i) {
    FakeOutputBatch batch = Batch(Numbered(i));
    const absl::Status status = output.Write(batch);
    if (status.ok()) {
      ++taken;
      expected += "INFO " + Numbered(i) + "\n";
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
      ++refused;
    }
  }
  ASSERT_EQ(refused, 1);
  EXPECT_GE(WriteErrors(registry, "file/test", "ENOSPC"), 1);
  Free();
  // The refused batch comes back, as the pipeline's retry brings it.
  for (int i = taken; i < taken + 50; ++i) {
    ASSERT_TRUE(WriteText(output, Numbered(i)).ok());
    expected += "INFO " + Numbered(i) + "\n";
  }
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(ReadFile(Path("out.log")), expected);
}

TEST_F(FileOutputFullDiskTest, ShutdownWhileFullCutsTheTornLineAndCountsTheLostRecords) {
  FileOutput output("file/test", Config(Path("out.log"), /*buffer_bytes=*/1000));
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "before the disk filled").ok());
  ASSERT_TRUE(output.Flush(absl::InfiniteFuture()).ok());
  ASSERT_NO_FATAL_FAILURE(Fill());
  int taken = 0;
  while (taken < 10000 && WriteText(output, Numbered(taken)).ok()) ++taken;
  const absl::Status status = output.Shutdown(absl::InfiniteFuture());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("records could not be written"));
  const std::string content = ReadFile(Path("out.log"));
  ASSERT_FALSE(content.empty());
  EXPECT_EQ(content.back(), '\n');
  const auto in_file = std::count(content.begin(), content.end(), '\n');
  EXPECT_THAT(status.message(),
              HasSubstr(absl::StrCat("; ", 1 + taken - in_file, " records could not be written")));
}

// 2026-12-02T10:30:00Z, and a clock the test moves.
struct FakeClock {
  absl::Time now = absl::FromUnixSeconds(1796207400);
};

FileOutputConfig RotatingConfig(const std::string& path, FakeClock& clock) {
  FileOutputConfig config = Config(path, /*buffer_bytes=*/0);
  config.now = [&clock] { return clock.now; };
  return config;
}

std::vector<std::string> FilesIn(const TempDir& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.Path(""))) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(FileOutputRotationTest, RotatesBySizeBetweenBatchesKeepingEveryLineOnceInOrder) {
  TempDir dir;
  FakeClock clock;
  FileOutputConfig config = RotatingConfig(dir.Path("records.log"), clock);
  config.max_bytes = 20;  // two lines of "INFO line N\n" (12 bytes) do not fit
  FileOutput output("file/test", config);
  ASSERT_TRUE(output.Start().ok());
  std::string expected;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(WriteText(output, absl::StrCat("line ", i)).ok());
    clock.now += absl::Seconds(1);
  }
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_THAT(FilesIn(dir), ::testing::ElementsAre("records-20261202T103001Z.log",
                                                   "records-20261202T103002Z.log", "records.log"));
  EXPECT_EQ(ReadFile(dir.Path("records-20261202T103001Z.log")), "INFO line 0\n");
  EXPECT_EQ(ReadFile(dir.Path("records-20261202T103002Z.log")), "INFO line 1\n");
  EXPECT_EQ(ReadFile(dir.Path("records.log")), "INFO line 2\n");
}

TEST(FileOutputRotationTest, TwoRotationsInOneSecondGetACounter) {
  TempDir dir;
  FakeClock clock;
  FileOutputConfig config = RotatingConfig(dir.Path("records.log"), clock);
  config.max_bytes = 1;
  FileOutput output("file/test", config);
  ASSERT_TRUE(output.Start().ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(WriteText(output, absl::StrCat("line ", i)).ok());
  EXPECT_THAT(FilesIn(dir), ::testing::ElementsAre("records-20261202T103000Z-1.log",
                                                   "records-20261202T103000Z.log", "records.log"));
  EXPECT_EQ(ReadFile(dir.Path("records-20261202T103000Z.log")), "INFO line 0\n");
  EXPECT_EQ(ReadFile(dir.Path("records-20261202T103000Z-1.log")), "INFO line 1\n");
}

TEST(FileOutputRotationTest, RotatesAtTheTopOfTheHourUtc) {
  TempDir dir;
  FakeClock clock;
  FileOutputConfig config = RotatingConfig(dir.Path("records.log"), clock);
  config.rotate_every = absl::Hours(1);
  FileOutput output("file/test", config);
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "at 10:30").ok());
  clock.now += absl::Minutes(29) + absl::Seconds(59);
  ASSERT_TRUE(WriteText(output, "at 10:59:59").ok());
  EXPECT_THAT(FilesIn(dir), ::testing::ElementsAre("records.log"));
  clock.now += absl::Seconds(1);
  ASSERT_TRUE(WriteText(output, "at 11:00").ok());
  EXPECT_THAT(FilesIn(dir), ::testing::ElementsAre("records-20261202T110000Z.log", "records.log"));
  EXPECT_EQ(ReadFile(dir.Path("records-20261202T110000Z.log")),
            "INFO at 10:30\nINFO at 10:59:59\n");
  EXPECT_EQ(ReadFile(dir.Path("records.log")), "INFO at 11:00\n");
}

TEST(FileOutputRotationTest, KeepsAtMostMaxFilesRotatedFiles) {
  TempDir dir;
  FakeClock clock;
  FileOutputConfig config = RotatingConfig(dir.Path("records.log"), clock);
  config.max_bytes = 1;
  config.max_files = 2;
  FileOutput output("file/test", config);
  ASSERT_TRUE(output.Start().ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(WriteText(output, absl::StrCat("line ", i)).ok());
    clock.now += absl::Seconds(1);
  }
  EXPECT_THAT(FilesIn(dir), ::testing::ElementsAre("records-20261202T103003Z.log",
                                                   "records-20261202T103004Z.log", "records.log"));
}

TEST(FileOutputRotationTest, StartRemovesRotatedFilesOlderThanMaxAge) {
  TempDir dir;
  WriteFile(dir.Path("records-20261201T090000Z.log"), "old\n");
  WriteFile(dir.Path("records-20261202T093000Z.log.gz"), "recent");
  WriteFile(dir.Path("other-20261201T090000Z.log"), "not ours\n");
  FakeClock clock;
  FileOutputConfig config = RotatingConfig(dir.Path("records.log"), clock);
  config.max_age = absl::Hours(24);
  FileOutput output("file/test", config);
  ASSERT_TRUE(output.Start().ok());
  EXPECT_THAT(FilesIn(dir),
              ::testing::ElementsAre("other-20261201T090000Z.log",
                                     "records-20261202T093000Z.log.gz", "records.log"));
}

TEST(FileOutputFactoryTest, CreatesAnOutputNamedAfterItsConfig) {
  absl::StatusOr<std::unique_ptr<Output>> output =
      CreateFromYaml(FileOutputFactory(), "{type: file, name: audit, path: a.log}");
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_EQ((*output)->id(), "file/audit");
}

}  // namespace
}  // namespace sluice::outputs

namespace sluice::outputs {
namespace {

// How many fdatasyncs the output ran: the observations of its fsync histogram; nullopt when
// the family has no series.
std::optional<uint64_t> FsyncCount(prometheus::Registry& registry) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != "sluice_output_fsync_duration_seconds" || family.metric.empty()) continue;
    return family.metric[0].histogram.sample_count;
  }
  return std::nullopt;
}

FileOutputConfig SyncingConfig(const std::string& path, FileOutputConfig::Fsync fsync) {
  FileOutputConfig config = Config(path);
  config.fsync = fsync;
  config.fsync_interval = absl::Hours(1);
  return config;
}

TEST(FileOutputFsyncTest, AlwaysSyncsEachFlushThatWroteSomething) {
  TempDir dir;
  prometheus::Registry registry;
  FileOutput output(
      "file/test", SyncingConfig(dir.Path("out.log"), FileOutputConfig::Fsync::kAlways), &registry);
  ASSERT_TRUE(output.Start().ok());
  EXPECT_EQ(FsyncCount(registry), 0u);
  ASSERT_TRUE(WriteText(output, "one").ok());
  ASSERT_TRUE(output.Flush(absl::InfiniteFuture()).ok());
  EXPECT_EQ(FsyncCount(registry), 1u);
  ASSERT_TRUE(output.Flush(absl::InfiniteFuture()).ok());
  EXPECT_EQ(FsyncCount(registry), 1u) << "nothing was written since the last sync";
  ASSERT_TRUE(WriteText(output, "two").ok());
  ASSERT_TRUE(output.Flush(absl::InfiniteFuture()).ok());
  EXPECT_EQ(FsyncCount(registry), 2u);
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO one\nINFO two\n");
}

TEST(FileOutputFsyncTest, IntervalSyncsAFlushOnlyOnceTheIntervalHasPassedAndAlwaysAtShutdown) {
  TempDir dir;
  prometheus::Registry registry;
  FileOutput output("file/test",
                    SyncingConfig(dir.Path("out.log"), FileOutputConfig::Fsync::kInterval),
                    &registry);
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "one").ok());
  ASSERT_TRUE(output.Flush(absl::InfiniteFuture()).ok());
  EXPECT_EQ(FsyncCount(registry), 1u) << "the first flush finds no earlier sync";
  ASSERT_TRUE(WriteText(output, "two").ok());
  ASSERT_TRUE(output.Flush(absl::InfiniteFuture()).ok());
  EXPECT_EQ(FsyncCount(registry), 1u) << "within the hour of fsync_interval";
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO one\nINFO two\n") << "written, though unsynced";
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(FsyncCount(registry), 2u);
}

TEST(FileOutputFsyncTest, IntervalSyncsWhatWasWrittenWithoutAnyFlush) {
  TempDir dir;
  prometheus::Registry registry;
  FileOutputConfig config = SyncingConfig(dir.Path("out.log"), FileOutputConfig::Fsync::kInterval);
  config.buffer_bytes = 0;
  config.fsync_interval = absl::Milliseconds(10);
  FileOutput output("file/test", config, &registry);
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "one").ok());
  EXPECT_TRUE(test_util::Eventually([&] { return FsyncCount(registry) == 1u; }, absl::Seconds(10)))
      << FsyncCount(registry).value_or(0);
}

TEST(FileOutputFsyncTest, NeverSyncsAndHasNoFsyncSeries) {
  TempDir dir;
  prometheus::Registry registry;
  FileOutput output("file/test",
                    SyncingConfig(dir.Path("out.log"), FileOutputConfig::Fsync::kNever), &registry);
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "one").ok());
  ASSERT_TRUE(output.Flush(absl::InfiniteFuture()).ok());
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_EQ(FsyncCount(registry), std::nullopt);
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "INFO one\n");
}

TEST(FileOutputFsyncTest, ARotationSyncsTheFileItSetsAside) {
  TempDir dir;
  prometheus::Registry registry;
  FakeClock clock;
  FileOutputConfig config = RotatingConfig(dir.Path("records.log"), clock);
  config.max_bytes = 1;
  config.fsync = FileOutputConfig::Fsync::kInterval;
  config.fsync_interval = absl::Hours(1);
  FileOutput output("file/test", config, &registry);
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "line 0").ok());
  ASSERT_TRUE(output.Flush(absl::InfiniteFuture()).ok());
  ASSERT_EQ(FsyncCount(registry), 1u);
  ASSERT_TRUE(WriteText(output, "line 1").ok());
  ASSERT_TRUE(WriteText(output, "line 2").ok());
  EXPECT_EQ(FsyncCount(registry), 2u)
      << "line 1 was synced before its file was rotated, within the interval";
}

// Waits until `path` is gone and `path`.gz holds `expected`; returns the last content read.
std::string AwaitCompressed(const std::string& path, absl::string_view expected) {
  std::string content;
  test_util::Eventually(
      [&] {
        content = ReadGzipFile(path + ".gz");
        return !std::filesystem::exists(path) && content == expected;
      },
      absl::Seconds(10));
  return content;
}

std::optional<double> CounterValue(prometheus::Registry& registry, absl::string_view name) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name == name && !family.metric.empty()) return family.metric[0].counter.value;
  }
  return std::nullopt;
}

TEST(FileOutputCompressionTest, GzipsEachRotatedFileAndKeepsTheCurrentOnePlain) {
  TempDir dir;
  prometheus::Registry registry;
  FakeClock clock;
  FileOutputConfig config = RotatingConfig(dir.Path("records.log"), clock);
  config.max_bytes = 20;
  config.compress = FileOutputConfig::Compression::kGzip;
  FileOutput output("file/test", config, &registry);
  ASSERT_TRUE(output.Start().ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(WriteText(output, absl::StrCat("line ", i)).ok());
    clock.now += absl::Seconds(1);
  }
  EXPECT_EQ(AwaitCompressed(dir.Path("records-20261202T103001Z.log"), "INFO line 0\n"),
            "INFO line 0\n");
  EXPECT_EQ(AwaitCompressed(dir.Path("records-20261202T103002Z.log"), "INFO line 1\n"),
            "INFO line 1\n");
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_THAT(FilesIn(dir),
              ::testing::ElementsAre("records-20261202T103001Z.log.gz",
                                     "records-20261202T103002Z.log.gz", "records.log"));
  EXPECT_EQ(ReadFile(dir.Path("records.log")), "INFO line 2\n");
  EXPECT_EQ(CounterValue(registry, "sluice_output_files_compressed_total"), 2);
  EXPECT_EQ(CounterValue(registry, "sluice_output_compress_failures_total"), 0);
}

TEST(FileOutputCompressionTest, StartFinishesWhatAPreviousRunLeft) {
  TempDir dir;
  // Rotated but not compressed; its compression stopped halfway; compressed but the
  // original not yet removed (a crash between the two).
  WriteFile(dir.Path("records-20261202T100000Z.log"), "INFO a\n");
  WriteFile(dir.Path(".records-20261202T100000Z.log.gz.partial"), "half");
  WriteFile(dir.Path("records-20261202T090000Z.log"), "INFO b\n");
  std::atomic<bool> stop{false};
  ASSERT_TRUE(
      RotatedFileCompressor::CompressFile(dir.Path("records-20261202T090000Z.log"), stop).ok());
  WriteFile(dir.Path("records-20261202T090000Z.log"), "INFO b\n");
  FakeClock clock;
  FileOutputConfig config = RotatingConfig(dir.Path("records.log"), clock);
  config.compress = FileOutputConfig::Compression::kGzip;
  FileOutput output("file/test", config);
  ASSERT_TRUE(output.Start().ok());
  EXPECT_EQ(AwaitCompressed(dir.Path("records-20261202T100000Z.log"), "INFO a\n"), "INFO a\n");
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_THAT(FilesIn(dir),
              ::testing::ElementsAre("records-20261202T090000Z.log.gz",
                                     "records-20261202T100000Z.log.gz", "records.log"));
  EXPECT_EQ(ReadGzipFile(dir.Path("records-20261202T090000Z.log.gz")), "INFO b\n");
}

TEST(FileOutputCompressionTest, RetentionCountsACompressedFileAsItsRotation) {
  TempDir dir;
  FakeClock clock;
  FileOutputConfig config = RotatingConfig(dir.Path("records.log"), clock);
  config.max_bytes = 1;
  config.max_files = 1;
  config.compress = FileOutputConfig::Compression::kGzip;
  FileOutput output("file/test", config);
  ASSERT_TRUE(output.Start().ok());
  ASSERT_TRUE(WriteText(output, "line 0").ok());
  clock.now += absl::Seconds(1);
  ASSERT_TRUE(WriteText(output, "line 1").ok());
  EXPECT_EQ(AwaitCompressed(dir.Path("records-20261202T103001Z.log"), "INFO line 0\n"),
            "INFO line 0\n");
  clock.now += absl::Seconds(1);
  ASSERT_TRUE(WriteText(output, "line 2").ok());
  EXPECT_EQ(AwaitCompressed(dir.Path("records-20261202T103002Z.log"), "INFO line 1\n"),
            "INFO line 1\n");
  ASSERT_TRUE(output.Shutdown(absl::InfiniteFuture()).ok());
  EXPECT_THAT(FilesIn(dir),
              ::testing::ElementsAre("records-20261202T103002Z.log.gz", "records.log"));
}

}  // namespace
}  // namespace sluice::outputs
