// End-to-end tests of sluiced: the real server binary, a file output, and clients speaking
// gRPC to it (raw stubs, the sluice::Client library, the sluice command). Each test starts
// its own server on port 0 in its own temporary directory and reads the records back from
// the file the server wrote.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "sluice/client.h"
#include "sluice/v1/admin.grpc.pb.h"
#include "sluice/v1/logs.grpc.pb.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A file output in JSON and four workers: the configuration most tests run.
constexpr char kFileConfig[] = R"(
scheduler:
  workers: 4
  channel_capacity: 4096
outputs:
  - type: file
    name: main
    path: "$DIR/records.log"
    format: json
    flush_interval: 50ms
shutdown:
  drain_timeout: 30s
)";

constexpr char kStreamAffinityConfig[] = R"(
scheduler:
  workers: 4
  dispatch: stream_affinity
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 50ms }
)";

// Batches a PushBatches client keeps unacknowledged at most. Acks wait until the outputs
// wrote the batch (ingest.ack_on: written), so a stream parks only if the client has more
// batches in flight than the channel holds: 10 in the slow-output test.
constexpr size_t kAckWindow = 16;
// No call of these tests should take nearly this long; it only stops a hang.
constexpr absl::Duration kCallDeadline = absl::Seconds(90);

std::shared_ptr<grpc::Channel> Channel(const std::string& target) {
  return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
}

std::unique_ptr<v1::LogService::Stub> LogStub(const SluicedProcess& server) {
  return v1::LogService::NewStub(Channel(server.ingest_target()));
}

std::unique_ptr<v1::AdminService::Stub> AdminStub(const SluicedProcess& server) {
  return v1::AdminService::NewStub(Channel(server.admin_target()));
}

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
}

v1::LogRecord Record(v1::Level level, const std::string& logger, const std::string& message) {
  v1::LogRecord record;
  record.set_level(level);
  record.set_logger(logger);
  record.set_message(message);
  return record;
}

v1::LogRecord Info(const std::string& message) { return Record(v1::LEVEL_INFO, "demo", message); }

v1::LogBatch Batch(uint64_t sequence, std::vector<v1::LogRecord> records) {
  v1::LogBatch batch;
  batch.set_sequence(sequence);
  for (v1::LogRecord& record : records) *batch.add_records() = std::move(record);
  return batch;
}

// `count` INFO records of logger "demo" with messages "<prefix><first>" onwards.
std::vector<v1::LogRecord> InfoRecords(const std::string& prefix, int first, int count) {
  std::vector<v1::LogRecord> records;
  records.reserve(static_cast<size_t>(count));
  for (int i = first; i < first + count; ++i) records.push_back(Info(absl::StrCat(prefix, i)));
  return records;
}

// The outcome of one Push call.
struct PushResult {
  v1::PushSummary summary;
  grpc::Status status;
};

PushResult Push(v1::LogService::Stub& stub, const std::vector<v1::LogRecord>& records) {
  PushResult result;
  grpc::ClientContext context;
  SetDeadline(context);
  std::unique_ptr<grpc::ClientWriter<v1::LogRecord>> writer = stub.Push(&context, &result.summary);
  for (const v1::LogRecord& record : records) {
    if (!writer->Write(record)) break;
  }
  writer->WritesDone();
  result.status = writer->Finish();
  return result;
}

// The outcome of one PushBatches call.
struct StreamResult {
  std::vector<v1::PushAck> acks;
  grpc::Status status;
};

// Streams the batches `next_batch` yields (until nullopt) over one PushBatches call,
// keeping at most kAckWindow unacknowledged, and collects every ack until the server ends
// the call. `acked`, when given, counts the acks as they come.
StreamResult StreamBatches(v1::LogService::Stub& stub,
                           const std::function<std::optional<v1::LogBatch>()>& next_batch,
                           std::atomic<size_t>* acked = nullptr) {
  StreamResult result;
  grpc::ClientContext context;
  SetDeadline(context);
  std::unique_ptr<grpc::ClientReaderWriter<v1::LogBatch, v1::PushAck>> stream =
      stub.PushBatches(&context);
  absl::Mutex mu;
  size_t ack_count = 0;
  bool reader_done = false;
  std::thread reader([&] {
    v1::PushAck ack;
    while (stream->Read(&ack)) {
      absl::MutexLock lock(&mu);
      result.acks.push_back(ack);
      ++ack_count;
      if (acked != nullptr) acked->fetch_add(1);
    }
    absl::MutexLock lock(&mu);
    reader_done = true;
  });
  size_t sent = 0;
  while (std::optional<v1::LogBatch> batch = next_batch()) {
    {
      absl::MutexLock lock(&mu);
      auto room = [&] { return reader_done || sent - ack_count < kAckWindow; };
      if (!mu.AwaitWithTimeout(absl::Condition(&room), kCallDeadline) || reader_done) break;
    }
    if (!stream->Write(*batch)) break;
    ++sent;
  }
  stream->WritesDone();
  reader.join();
  result.status = stream->Finish();
  return result;
}

StreamResult StreamBatches(v1::LogService::Stub& stub, const std::vector<v1::LogBatch>& batches) {
  size_t next = 0;
  return StreamBatches(stub, [&]() -> std::optional<v1::LogBatch> {
    if (next == batches.size()) return std::nullopt;
    return batches[next++];
  });
}

// `batches` batches of `size` INFO records, messages "<prefix><n>" numbered from 0 across
// the batches, sequences from 1.
std::vector<v1::LogBatch> InfoBatches(const std::string& prefix, int batches, int size) {
  std::vector<v1::LogBatch> result;
  for (int b = 0; b < batches; ++b) {
    result.push_back(Batch(static_cast<uint64_t>(b) + 1, InfoRecords(prefix, b * size, size)));
  }
  return result;
}

