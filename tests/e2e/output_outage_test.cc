// End-to-end tests of the per-output buffers (server/pipeline/output_sender.h) on the real
// sluiced when an output's destination goes away and comes back:
//
// - a next tier (a second sluiced) that is not running for ~10 s behind a forward output,
//   under `when_full: block` with `ack_on: written` and `ack_on: flushed`: the client is
//   paced, nothing is lost, no ack calls a record dropped, and the books balance;
// - the same outage under `when_full: drop_newest` beside a healthy file output: the file
//   gets everything, and the forward output's drops are exactly the records the next tier
//   never saw;
// - a full disk (a tmpfs of the test's own, so root only) under a file output: retried
//   until space comes back with no record lost, doubled or torn; and a shutdown while the
//   disk is still full exits 1 and says what was not written.
//
// logrotate's rename + SIGHUP under load is in signals_and_limits_test.cc.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "sluice/client.h"
#include "sluice/v1/admin.pb.h"
#include "tests/e2e/admin_stats.h"
#include "tests/e2e/record_load.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

#define ASSERT_STARTED(server) ASSERT_TRUE((server).ok()) << (server).status()

constexpr absl::Duration kOutage = absl::Seconds(10);

// The next tier: a sluiced with one JSON file output, ingest on `port`.
constexpr char kNextTierConfig[] = R"(
outputs:
  - { type: file, name: received, path: "$DIR/received.log", format: json, flush_interval: 50ms }
)";

absl::StatusOr<std::unique_ptr<SluicedProcess>> StartNextTier(int port) {
  return SluicedProcess::Start(kNextTierConfig,
                               {"--ingest_listen", absl::StrCat("127.0.0.1:", port)});
}

// JsonMessages of `path` without the lines it could not read (torn or garbled), which are
// counted in `*unparsable`.
std::vector<std::string> Messages(const std::string& path, size_t* unparsable) {
  std::vector<std::string> messages = JsonMessages(path);
  *unparsable = std::erase_if(messages, [](const std::string& message) {
    return absl::StartsWith(message, kUnparsableLine);
  });
  return messages;
}

struct Tally {
  size_t missing = 0;     // not at all
  size_t duplicates = 0;  // occurrences beyond the first
  size_t unexpected = 0;  // messages that are no "rec-<i>" with i < count
};

Tally Count(const std::vector<std::string>& messages, size_t count) {
  std::vector<uint32_t> seen(count, 0);
  Tally tally;
  for (const std::string& message : messages) {
    size_t index = 0;
    absl::string_view rest = message;
    if (!absl::ConsumePrefix(&rest, "rec-") || !absl::SimpleAtoi(rest, &index) || index >= count) {
      ++tally.unexpected;
      continue;
    }
    if (seen[index]++ > 0) ++tally.duplicates;
  }
  for (uint32_t times : seen) {
    if (times == 0) ++tally.missing;
  }
  return tally;
}

// The sum of every sample of `name` whose labels contain `label` (spelled as exposed, e.g.
// output="forward/next"); 0 when there is none.
double SumMetric(absl::string_view exposition, absl::string_view name, absl::string_view label) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (!absl::ConsumePrefix(&line, name) || !absl::ConsumePrefix(&line, "{")) continue;
    const size_t end = line.find("} ");
    if (end == absl::string_view::npos || !absl::StrContains(line.substr(0, end), label)) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(end + 2), &value)) sum += value;
  }
  return sum;
}

const v1::OutputStats* FindOutput(const v1::GetStatsResponse& stats, absl::string_view id) {
  for (const v1::OutputStats& output : stats.outputs()) {
    if (output.id() == id) return &output;
  }
  return nullptr;
}

void ExpectBalanced(const v1::Counts& counts) {
  EXPECT_EQ(counts.received(), counts.filtered() + counts.rejected() + counts.dropped() +
                                   counts.dropped_by_hook() + counts.unrouted() + counts.written() +
                                   counts.in_flight());
}