uint64_t TotalAccepted(const std::vector<v1::PushAck>& acks) {
  uint64_t total = 0;
  for (const v1::PushAck& ack : acks) total += ack.accepted();
  return total;
}

// One PushBatches call driven one batch at a time: send, then wait for its ack.
class LockstepStream {
 public:
  explicit LockstepStream(v1::LogService::Stub& stub) {
    SetDeadline(context_);
    stream_ = stub.PushBatches(&context_);
  }

  std::optional<v1::PushAck> Send(const v1::LogBatch& batch) {
    v1::PushAck ack;
    if (!stream_->Write(batch) || !stream_->Read(&ack)) return std::nullopt;
    return ack;
  }

  grpc::Status Close() {
    stream_->WritesDone();
    v1::PushAck unexpected;
    while (stream_->Read(&unexpected)) {
    }
    return stream_->Finish();
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::LogBatch, v1::PushAck>> stream_;
};

absl::StatusOr<v1::GetStatsResponse> GetStats(const SluicedProcess& server) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::GetStatsResponse response;
  const grpc::Status status = AdminStub(server)->GetStats(&context, {}, &response);
  if (!status.ok()) return absl::InternalError(status.error_message());
  return response;
}

absl::StatusOr<v1::GetLevelsResponse> GetLevels(const SluicedProcess& server) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::GetLevelsResponse response;
  const grpc::Status status = AdminStub(server)->GetLevels(&context, {}, &response);
  if (!status.ok()) return absl::InternalError(status.error_message());
  return response;
}

bool HasRule(const v1::GetLevelsResponse& levels, const std::string& prefix) {
  return std::any_of(levels.rules().begin(), levels.rules().end(),
                     [&](const v1::LevelRule& rule) { return rule.logger_prefix() == prefix; });
}

// The "message" of each JSON line, in file order; a line that is not a JSON object with
// a string message fails the test.
std::vector<std::string> Messages(const std::vector<std::string>& lines) {
  std::vector<std::string> messages;
  messages.reserve(lines.size());
  for (const std::string& line : lines) {
    rapidjson::Document document;
    document.Parse(line.data(), line.size());
    if (document.HasParseError() || !document.IsObject() || !document.HasMember("message") ||
        !document["message"].IsString()) {
      ADD_FAILURE() << "not a JSON record with a message: " << line;
      continue;
    }
    messages.emplace_back(document["message"].GetString(), document["message"].GetStringLength());
  }
  return messages;
}

// SIGTERM, expect a clean exit, then the messages the server wrote to records.log.
std::vector<std::string> TerminateAndReadMessages(SluicedProcess& server) {
  EXPECT_TRUE(server.Terminate().ok());
  const absl::StatusOr<int> exit_code = server.WaitForExit();
  EXPECT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << server.Stderr();
  if (exit_code.ok()) {
    EXPECT_EQ(*exit_code, 0) << server.Stderr();
  }
  return Messages(ReadLines(server.path("records.log")));
}

// Each of `expected` is in `messages` exactly once, and nothing else is.
void ExpectExactlyOnce(const std::vector<std::string>& messages,
                       const std::vector<std::string>& expected) {
  absl::flat_hash_map<std::string, int> seen;
  for (const std::string& message : messages) ++seen[message];
  size_t missing = 0;
  size_t repeated = 0;
  for (const std::string& message : expected) {
    auto it = seen.find(message);
    if (it == seen.end()) {
      if (++missing <= 5) ADD_FAILURE() << "missing: " << message;
      continue;
    }
    if (it->second != 1 && ++repeated <= 5) {
      ADD_FAILURE() << "written " << it->second << " times: " << message;
    }
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(repeated, 0u);
  EXPECT_EQ(messages.size(), expected.size());
}

// Closes a file descriptor at the end of the scope, however the test leaves it.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() { ::close(fd_); }

 private:
  const int fd_;
};

#define ASSERT_STARTED(server) ASSERT_TRUE((server).ok()) << (server).status()

TEST(E2eTest, ConcurrentPushStreamsWriteEveryRecordOnce) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kFileConfig);
  ASSERT_STARTED(server);
  constexpr int kStreams = 4;
  constexpr int kPerStream = 25000;
  std::vector<PushResult> results(kStreams);
  std::vector<std::thread> clients;
  for (int s = 0; s < kStreams; ++s) {
    clients.emplace_back([&, s] {
      std::unique_ptr<v1::LogService::Stub> stub = LogStub(**server);
      results[s] = Push(*stub, InfoRecords(absl::StrCat("push-", s, "-"), 0, kPerStream));
    });
  }
  for (std::thread& client : clients) client.join();

  uint64_t accepted = 0;
  for (const PushResult& result : results) {
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    EXPECT_EQ(result.summary.received(), static_cast<uint64_t>(kPerStream));
    accepted += result.summary.accepted();
  }
  EXPECT_EQ(accepted, static_cast<uint64_t>(kStreams * kPerStream));

  std::vector<std::string> expected;
  for (int s = 0; s < kStreams; ++s) {
    for (int i = 0; i < kPerStream; ++i) expected.push_back(absl::StrCat("push-", s, "-", i));
  }
  ExpectExactlyOnce(TerminateAndReadMessages(**server), expected);
}

TEST(E2eTest, PushBatchesWritesEveryAcknowledgedRecordOnce) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kFileConfig);
  ASSERT_STARTED(server);
  constexpr int kBatches = 200;
  constexpr int kBatchSize = 500;
  const StreamResult result =
      StreamBatches(*LogStub(**server), InfoBatches("batch-", kBatches, kBatchSize));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  ASSERT_EQ(result.acks.size(), static_cast<size_t>(kBatches));
  for (size_t i = 0; i < result.acks.size(); ++i) {
    EXPECT_EQ(result.acks[i].sequence(), i + 1) << "acks come in order";
  }
  EXPECT_EQ(TotalAccepted(result.acks), static_cast<uint64_t>(kBatches * kBatchSize));

  std::vector<std::string> expected;
  for (int i = 0; i < kBatches * kBatchSize; ++i) expected.push_back(absl::StrCat("batch-", i));
  ExpectExactlyOnce(TerminateAndReadMessages(**server), expected);
}

TEST(E2eTest, TheClientLibraryDeliversEveryRecordWithItsFields) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kFileConfig);
  ASSERT_STARTED(server);
  constexpr int kThreads = 2;
  constexpr int kPerThread = 10000;
  ClientStats stats;
  {
    ClientOptions options;
    options.target = (*server)->ingest_target();
    Client client(options);
    std::vector<std::thread> loggers;
    for (int t = 0; t < kThreads; ++t) {
      loggers.emplace_back([&client, t] {
        for (int i = 0; i < kPerThread; ++i) {
          client.Log(v1::LEVEL_WARN, "client", absl::StrCat("client-", t, "-", i),
                     {{"thread", t}, {"n", i}, {"user", "ann"}, {"express", true}});
        }
      });
    }
    for (std::thread& logger : loggers) logger.join();
    const absl::Status flushed = client.Flush(absl::Now() + kAwaitTimeout);
    ASSERT_TRUE(flushed.ok()) << flushed;
    stats = client.stats();
  }
  EXPECT_EQ(stats.logged, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(stats.server_accepted, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(stats.dropped_buffer_full, 0u);

  EXPECT_TRUE((*server)->Terminate().ok());
  const absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << (*server)->Stderr();
  const std::vector<std::string> lines = ReadLines((*server)->path("records.log"));
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread));
  absl::flat_hash_set<std::string> seen;
  for (const std::string& line : lines) {
    rapidjson::Document record;
    record.Parse(line.data(), line.size());
    ASSERT_FALSE(record.HasParseError()) << line;
    ASSERT_TRUE(record.HasMember("thread") && record["thread"].IsInt64() && record.HasMember("n") &&
                record["n"].IsInt64() && record.HasMember("user") && record.HasMember("express") &&
                record.HasMember("message"))
        << line;
    EXPECT_EQ(std::string(record["level"].GetString()), "WARN") << line;
    EXPECT_EQ(std::string(record["logger"].GetString()), "client") << line;
    EXPECT_EQ(std::string(record["user"].GetString()), "ann") << line;
    EXPECT_TRUE(record["express"].IsBool() && record["express"].GetBool()) << line;
    const std::string message = record["message"].GetString();
    EXPECT_EQ(message,
              absl::StrCat("client-", record["thread"].GetInt64(), "-", record["n"].GetInt64()));
    EXPECT_TRUE(seen.insert(message).second) << "written twice: " << line;
  }
}

// Connections are asked to close (GOAWAY) once a second old; open calls may go on for
// $GRACE, then the connection is cut.
constexpr char kConnectionAgeConfig[] = R"(
ingest:
  max_connection_age: 1s
  max_connection_age_grace: $GRACE
outputs:
  - { type: file, name: main, path: "$DIR/records.log", format: json, flush_interval: 50ms }
)";

TEST(E2eTest, AConnectionPastItsMaxAgeClosesAfterItsOpenCallsAndNothingIsLost) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(absl::StrReplaceAll(kConnectionAgeConfig, {{"$GRACE", "1h"}}));
  ASSERT_STARTED(server);
  std::shared_ptr<grpc::Channel> channel = Channel((*server)->ingest_target());
  std::unique_ptr<v1::LogService::Stub> stub = v1::LogService::NewStub(channel);
  LockstepStream stream(*stub);
  const std::optional<v1::PushAck> first = stream.Send(Batch(1, InfoRecords("age-", 0, 100)));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->accepted(), 100u);

  // The server's GOAWAY takes the channel out of READY: its next call needs a new
  // connection, for which a client re-resolves the target.
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  ASSERT_TRUE(channel->WaitForStateChange(GRPC_CHANNEL_READY,
                                          absl::ToChronoTime(absl::Now() + kAwaitTimeout)))
      << "the connection was never asked to close";

  // The call already open goes on during the grace...
  const std::optional<v1::PushAck> second = stream.Send(Batch(2, InfoRecords("age-", 100, 100)));
  ASSERT_TRUE(second.has_value()) << "the open call was cut";
  EXPECT_EQ(second->accepted(), 100u);
  const grpc::Status closed = stream.Close();
  EXPECT_TRUE(closed.ok()) << closed.error_message();
  // ...and a new one goes over a new connection.
  const StreamResult after = StreamBatches(*stub, {Batch(1, InfoRecords("age-", 200, 100))});
  ASSERT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_EQ(TotalAccepted(after.acks), 100u);

  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) expected.push_back(absl::StrCat("age-", i));
  ExpectExactlyOnce(TerminateAndReadMessages(**server), expected);
}