// A sluice::Client that logs "rec-0" .. "rec-<count-1>" at once: its buffer holds them all,
// so Log() never drops and the only pacing is the server's.
class Sender {
 public:
  Sender(const std::string& target, size_t count) : client_(Options(target, count)) {
    for (size_t i = 0; i < count; ++i) {
      client_.Log(v1::LEVEL_INFO, "outage", absl::StrCat("rec-", i), {});
    }
  }
  ClientStats stats() const { return client_.stats(); }
  absl::Status Flush(absl::Duration timeout = kAwaitTimeout) {
    return client_.Flush(absl::Now() + timeout);
  }

 private:
  static ClientOptions Options(const std::string& target, size_t count) {
    ClientOptions options;
    options.target = target;
    options.max_buffered_records = count;
    return options;
  }

  Client client_;
};

// The samples of a Prometheus exposition that name `output`, for failure messages.
std::string OutputSamples(absl::string_view exposition, absl::string_view output) {
  std::string text;
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (absl::StrContains(line, absl::StrCat("output=\"", output, "\""))) {
      absl::StrAppend(&text, line, "\n");
    }
  }
  return text;
}

std::string OutputMetrics(const SluicedProcess& server, absl::string_view output) {
  const absl::StatusOr<std::string> metrics = server.ScrapeMetrics();
  return metrics.ok() ? OutputSamples(*metrics, output) : metrics.status().ToString();
}

std::string StatsText(const absl::StatusOr<v1::GetStatsResponse>& stats) {
  return stats.ok() ? stats->DebugString() : stats.status().ToString();
}

// --- A next tier that is down, under block ---------------------------------------------

// Small buffers everywhere, so that a down next tier fills them with a fraction of the
// records and the client has to wait for the rest.
constexpr char kBlockConfig[] = R"(
ingest: { ack_on: $ACK_ON }
scheduler: { workers: 2, channel_capacity: 2000 }
outputs:
  - type: forward
    name: next
    target: "127.0.0.1:$PORT"
    max_buffered_records: 5000
    buffer: { max_records: 5000 }
    retry: { initial_backoff: 50ms, max_backoff: 500ms }
shutdown: { drain_timeout: 30s }
)";

constexpr size_t kBlockRecords = 60000;

struct BlockScenario {
  const char* ack_on;
};

void PrintTo(const BlockScenario& scenario, std::ostream* out) { *out << scenario.ack_on; }

class BlockOutageTest : public ::testing::TestWithParam<BlockScenario> {};