TEST(E2eTest, TheClientLibraryReconnectsWhenTheGraceCutsItsStreamAndLosesNothing) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(absl::StrReplaceAll(kConnectionAgeConfig, {{"$GRACE", "1s"}}));
  ASSERT_STARTED(server);
  constexpr int kPhase = 5000;
  ClientStats stats;
  {
    ClientOptions options;
    options.target = (*server)->ingest_target();
    // One stream for as long as it lasts: only the server ends it.
    options.batches_per_stream = 1000000;
    Client client(options);
    auto log_phase = [&client](int first) {
      for (int i = first; i < first + kPhase; ++i) {
        client.Log(v1::LEVEL_INFO, "demo", absl::StrCat("cut-", i));
      }
      return client.Flush(absl::Now() + kAwaitTimeout);
    };
    const absl::Status phase1 = log_phase(0);
    ASSERT_TRUE(phase1.ok()) << phase1;
    ASSERT_TRUE(Await([&] { return client.stats().stream_failures > 0; }))
        << "the server never cut the connection";
    EXPECT_EQ(client.stats().last_stream_error.code(), absl::StatusCode::kUnavailable)
        << client.stats().last_stream_error;
    const absl::Status phase2 = log_phase(kPhase);
    ASSERT_TRUE(phase2.ok()) << phase2;
    stats = client.stats();
  }
  EXPECT_GE(stats.streams_opened, 2u);
  EXPECT_EQ(stats.acked_records, 2u * kPhase);

  // At least once: a batch in flight when a connection is cut is sent again.
  absl::flat_hash_map<std::string, int> seen;
  for (const std::string& message : TerminateAndReadMessages(**server)) ++seen[message];
  size_t missing = 0;
  for (int i = 0; i < 2 * kPhase; ++i) {
    if (!seen.contains(absl::StrCat("cut-", i)) && ++missing <= 5) {
      ADD_FAILURE() << "missing: cut-" << i;
    }
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(seen.size(), 2u * kPhase) << "messages nobody logged were written";
}

TEST(E2eTest, StreamAffinityWritesEachStreamInOrder) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(kStreamAffinityConfig);
  ASSERT_STARTED(server);
  constexpr int kStreams = 4;
  constexpr int kBatches = 50;
  constexpr int kBatchSize = 100;
  std::vector<std::thread> clients;
  std::vector<StreamResult> results(kStreams);
  for (int s = 0; s < kStreams; ++s) {
    clients.emplace_back([&, s] {
      results[s] = StreamBatches(*LogStub(**server),
                                 InfoBatches(absl::StrCat(s, ":"), kBatches, kBatchSize));
    });
  }
  for (std::thread& client : clients) client.join();
  for (const StreamResult& result : results) {
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    EXPECT_EQ(TotalAccepted(result.acks), static_cast<uint64_t>(kBatches * kBatchSize));
  }

  std::map<int, std::vector<int>> sequences;
  for (const std::string& message : TerminateAndReadMessages(**server)) {
    std::vector<std::string> parts = absl::StrSplit(message, ':');
    int stream = 0;
    int sequence = 0;
    ASSERT_EQ(parts.size(), 2u) << message;
    ASSERT_TRUE(absl::SimpleAtoi(parts[0], &stream) && absl::SimpleAtoi(parts[1], &sequence))
        << message;
    sequences[stream].push_back(sequence);
  }
  ASSERT_EQ(sequences.size(), static_cast<size_t>(kStreams));
  for (const auto& [stream, written] : sequences) {
    ASSERT_EQ(written.size(), static_cast<size_t>(kBatches * kBatchSize)) << "stream " << stream;
    for (size_t i = 0; i < written.size(); ++i) {
      ASSERT_EQ(written[i], static_cast<int>(i)) << "stream " << stream << ", line " << i;
    }
  }
}

TEST(E2eTest, LevelChangesApplyToTheNextRecordsAndTtlRulesExpire) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kFileConfig);
  ASSERT_STARTED(server);
  std::unique_ptr<v1::LogService::Stub> stub = LogStub(**server);
  std::unique_ptr<v1::AdminService::Stub> admin = AdminStub(**server);
  auto records = [](v1::Level level, const std::string& prefix, int count) {
    std::vector<v1::LogRecord> result;
    for (int i = 0; i < count; ++i)
      result.push_back(Record(level, "demo", absl::StrCat(prefix, i)));
    return result;
  };

  // Default threshold INFO: DEBUG of "demo" is filtered.
  LockstepStream stream(*stub);
  std::vector<v1::LogRecord> first = records(v1::LEVEL_DEBUG, "before-debug-", 10);
  for (v1::LogRecord& record : records(v1::LEVEL_INFO, "before-info-", 5)) {
    first.push_back(std::move(record));
  }
  std::optional<v1::PushAck> ack = stream.Send(Batch(1, std::move(first)));
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->accepted(), 5u);
  EXPECT_EQ(ack->filtered(), 10u);
  PushResult pushed = Push(*stub, records(v1::LEVEL_DEBUG, "before-push-debug-", 3));
  ASSERT_TRUE(pushed.status.ok()) << pushed.status.error_message();
  EXPECT_EQ(pushed.summary.received(), 3u);
  EXPECT_EQ(pushed.summary.filtered(), 3u);
  EXPECT_EQ(pushed.summary.accepted(), 0u);

  {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::SetLevelRequest request;
    request.set_logger_prefix("demo");
    request.set_level(v1::LEVEL_DEBUG);
    v1::SetLevelResponse response;
    ASSERT_TRUE(admin->SetLevel(&context, request, &response).ok());
    EXPECT_TRUE(HasRule(response.levels(), "demo"));
  }

  // The same stream and new calls see the change; TRACE stays below the new threshold.
  std::vector<v1::LogRecord> second = records(v1::LEVEL_DEBUG, "after-debug-", 10);
  for (v1::LogRecord& record : records(v1::LEVEL_TRACE, "after-trace-", 2)) {
    second.push_back(std::move(record));
  }
  ack = stream.Send(Batch(2, std::move(second)));
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->accepted(), 10u);
  EXPECT_EQ(ack->filtered(), 2u);
  EXPECT_TRUE(stream.Close().ok());
  pushed = Push(*stub, records(v1::LEVEL_DEBUG, "after-push-debug-", 3));
  ASSERT_TRUE(pushed.status.ok()) << pushed.status.error_message();
  EXPECT_EQ(pushed.summary.filtered(), 0u);
  EXPECT_EQ(pushed.summary.accepted(), 3u);

  {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::SetLevelRequest request;
    request.set_logger_prefix("demo.ttl");
    request.set_level(v1::LEVEL_WARN);
    request.set_ttl_seconds(1);
    v1::SetLevelResponse response;
    ASSERT_TRUE(admin->SetLevel(&context, request, &response).ok());
    EXPECT_TRUE(HasRule(response.levels(), "demo.ttl"));
  }
  EXPECT_TRUE(Await([&] {
    absl::StatusOr<v1::GetLevelsResponse> levels = GetLevels(**server);
    return levels.ok() && !HasRule(*levels, "demo.ttl") && HasRule(*levels, "demo");
  })) << "the rule with a 1s ttl never expired";

  std::vector<std::string> expected;
  for (int i = 0; i < 5; ++i) expected.push_back(absl::StrCat("before-info-", i));
  for (int i = 0; i < 10; ++i) expected.push_back(absl::StrCat("after-debug-", i));
  for (int i = 0; i < 3; ++i) expected.push_back(absl::StrCat("after-push-debug-", i));
  ExpectExactlyOnce(TerminateAndReadMessages(**server), expected);
}