TEST_P(BlockOutageTest, NextTierDownPacesTheClientAndLosesNothing) {
  const absl::Time start = absl::Now();
  // The next tier starts on this port later, so the forward output has a fixed target that
  // nothing listens on until then.
  const absl::StatusOr<int> port = ReserveLoopbackPort(SOCK_STREAM);
  ASSERT_TRUE(port.ok()) << port.status();
  const BlockScenario& scenario = GetParam();
  absl::StatusOr<std::unique_ptr<SluicedProcess>> agent = SluicedProcess::Start(absl::StrReplaceAll(
      kBlockConfig, {{"$ACK_ON", scenario.ack_on}, {"$PORT", absl::StrCat(*port)}}));
  ASSERT_STARTED(agent);
  Sender sender((*agent)->ingest_target(), kBlockRecords);

  // The forward output's attempts fail and its buffer takes batches: it is down, and the
  // rest of the records wait in its buffer, the channels and the client. How far the buffer
  // fills depends on the client's batches, which are small under load (sent early, once
  // their records waited max_batch_delay), and on its window of 8 unacked batches; the
  // outage's remaining seconds below let it settle.
  absl::StatusOr<v1::GetStatsResponse> stats;
  ASSERT_TRUE(Await([&] {
    stats = GetStats(**agent);
    if (!stats.ok()) return false;
    const v1::OutputStats* forward = FindOutput(*stats, "forward/next");
    return forward != nullptr && !forward->up() && forward->buffer_records() > 0;
  })) << StatsText(stats);
  EXPECT_TRUE((*agent)->AwaitMetric(R"(sluice_output_up{output="forward/next"})", 0));
  // Held for the rest of the outage: the outage's length is what is under test here.
  absl::SleepFor(kOutage - (absl::Now() - start));
  stats = GetStats(**agent);
  ASSERT_TRUE(stats.ok()) << stats.status();
  const ClientStats during = sender.stats();
  {
    SCOPED_TRACE(StatsText(stats));
    const v1::OutputStats* forward = FindOutput(*stats, "forward/next");
    ASSERT_NE(forward, nullptr);
    EXPECT_FALSE(forward->up());
    EXPECT_GT(forward->buffer_records(), 0u);
    EXPECT_GT(forward->oldest_record_age_ms(), 0u);
    const v1::Counts& counts = stats->counts();
    EXPECT_EQ(counts.dropped(), 0u);
    // What is held, measured where it is: the channels and the forward output's buffer.
    uint64_t held = forward->buffer_records();
    for (const v1::WorkerStats& worker : stats->workers()) {
      held += worker.queue_depth() + worker.parked_records() + worker.processing_records();
    }
    // Usually the workers wait for room too; but when the client's batches are small (sent
    // early under load), its window of unacked batches may all sit in the buffer.
    EXPECT_GE(held, forward->buffer_records());
    EXPECT_EQ(counts.received(), counts.written() + held);
    // A batch whose worker waits for room counts once, though both hold it.
    EXPECT_EQ(counts.in_flight(), held);
    ExpectBalanced(counts);
    // Paced: most records are still with the client.
    EXPECT_LT(stats->counts().received(), kBlockRecords / 2);
    EXPECT_LT(during.acked_records, kBlockRecords / 2);
    // Under flushed nothing can be acked before the next tier acked it.
    if (std::string(scenario.ack_on) == "flushed") {
      EXPECT_EQ(during.acked_records, 0u);
    }
  }
  const absl::StatusOr<std::string> metrics = (*agent)->ScrapeMetrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_GT(SumMetric(*metrics, "sluice_output_retries_total", R"(output="forward/next")"), 0);

  // The next tier comes up; everything reaches it.
  absl::StatusOr<std::unique_ptr<SluicedProcess>> next = StartNextTier(*port);
  ASSERT_STARTED(next);
  const absl::Status flushed = sender.Flush();
  ASSERT_TRUE(flushed.ok()) << flushed;
  const ClientStats after = sender.stats();
  EXPECT_EQ(after.acked_records, kBlockRecords);
  EXPECT_EQ(after.server_dropped, 0u) << "an ack called a record dropped";
  EXPECT_EQ(after.dropped_buffer_full, 0u);

  ASSERT_TRUE(Await([&] {
    stats = GetStats(**agent);
    return stats.ok() && stats->counts().in_flight() == 0 &&
           stats->counts().written() == kBlockRecords;
  })) << StatsText(stats);
  {
    SCOPED_TRACE(StatsText(stats));
    const v1::Counts& counts = stats->counts();
    EXPECT_EQ(counts.received(), kBlockRecords);
    EXPECT_EQ(counts.dropped(), 0u);
    ExpectBalanced(counts);
    const v1::OutputStats* forward = FindOutput(*stats, "forward/next");
    ASSERT_NE(forward, nullptr);
    EXPECT_TRUE(forward->up());
    EXPECT_EQ(forward->buffer_records(), 0u);
  }
  ASSERT_TRUE((*agent)->Terminate().ok());
  const absl::StatusOr<int> agent_exit = (*agent)->WaitForExit();
  ASSERT_TRUE(agent_exit.ok()) << agent_exit.status();
  EXPECT_EQ(*agent_exit, 0) << (*agent)->Stderr();
  ASSERT_TRUE((*next)->Terminate().ok());
  const absl::StatusOr<int> next_exit = (*next)->WaitForExit();
  ASSERT_TRUE(next_exit.ok()) << next_exit.status();
  EXPECT_EQ(*next_exit, 0) << (*next)->Stderr();

  size_t unparsable = 0;
  const Tally tally = Count(Messages((*next)->path("received.log"), &unparsable), kBlockRecords);
  EXPECT_EQ(unparsable, 0u);
  EXPECT_EQ(tally.unexpected, 0u);
  EXPECT_EQ(tally.missing, 0u) << "of " << kBlockRecords;
  // At least once across a reconnect: duplicates are allowed, and reported.
  RecordProperty("duplicates_at_next_tier", static_cast<int>(tally.duplicates));
  std::printf("duplicates at the next tier: %zu of %zu\n", tally.duplicates, kBlockRecords);
}

std::string ScenarioName(const ::testing::TestParamInfo<BlockScenario>& info) {
  return info.param.ack_on;
}

INSTANTIATE_TEST_SUITE_P(AckOn, BlockOutageTest,
                         ::testing::Values(BlockScenario{"written"}, BlockScenario{"flushed"}),
                         ScenarioName);

// --- A next tier that is down, under drop_newest, beside a healthy file output ---------

// max_elapsed is short on purpose. Acks go out in batch order (push_batches_reactor.h) and
// wait until every output took the batch, so the batch at the head of the down output's
// buffer holds back the acks of every batch after it on its stream, and a client with its
// max_unacked_batches outstanding stops sending until that batch is given up on: with the
// default 60s, the healthy file output would get the client's records only once a minute.
constexpr char kDropConfig[] = R"(
scheduler: { workers: 2, channel_capacity: 2000 }
outputs:
  - { type: file, name: local, path: "$DIR/local.log", format: json, flush_interval: 50ms }
  - type: forward
    name: next
    target: "127.0.0.1:$PORT"
    max_buffered_records: 3000
    buffer: { max_records: 1000, when_full: drop_newest }
    retry: { initial_backoff: 50ms, max_backoff: 500ms, max_elapsed: 1s }
shutdown: { drain_timeout: 30s }
)";

constexpr size_t kDropRecords = 50000;