TEST(E2eTest, DrainEmptiesTheQueuesRefusesNewCallsAndResumeReopens) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kFileConfig);
  ASSERT_STARTED(server);
  std::unique_ptr<v1::LogService::Stub> stub = LogStub(**server);
  std::unique_ptr<v1::AdminService::Stub> admin = AdminStub(**server);
  constexpr uint64_t kRecords = 2000;
  const StreamResult sent = StreamBatches(*stub, InfoBatches("drain-", 20, 100));
  ASSERT_TRUE(sent.status.ok()) << sent.status.error_message();
  ASSERT_EQ(TotalAccepted(sent.acks), kRecords);

  {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::DrainRequest request;
    request.set_timeout_ms(30000);
    v1::DrainResponse response;
    const grpc::Status status = admin->Drain(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(response.completed());
    EXPECT_EQ(response.counts().received(), kRecords);
    EXPECT_EQ(response.counts().written(), kRecords);
    EXPECT_EQ(response.counts().in_flight(), 0u);
  }
  // Drained means written to the kernel: the file has every line already.
  EXPECT_EQ(CountLines((*server)->path("records.log")), kRecords);
  absl::StatusOr<v1::GetStatsResponse> stats = GetStats(**server);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_TRUE(stats->draining());

  const PushResult refused = Push(*stub, InfoRecords("refused-", 0, 10));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << refused.status.error_message();
  const StreamResult refused_batches = StreamBatches(*stub, InfoBatches("refused-batch-", 1, 10));
  EXPECT_EQ(refused_batches.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(refused_batches.acks.empty());

  {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::ResumeResponse response;
    ASSERT_TRUE(admin->Resume(&context, {}, &response).ok());
  }
  const PushResult resumed = Push(*stub, InfoRecords("resumed-", 0, 100));
  ASSERT_TRUE(resumed.status.ok()) << resumed.status.error_message();
  EXPECT_EQ(resumed.summary.accepted(), 100u);

  std::vector<std::string> expected;
  for (uint64_t i = 0; i < kRecords; ++i) expected.push_back(absl::StrCat("drain-", i));
  for (int i = 0; i < 100; ++i) expected.push_back(absl::StrCat("resumed-", i));
  ExpectExactlyOnce(TerminateAndReadMessages(**server), expected);
}

// SIGTERM, SIGINT or SIGQUIT under load: the server drains, and every record it acked is
// in the file.
void ExpectADrainSignalUnderLoadKeepsEveryAcknowledgedRecord(int signal_number) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kFileConfig);
  ASSERT_STARTED(server);
  constexpr int kBatchSize = 100;
  std::atomic<size_t> acked{0};
  StreamResult result;
  uint64_t sent_batches = 0;
  std::thread client([&] {
    std::unique_ptr<v1::LogService::Stub> stub = LogStub(**server);
    // Runs until the server ends the call; the stream's own deadline bounds it.
    result = StreamBatches(
        *stub,
        [&]() -> std::optional<v1::LogBatch> {
          const uint64_t sequence = ++sent_batches;
          return Batch(sequence, InfoRecords(absl::StrCat("load-", sequence, "-"), 0, kBatchSize));
        },
        &acked);
  });
  const bool loaded = Await([&] { return acked.load() >= 50; });
  EXPECT_TRUE(loaded) << "the stream never got 50 acks";
  EXPECT_TRUE((*server)->Signal(signal_number).ok());
  const absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  client.join();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << (*server)->Stderr();
  EXPECT_EQ(*exit_code, 0) << (*server)->Stderr();
  EXPECT_FALSE(result.status.ok()) << "the server ended the stream while it was sending";
  ASSERT_TRUE(loaded);

  const std::vector<std::string> messages = Messages(ReadLines((*server)->path("records.log")));
  const absl::flat_hash_set<std::string> written(messages.begin(), messages.end());
  EXPECT_EQ(written.size(), messages.size()) << "a record was written twice";
  size_t acked_records = 0;
  for (const v1::PushAck& ack : result.acks) {
    ASSERT_EQ(ack.accepted(), static_cast<uint32_t>(kBatchSize));
    for (int i = 0; i < kBatchSize; ++i) {
      ++acked_records;
      ASSERT_TRUE(written.contains(absl::StrCat("load-", ack.sequence(), "-", i)))
          << "acked batch " << ack.sequence() << " is missing record " << i;
    }
  }
  EXPECT_GE(messages.size(), acked_records);
}