TEST(DropNewestOutageTest, FileGetsEverythingAndForwardDropsAreCountedExactly) {
  const absl::Time start = absl::Now();
  const absl::StatusOr<int> port = ReserveLoopbackPort(SOCK_STREAM);
  ASSERT_TRUE(port.ok()) << port.status();
  absl::StatusOr<std::unique_ptr<SluicedProcess>> agent =
      SluicedProcess::Start(absl::StrReplaceAll(kDropConfig, {{"$PORT", absl::StrCat(*port)}}));
  ASSERT_STARTED(agent);
  Sender sender((*agent)->ingest_target(), kDropRecords);

  // The file output is not held back by the forward output's outage: every record is
  // acked while the next tier is still down.
  const absl::Status flushed = sender.Flush();
  ASSERT_TRUE(flushed.ok()) << flushed << StatsText(GetStats(**agent))
                            << OutputMetrics(**agent, "forward/next");
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(**agent);
  ASSERT_TRUE(stats.ok()) << stats.status();
  {
    SCOPED_TRACE(StatsText(stats));
    const v1::OutputStats* forward = FindOutput(*stats, "forward/next");
    ASSERT_NE(forward, nullptr);
    EXPECT_FALSE(forward->up());
    EXPECT_GT(stats->counts().dropped_output_failed(), 0u);
  }
  absl::SleepFor(kOutage - (absl::Now() - start));

  // Settled: every batch was written to the forward client or dropped for the forward
  // output, so the counters below are final.
  ASSERT_TRUE(Await([&] {
    stats = GetStats(**agent);
    if (!stats.ok() || stats->counts().in_flight() != 0) return false;
    const v1::OutputStats* forward = FindOutput(*stats, "forward/next");
    return forward != nullptr && forward->buffer_records() == 0;
  })) << StatsText(stats);
  const absl::StatusOr<std::string> metrics = (*agent)->ScrapeMetrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const uint64_t delivered = kDropRecords - stats->counts().dropped_output_failed();

  absl::StatusOr<std::unique_ptr<SluicedProcess>> next = StartNextTier(*port);
  ASSERT_STARTED(next);
  // What the forward client held through the outage reaches the next tier without another
  // record being sent.
  ASSERT_TRUE(Await([&] { return CountLines((*next)->path("received.log")) >= delivered; }))
      << CountLines((*next)->path("received.log")) << " of " << delivered << "\n"
      << (*agent)->Stderr();
  ASSERT_TRUE((*agent)->Terminate().ok());
  const absl::StatusOr<int> agent_exit = (*agent)->WaitForExit();
  ASSERT_TRUE(agent_exit.ok()) << agent_exit.status();
  // Nothing was buffered any more, so the shutdown lost nothing.
  EXPECT_EQ(*agent_exit, 0) << (*agent)->Stderr();
  ASSERT_TRUE((*next)->Terminate().ok());
  const absl::StatusOr<int> next_exit = (*next)->WaitForExit();
  ASSERT_TRUE(next_exit.ok()) << next_exit.status();
  EXPECT_EQ(*next_exit, 0) << (*next)->Stderr();

  size_t unparsable = 0;
  const Tally local = Count(Messages((*agent)->path("local.log"), &unparsable), kDropRecords);
  EXPECT_EQ(unparsable, 0u);
  EXPECT_EQ(local.missing, 0u);
  EXPECT_EQ(local.duplicates, 0u);
  EXPECT_EQ(local.unexpected, 0u);
  const Tally forwarded = Count(Messages((*next)->path("received.log"), &unparsable), kDropRecords);
  EXPECT_EQ(unparsable, 0u);
  EXPECT_EQ(forwarded.unexpected, 0u);
  std::printf("forwarded: %zu missing, %zu duplicates of %zu\n", forwarded.missing,
              forwarded.duplicates, kDropRecords);
  EXPECT_GT(forwarded.missing, 0u) << "the outage should have cost the forward output records";
  EXPECT_LT(forwarded.missing, kDropRecords);

  // Stats and metrics as of the settled agent, before the next tier came up.
  SCOPED_TRACE(StatsText(stats));
  const v1::Counts& counts = stats->counts();
  EXPECT_EQ(counts.received(), kDropRecords);
  EXPECT_EQ(counts.in_flight(), 0u);
  EXPECT_EQ(counts.dropped_overflow(), 0u);
  EXPECT_EQ(counts.dropped_output_failed(), forwarded.missing);
  EXPECT_EQ(counts.written(), kDropRecords - forwarded.missing);
  ExpectBalanced(counts);
  const ClientStats acked = sender.stats();
  EXPECT_EQ(acked.acked_records, kDropRecords);
  EXPECT_EQ(acked.server_dropped, forwarded.missing) << "acks report what the forward output lost";

  // The forward output's drop counters are exactly what the next tier lacks: batches
  // that found its buffer full, and those retried for max_elapsed at its head.
  const absl::string_view kDropped = "sluice_output_records_dropped_total";
  const std::string forward_metrics = OutputSamples(*metrics, "forward/next");
  const double dropped = SumMetric(*metrics, kDropped, R"(output="forward/next")");
  EXPECT_EQ(dropped, static_cast<double>(forwarded.missing)) << forward_metrics;
  EXPECT_GT(SumMetric(*metrics, kDropped, R"(output="forward/next",reason="buffer_full")"), 0)
      << forward_metrics;
  EXPECT_EQ(SumMetric(*metrics, kDropped, R"(output="forward/next",reason="permanent_error")") +
                SumMetric(*metrics, kDropped, R"(output="forward/next",reason="shutdown")"),
            0)
      << forward_metrics;
  EXPECT_EQ(SumMetric(*metrics, kDropped, R"(output="file/local")"), 0);
}

// --- A full disk under a file output ---------------------------------------------------

constexpr char kDiskConfig[] = R"(
ingest: { ack_on: written }
scheduler: { workers: 2 }
outputs:
  - type: file
    name: disk
    path: "$MOUNT/records.log"
    format: json
    buffer_bytes: 16384
    flush_interval: 20ms
  - { type: file, name: spare, path: "$DIR/spare.log", format: json, flush_interval: 20ms }
shutdown: { drain_timeout: 2s }
)";