TEST(E2eTest, SigtermUnderLoadKeepsEveryAcknowledgedRecord) {
  ExpectADrainSignalUnderLoadKeepsEveryAcknowledgedRecord(SIGTERM);
}

TEST(E2eTest, SigintUnderLoadKeepsEveryAcknowledgedRecord) {
  ExpectADrainSignalUnderLoadKeepsEveryAcknowledgedRecord(SIGINT);
}

TEST(E2eTest, SigquitUnderLoadKeepsEveryAcknowledgedRecord) {
  ExpectADrainSignalUnderLoadKeepsEveryAcknowledgedRecord(SIGQUIT);
}

TEST(E2eTest, TheBooksBalanceAfterAMixedRun) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kFileConfig);
  ASSERT_STARTED(server);
  std::unique_ptr<v1::LogService::Stub> stub = LogStub(**server);
  auto invalid_level = [](const std::string& message) {
    v1::LogRecord record = Info(message);
    record.set_level(static_cast<v1::Level>(42));
    return record;
  };
  auto short_trace_id = [](const std::string& message) {
    v1::LogRecord record = Info(message);
    record.set_trace_id("abc");
    return record;
  };

  // PushBatches: 30 + 20 written, 10 filtered, 5 + 5 rejected (the invalid level first).
  std::vector<v1::LogRecord> mixed = InfoRecords("ok-a-", 0, 30);
  for (int i = 0; i < 10; ++i) mixed.push_back(Record(v1::LEVEL_DEBUG, "demo", "debug"));
  for (int i = 0; i < 5; ++i) mixed.push_back(invalid_level("bad level"));
  for (int i = 0; i < 5; ++i) mixed.push_back(short_trace_id("bad trace id"));
  for (v1::LogRecord& record : InfoRecords("ok-b-", 0, 20)) mixed.push_back(std::move(record));
  const StreamResult batches = StreamBatches(*stub, {Batch(1, std::move(mixed))});
  ASSERT_TRUE(batches.status.ok()) << batches.status.error_message();
  ASSERT_EQ(batches.acks.size(), 1u);
  EXPECT_EQ(batches.acks[0].accepted(), 50u);
  EXPECT_EQ(batches.acks[0].filtered(), 10u);
  EXPECT_EQ(batches.acks[0].rejected(), 10u);
  EXPECT_EQ(batches.acks[0].dropped(), 0u);
  EXPECT_EQ(batches.acks[0].rejection(), "level: 42 is not a sluice.v1.Level value");

  // Push: 5 + 5 written, 2 filtered, 2 + 1 rejected (the short trace id first).
  std::vector<v1::LogRecord> records = InfoRecords("ok-c-", 0, 5);
  records.push_back(Record(v1::LEVEL_TRACE, "demo", "trace"));
  records.push_back(short_trace_id("bad trace id"));
  records.push_back(invalid_level("bad level"));
  records.push_back(short_trace_id("bad trace id"));
  records.push_back(Record(v1::LEVEL_DEBUG, "demo", "debug"));
  for (v1::LogRecord& record : InfoRecords("ok-d-", 0, 5)) records.push_back(std::move(record));
  const PushResult pushed = Push(*stub, records);
  ASSERT_TRUE(pushed.status.ok()) << pushed.status.error_message();
  EXPECT_EQ(pushed.summary.received(), 15u);
  EXPECT_EQ(pushed.summary.accepted(), 10u);
  EXPECT_EQ(pushed.summary.filtered(), 2u);
  EXPECT_EQ(pushed.summary.rejected(), 3u);
  EXPECT_EQ(pushed.summary.rejection(), "trace_id: 3 bytes, expected 16");

  // Once the workers are done, every record has its outcome. (in_flight is measured, not
  // derived, so the identity is checked once nothing moves; books_test.cc checks it with
  // records held in flight.)
  absl::StatusOr<v1::GetStatsResponse> stats;
  ASSERT_TRUE(Await([&] {
    stats = GetStats(**server);
    return stats.ok() && stats->counts().written() == 60 && stats->counts().in_flight() == 0;
  })) << (stats.ok() ? stats->DebugString() : stats.status().ToString());
  const v1::Counts& counts = stats->counts();
  EXPECT_EQ(counts.received(), 85u) << stats->DebugString();
  EXPECT_EQ(counts.filtered(), 12u);
  EXPECT_EQ(counts.rejected(), 13u);
  EXPECT_EQ(counts.dropped(), 0u);
  EXPECT_EQ(counts.in_flight(), 0u);
  EXPECT_EQ(counts.received(), counts.filtered() + counts.rejected() + counts.dropped() +
                                   counts.written() + counts.in_flight());

  absl::StatusOr<std::string> metrics = (*server)->ScrapeMetrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(
      MetricValue(*metrics, R"(sluice_ingest_records_rejected_total{reason="invalid_level"})"), 6);
  EXPECT_EQ(
      MetricValue(*metrics, R"(sluice_ingest_records_rejected_total{reason="invalid_trace_id"})"),
      7);
  EXPECT_EQ(MetricValue(*metrics, R"(sluice_ingest_records_filtered_total{level="DEBUG"})"), 11);
  EXPECT_EQ(MetricValue(*metrics, R"(sluice_ingest_records_filtered_total{level="TRACE"})"), 1);

  std::vector<std::string> expected;
  for (int i = 0; i < 30; ++i) expected.push_back(absl::StrCat("ok-a-", i));
  for (int i = 0; i < 20; ++i) expected.push_back(absl::StrCat("ok-b-", i));
  for (int i = 0; i < 5; ++i) expected.push_back(absl::StrCat("ok-c-", i));
  for (int i = 0; i < 5; ++i) expected.push_back(absl::StrCat("ok-d-", i));
  ExpectExactlyOnce(TerminateAndReadMessages(**server), expected);
}

TEST(E2eTest, MetricsShowEveryWorkerQueueAndTheRecordsReceived) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kFileConfig);
  ASSERT_STARTED(server);
  const StreamResult sent = StreamBatches(*LogStub(**server), InfoBatches("metrics-", 10, 100));
  ASSERT_TRUE(sent.status.ok()) << sent.status.error_message();
  ASSERT_EQ(TotalAccepted(sent.acks), 1000u);

  absl::StatusOr<std::string> metrics = (*server)->ScrapeMetrics();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  for (int worker = 0; worker < 4; ++worker) {
    const std::string label = absl::StrCat("{worker=\"", worker, "\"}");
    EXPECT_TRUE(MetricValue(*metrics, absl::StrCat("sluice_scheduler_queue_depth", label)))
        << "no queue depth for worker " << worker;
    EXPECT_EQ(MetricValue(*metrics, absl::StrCat("sluice_scheduler_queue_capacity", label)), 4096);
  }
  EXPECT_FALSE(MetricValue(*metrics, R"(sluice_scheduler_queue_depth{worker="4"})"));
  EXPECT_EQ(MetricValue(*metrics, R"(sluice_ingest_records_received_total{rpc="PushBatches"})"),
            1000);
  EXPECT_EQ(MetricValue(*metrics, R"(sluice_ingest_records_received_total{rpc="Push"})"), 0);
  EXPECT_TRUE(
      (*server)->AwaitMetric(R"(sluice_output_records_sent_total{output="file/main"})", 1000));
  EXPECT_EQ(TerminateAndReadMessages(**server).size(), 1000u);
}

// The output is made slow by writing to a FIFO nobody reads yet: the worker blocks once the
// pipe is full, its channel fills, and the stream must be parked (not read) instead of
// queueing without bound. Once the FIFO is read, everything flows and nothing was lost.
constexpr char kSlowOutputConfig[] = R"(
scheduler: { workers: 1, channel_capacity: 1000 }
outputs:
  - { type: file, name: slow, path: "$FIFO", buffer_bytes: 0, buffer: { max_records: 1 } }
)";

TEST(E2eTest, ASlowOutputPausesTheStreamAndLosesNothing) {
  TempDir fifo_dir;
  const std::string fifo = fifo_dir.file("records.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Opened before the server so that its open(O_WRONLY) finds a reader and returns.
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  const ScopedFd closer(reader);
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(absl::StrReplaceAll(kSlowOutputConfig, {{"$FIFO", fifo}}));
  ASSERT_STARTED(server);

  constexpr int kBatches = 200;
  constexpr int kBatchSize = 100;
  std::atomic<size_t> acked{0};
  StreamResult result;
  std::thread client([&] {
    const std::vector<v1::LogBatch> batches = InfoBatches("slow-", kBatches, kBatchSize);
    size_t next = 0;
    result = StreamBatches(
        *LogStub(**server),
        [&]() -> std::optional<v1::LogBatch> {
          if (next == batches.size()) return std::nullopt;
          return batches[next++];
        },
        &acked);
  });

  absl::StatusOr<v1::GetStatsResponse> stats;
  const bool paused = Await([&] {
    stats = GetStats(**server);
    return stats.ok() && stats->parked_streams() == 1;
  });
  EXPECT_TRUE(paused) << "the stream was never parked: "
                      << (stats.ok() ? stats->DebugString() : stats.status().ToString());
  // No ASSERT until the client thread is joined below.
  if (paused && stats->workers_size() == 1) {
    EXPECT_LE(stats->workers(0).queue_depth(), 1000u);
    EXPECT_GT(stats->workers(0).queue_depth() + kBatchSize, 1000u) << "the channel is full";
    EXPECT_LT(acked.load(), static_cast<size_t>(kBatches)) << "the client was slowed down";
    const absl::StatusOr<std::string> metrics = (*server)->ScrapeMetrics();
    EXPECT_TRUE(metrics.ok()) << metrics.status();
    EXPECT_GE(MetricValue(metrics.value_or(""),
                          R"(sluice_scheduler_backpressure_pauses_total{worker="0"})")
                  .value_or(0),
              1);
  } else if (paused) {
    ADD_FAILURE() << "expected one worker: " << stats->DebugString();
  }

  // Now read the FIFO until the server closes its end at exit.
  std::string contents;
  std::thread drain([&] {
    ::fcntl(reader, F_SETFL, 0);
    char buffer[65536];
    while (true) {
      const ssize_t n = ::read(reader, buffer, sizeof(buffer));
      if (n > 0) {
        contents.append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        return;
      }
    }
  });
  client.join();
  EXPECT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(TotalAccepted(result.acks), static_cast<uint64_t>(kBatches * kBatchSize));
  EXPECT_TRUE((*server)->Terminate().ok());
  const absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  EXPECT_TRUE(exit_code.ok() && *exit_code == 0) << (*server)->Stderr();
  if (!exit_code.ok()) server->reset();  // kills it, which ends the drain thread's read
  drain.join();

  std::vector<std::string> lines = absl::StrSplit(contents, '\n', absl::SkipEmpty());
  std::vector<std::string> expected;
  for (int i = 0; i < kBatches * kBatchSize; ++i) expected.push_back(absl::StrCat("slow-", i));
  ExpectExactlyOnce(Messages(lines), expected);
}

TEST(E2eTest, AnUnknownConfigKeyExitsWithCode2NamingTheKeyPath) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Spawn("scheduler:\n  worker: 4\n");
  ASSERT_TRUE(server.ok()) << server.status();
  const absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 2);
  EXPECT_THAT((*server)->Stderr(), HasSubstr("sluiced: config: "));
  EXPECT_THAT((*server)->Stderr(), HasSubstr("scheduler.worker: unknown key"));
  EXPECT_THAT((*server)->Stderr(), Not(HasSubstr("listening")));
}