// A tmpfs mounted on a fresh directory, unmounted (lazily, whoever still holds a file on
// it) on destruction.
class ScopedTmpfs {
 public:
  explicit ScopedTmpfs(const std::string& size) {
    mounted_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~ScopedTmpfs() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  std::string file(absl::string_view name) const { return dir_.file(name); }
  const std::string& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string error_;
};

// Writes `path` until the file system has no room left; true if it ran out of space.
bool FillUp(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return false;
  const std::string block(4096, 'f');
  bool full = false;
  // Bounded: the tmpfs holds a few MiB.
  for (int i = 0; i < 100000 && !full; ++i) {
    full =
        std::fwrite(block.data(), 1, block.size(), file) != block.size() || std::fflush(file) != 0;
  }
  // Whatever a short write left in stdio's buffer is discarded with the failed flush.
  std::fclose(file);
  return full;
}

TEST(DiskFullTest, RetriedUntilThereIsRoomAndAShutdownWhileFullExitsOne) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs of its own";
  ScopedTmpfs disk("2m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs: " << disk.error();
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(absl::StrReplaceAll(kDiskConfig, {{"$MOUNT", disk.path()}}));
  ASSERT_STARTED(server);
  const std::string filler = disk.file("filler");
  const std::string log = disk.file("records.log");
  ASSERT_TRUE(FillUp(filler));

  // Phase 1: records arrive while the disk is full; none is acked until it has room.
  constexpr size_t kRecords = 5000;
  auto sender = std::make_unique<Sender>((*server)->ingest_target(), kRecords);
  ASSERT_TRUE((*server)->AwaitMetric(R"(sluice_output_up{output="file/disk"})", 0))
      << OutputMetrics(**server, "file/disk") << StatsText(GetStats(**server))
      << (*server)->Stderr();
  ASSERT_TRUE(Await([&] {
    const absl::StatusOr<std::string> metrics = (*server)->ScrapeMetrics();
    return metrics.ok() &&
           SumMetric(*metrics, "sluice_output_retries_total", R"(output="file/disk")") >= 3;
  }));
  EXPECT_LT(sender->stats().acked_records, kRecords);
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(**server);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->counts().dropped(), 0u) << StatsText(stats);

  ASSERT_TRUE(std::filesystem::remove(filler));
  const absl::Status flushed = sender->Flush();
  ASSERT_TRUE(flushed.ok()) << flushed;
  EXPECT_EQ(sender->stats().acked_records, kRecords);
  EXPECT_EQ(sender->stats().server_dropped, 0u);
  ASSERT_TRUE(Await([&] {
    stats = GetStats(**server);
    return stats.ok() && stats->counts().in_flight() == 0 && stats->counts().written() == kRecords;
  })) << StatsText(stats);
  EXPECT_EQ(stats->counts().dropped(), 0u);
  ExpectBalanced(stats->counts());
  EXPECT_TRUE((*server)->AwaitMetric(R"(sluice_output_up{output="file/disk"})", 1));
  // What the file output took is on the tmpfs once its flush_interval passed.
  ASSERT_TRUE(Await([&] { return CountLines(log) >= kRecords; })) << CountLines(log);
  {
    size_t unparsable = 0;
    const Tally tally = Count(Messages(log, &unparsable), kRecords);
    EXPECT_EQ(unparsable, 0u) << "torn lines";
    EXPECT_EQ(tally.missing, 0u);
    EXPECT_EQ(tally.duplicates, 0u);
    EXPECT_EQ(tally.unexpected, 0u);
  }
  sender.reset();

  // Phase 2: full again, and a shutdown that cannot write what it holds.
  ASSERT_TRUE(FillUp(filler));
  Sender stuck((*server)->ingest_target(), 2000);
  ASSERT_TRUE((*server)->AwaitMetric(R"(sluice_output_up{output="file/disk"})", 0));
  ASSERT_TRUE(Await([&] {
    stats = GetStats(**server);
    const v1::OutputStats* output = stats.ok() ? FindOutput(*stats, "file/disk") : nullptr;
    return output != nullptr && output->buffer_records() > 0;
  })) << StatsText(stats);
  const absl::Time terminated = absl::Now();
  ASSERT_TRUE((*server)->Terminate().ok());
  const absl::StatusOr<int> exit_code = (*server)->WaitForExit(absl::Seconds(20));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 1) << (*server)->Stderr();
  EXPECT_LT(absl::Now() - terminated, absl::Seconds(15)) << "drain_timeout is 2s";
  const std::string err = (*server)->Stderr();
  EXPECT_TRUE(absl::StrContains(err, "stopped, with records lost:")) << err;
  EXPECT_TRUE(absl::StrContains(err, "file/disk")) << err;
}

}  // namespace
}  // namespace sluice::e2e