TEST(E2eTest, AMalformedListenAddressExitsWithCode2NamingTheFlag) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Spawn(kFileConfig, {"--ingest_listen", "nowhere"});
  ASSERT_TRUE(server.ok()) << server.status();
  const absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 2);
  EXPECT_THAT((*server)->Stderr(), HasSubstr("--ingest_listen: \"nowhere\""));
}

TEST(E2eTest, AnAddressInUseExitsNonZeroNamingTheListenKey) {
  // A socket without SO_REUSEPORT, so gRPC (which sets it) cannot share the port.
  const int socket_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(socket_fd, 0);
  const ScopedFd closer(socket_fd);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(socket_fd, 1), 0);
  ASSERT_EQ(::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string taken = absl::StrCat("127.0.0.1:", ntohs(address.sin_port));

  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Spawn(kFileConfig, {"--ingest_listen", taken});
  ASSERT_TRUE(server.ok()) << server.status();
  const absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_NE(*exit_code, 0);
  EXPECT_THAT((*server)->Stderr(), HasSubstr(absl::StrCat("ingest.listen ", taken)));
  EXPECT_THAT((*server)->Stderr(), Not(HasSubstr("listening")));
}

TEST(E2eTest, TheCliWalkthroughWorksAgainstARealServer) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kFileConfig);
  ASSERT_STARTED(server);
  const std::string sluice =
      absl::StrCat(ShellQuote(SluicedProcess::CliPath()), " --target ", (*server)->ingest_target(),
                   " --admin ", (*server)->admin_target());
  auto run = [&](const std::string& command) {
    absl::StatusOr<CommandResult> result = RunShell(command);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : CommandResult{};
  };

  CommandResult result = run(sluice + R"( send --level info --logger demo --message "hello")");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "sent 1 record (accepted 1, filtered 0, dropped 0, rejected 0)\n");

  result = run("seq 1 1000 | " + sluice + " send --logger demo");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_EQ(result.stdout_text,
            "sent 1000 records (accepted 1000, filtered 0, dropped 0, rejected 0)\n");

  result = run(sluice + " level set demo warn");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_THAT(result.stdout_text, HasSubstr("demo  WARN  admin, set "));

  result = run(sluice + " level get");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_THAT(result.stdout_text, StartsWith("default  INFO  config, set "));
  EXPECT_THAT(result.stdout_text, HasSubstr("\ndemo  WARN  admin, set "));

  result = run(sluice + R"( send --logger demo --message "quiet")");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "sent 1 record (accepted 0, filtered 1, dropped 0, rejected 0)\n");

  result = run(sluice + " stats");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_THAT(result.stdout_text, HasSubstr("counts: received 1002, filtered 1, rejected 0, "
                                            "dropped 0, dropped by hooks 0, unrouted 0, written "));
  EXPECT_THAT(result.stdout_text, HasSubstr("draining: no\n"));
  for (int worker = 0; worker < 4; ++worker) {
    EXPECT_THAT(result.stdout_text, HasSubstr(absl::StrCat("worker ", worker, ": queue ")));
  }

  result = run(sluice + " drain");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_EQ(result.stdout_text,
            "drain completed\ncounts: received 1002, filtered 1, rejected 0, dropped 0, "
            "dropped by hooks 0, unrouted 0, written 1001, in flight 0\n");

  result = run(sluice + " resume");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "intake resumed\n");

  result = run(sluice + " shutdown");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_THAT(result.stdout_text, HasSubstr("drain completed\n"));
  EXPECT_THAT(result.stdout_text, HasSubstr("server shutting down\n"));
  const absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << (*server)->Stderr();
  EXPECT_THAT((*server)->Stderr(), HasSubstr("sluiced: stopped\n"));

  std::vector<std::string> expected = {"hello"};
  for (int i = 1; i <= 1000; ++i) expected.push_back(absl::StrCat(i));
  ExpectExactlyOnce(Messages(ReadLines((*server)->path("records.log"))), expected);
}

TEST(E2eTest, ACliTtlRuleRevertsToTheConfiguredRuleItCovered) {
  absl::StatusOr<std::unique_ptr<SluicedProcess>> server =
      SluicedProcess::Start(absl::StrCat(kFileConfig, "levels:\n  rules: { checkout: warn }\n"));
  ASSERT_STARTED(server);
  const std::string sluice =
      absl::StrCat(ShellQuote(SluicedProcess::CliPath()), " --target ", (*server)->ingest_target(),
                   " --admin ", (*server)->admin_target());
  auto run = [&](const std::string& command) {
    absl::StatusOr<CommandResult> result = RunShell(command);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : CommandResult{};
  };

  CommandResult result = run(sluice + " level set checkout debug --ttl 1s");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_THAT(result.stdout_text, HasSubstr("checkout  DEBUG  admin, set "));
  EXPECT_THAT(result.stdout_text, HasSubstr("(expires in 1s, at "));

  EXPECT_TRUE(Await([&] {
    absl::StatusOr<v1::GetLevelsResponse> levels = GetLevels(**server);
    return levels.ok() && levels->rules_size() == 1 && levels->rules(0).level() == v1::LEVEL_WARN;
  })) << "the 1s rule never gave way to the configured one";
  result = run(sluice + " level get");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_THAT(result.stdout_text, HasSubstr("\ncheckout  WARN  config, set "));
  EXPECT_THAT(result.stdout_text, Not(HasSubstr("expires")));

  result = run(sluice + R"( send --level info --logger checkout.db --message "below warn")");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "sent 1 record (accepted 0, filtered 1, dropped 0, rejected 0)\n");
}

}  // namespace
}  // namespace sluice::e2e
