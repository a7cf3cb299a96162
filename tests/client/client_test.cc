#include "sluice/client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sluice/v1/logs.grpc.pb.h"
#include "tests/test_util/eventually.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(20);

// An in-process LogService that records every batch it receives (and on which of its
// streams) and acks it, counting DEBUG records as filtered. It can hold its acks back,
// fail its first stream after the first batch without acking it, or answer that batch as
// sluiced does under overload: acked as dropped, then RESOURCE_EXHAUSTED with pushback.
class FakeLogService final : public v1::LogService::Service {
 public:
  grpc::Status PushBatches(grpc::ServerContext* context,
                           grpc::ServerReaderWriter<v1::PushAck, v1::LogBatch>* stream) override {
    int stream_index;
    {
      std::unique_lock lock(mu_);
      stream_index = streams_++;
      batches_by_stream_.push_back(0);
      stream_starts_.push_back(absl::Now());
    }
    v1::LogBatch batch;
    while (stream->Read(&batch)) {
      v1::PushAck ack;
      ack.set_sequence(batch.sequence());
      {
        std::unique_lock lock(mu_);
        for (const v1::LogRecord& record : batch.records()) {
          received_.push_back(record);
          if (record.level() == v1::LEVEL_DEBUG) {
            ack.set_filtered(ack.filtered() + 1);
          } else {
            ack.set_accepted(ack.accepted() + 1);
          }
        }
        sequences_.push_back(batch.sequence());
        ++batches_by_stream_[stream_index];
        changed_.notify_all();
        if (fail_first_stream_ && stream_index == 0) {
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected failure");
        }
        if (overload_first_stream_ && stream_index == 0) {
          v1::PushAck dropped;
          dropped.set_sequence(batch.sequence());
          dropped.set_dropped(static_cast<uint32_t>(batch.records_size()));
          dropped.set_drop_reason(v1::DROP_REASON_OVERFLOW_DROP_NEWEST);
          stream->Write(dropped);
          context->AddTrailingMetadata("grpc-retry-pushback-ms", "300");
          return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "injected overload");
        }
        // A cancelled call is not notified: the wait looks again every second.
        while (!changed_.wait_for(lock, std::chrono::seconds(1), [this, context] {
          return !hold_acks_ || context->IsCancelled();
        })) {
        }
        acked_records_ += batch.records_size();
      }
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }

  void HoldAcks(bool hold) {
    std::unique_lock lock(mu_);
    hold_acks_ = hold;
    changed_.notify_all();
  }

  void FailFirstStream() {
    std::unique_lock lock(mu_);
    fail_first_stream_ = true;
  }

  void OverloadFirstStream() {
    std::unique_lock lock(mu_);
    overload_first_stream_ = true;
  }

  std::vector<absl::Time> stream_starts() {
    std::unique_lock lock(mu_);
    return stream_starts_;
  }

  // Waits until at least `count` records arrived; false after kWait.
  bool AwaitReceived(size_t count) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, absl::ToChronoNanoseconds(kWait),
                             [this, count] { return received_.size() >= count; });
  }

  std::vector<v1::LogRecord> received() {
    std::unique_lock lock(mu_);
    return received_;
  }

  std::vector<uint64_t> sequences() {
    std::unique_lock lock(mu_);
    return sequences_;
  }

  size_t acked_records() {
    std::unique_lock lock(mu_);
    return acked_records_;
  }

  int streams() {
    std::unique_lock lock(mu_);
    return streams_;
  }

  // How many batches each stream carried, in the order the streams began.
  std::vector<int> batches_by_stream() {
    std::unique_lock lock(mu_);
    return batches_by_stream_;
  }

 private:
  // std::mutex, not absl::Mutex, so that ThreadSanitizer sees the locking.
  std::mutex mu_;
  // Records arrived, or hold_acks_ changed.
  std::condition_variable changed_;
  std::vector<v1::LogRecord> received_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> sequences_ ABSL_GUARDED_BY(mu_);
  size_t acked_records_ ABSL_GUARDED_BY(mu_) = 0;
  int streams_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int> batches_by_stream_ ABSL_GUARDED_BY(mu_);
  bool hold_acks_ ABSL_GUARDED_BY(mu_) = false;
  bool fail_first_stream_ ABSL_GUARDED_BY(mu_) = false;
  bool overload_first_stream_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<absl::Time> stream_starts_ ABSL_GUARDED_BY(mu_);
};

// A FakeLogService served on 127.0.0.1 on a port of its own.
class FakeServer {
 public:
  FakeServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~FakeServer() {
    service_.HoldAcks(false);
    if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  }

  bool ok() const { return server_ != nullptr && port_ != 0; }
  int port() const { return port_; }
  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }
  FakeLogService& service() { return service_; }

 private:
  FakeLogService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.ok()); }

  ClientOptions Options() const {
    ClientOptions options;
    options.target = server_.target();
    return options;
  }

  FakeServer server_;
  FakeLogService& service_ = server_.service();
};

// A port nothing listens on and nobody else can take while the socket is open: it is
// bound but never listening, so connections to it are refused.
class RefusingPort {
 public:
  RefusingPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t length = sizeof(addr);
    if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~RefusingPort() {
    if (fd_ >= 0) close(fd_);
  }

  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }
  bool ok() const { return port_ != 0; }

 private:
  int fd_;
  int port_ = 0;
};

TEST_F(ClientTest, RecordsArriveInOrderWithTheirTypedFields) {
  ClientOptions options = Options();
  options.max_batch_records = 100;
  options.base_logger = "shop";
  Client client(options);
  constexpr int kRecords = 2500;
  for (int i = 0; i < kRecords; ++i) {
    client.Log(v1::LEVEL_WARN, "checkout", absl::StrCat("order ", i),
               {{"i", i}, {"user", "ann"}, {"ratio", 0.5}, {"express", i % 2 == 0}});
  }
  ASSERT_TRUE(client.Flush(absl::Now() + kWait).ok());

  const std::vector<v1::LogRecord> received = service_.received();
  ASSERT_EQ(received.size(), kRecords);
  for (int i = 0; i < kRecords; ++i) {
    const v1::LogRecord& record = received[i];
    EXPECT_EQ(record.message(), absl::StrCat("order ", i));
    EXPECT_EQ(record.logger(), "shop.checkout");
    EXPECT_EQ(record.level(), v1::LEVEL_WARN);
    EXPECT_NE(record.time_unix_nano(), 0u);
    ASSERT_EQ(record.fields_size(), 4);
    EXPECT_EQ(record.fields(0).key(), "i");
    EXPECT_EQ(record.fields(0).int_value(), i);
    EXPECT_EQ(record.fields(1).string_value(), "ann");
    EXPECT_EQ(record.fields(2).double_value(), 0.5);
    EXPECT_TRUE(record.fields(3).has_bool_value());
    EXPECT_EQ(record.fields(3).bool_value(), i % 2 == 0);
  }
  const std::vector<uint64_t> sequences = service_.sequences();
  for (size_t i = 1; i < sequences.size(); ++i) EXPECT_GT(sequences[i], sequences[i - 1]);
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.logged, kRecords);
  EXPECT_EQ(stats.acked_records, kRecords);
  EXPECT_EQ(stats.server_accepted, kRecords);
  EXPECT_EQ(stats.sent_batches, sequences.size());
  EXPECT_EQ(stats.dropped_buffer_full, 0u);
}

TEST_F(ClientTest, ReadyRecordsKeepTheirTimeAndCountServerVerdicts) {
  Client client(Options());
  v1::LogRecord record;
  record.set_time_unix_nano(42);
  record.set_level(v1::LEVEL_DEBUG);
  record.set_message("prepared");
  client.Log(std::move(record));
  client.Log(v1::LEVEL_INFO, "", "plain");
  ASSERT_TRUE(client.Flush(absl::Now() + kWait).ok());

  const std::vector<v1::LogRecord> received = service_.received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].time_unix_nano(), 42u);
  EXPECT_EQ(received[0].message(), "prepared");
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.server_filtered, 1u);
  EXPECT_EQ(stats.server_accepted, 1u);
}

TEST_F(ClientTest, FlushSucceedsOnlyOnceTheServerAcked) {
  service_.HoldAcks(true);
  Client client(Options());
  client.Log(v1::LEVEL_INFO, "demo", "one");
  ASSERT_TRUE(service_.AwaitReceived(1));

  const absl::Status early = client.Flush(absl::Now() + absl::Milliseconds(100));
  EXPECT_EQ(early.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(early.message(), HasSubstr("1 of 1 records"));
  EXPECT_EQ(client.stats().acked_records, 0u);

  service_.HoldAcks(false);
  EXPECT_TRUE(client.Flush(absl::Now() + kWait).ok());
  EXPECT_EQ(client.stats().acked_records, 1u);
}

TEST_F(ClientTest, StopsSendingWhileTheAckWindowIsFull) {
  service_.HoldAcks(true);
  ClientOptions options = Options();
  options.max_batch_records = 1;
  options.max_unacked_batches = 2;
  Client client(options);
  for (int i = 0; i < 10; ++i) client.Log(v1::LEVEL_INFO, "demo", absl::StrCat(i));
  ASSERT_TRUE(service_.AwaitReceived(1));
  // The failing flush gives the sender every chance to overrun the window.
  EXPECT_FALSE(client.Flush(absl::Now() + absl::Milliseconds(200)).ok());
  EXPECT_LE(client.stats().sent_batches, 2u);

  service_.HoldAcks(false);
  ASSERT_TRUE(client.Flush(absl::Now() + kWait).ok());
  EXPECT_EQ(service_.received().size(), 10u);
  EXPECT_EQ(client.stats().sent_batches, 10u);
}

TEST_F(ClientTest, SendsALoneRecordAfterTheBatchDelay) {
  ClientOptions options = Options();
  options.max_batch_delay = absl::Milliseconds(20);
  Client client(options);
  client.Log(v1::LEVEL_INFO, "demo", "alone");
  // No flush and a batch far from full: only the delay can send it.
  ASSERT_TRUE(service_.AwaitReceived(1));
  EXPECT_EQ(service_.received()[0].message(), "alone");
}

TEST_F(ClientTest, ResendsUnackedBatchesAfterTheStreamFails) {
  service_.FailFirstStream();
  ClientOptions options = Options();
  options.max_batch_records = 10;
  Client client(options);
  constexpr int kRecords = 50;
  for (int i = 0; i < kRecords; ++i) client.Log(v1::LEVEL_INFO, "demo", absl::StrCat(i));
  ASSERT_TRUE(client.Flush(absl::Now() + kWait).ok());

  std::set<std::string> messages;
  for (const v1::LogRecord& record : service_.received()) messages.insert(record.message());
  for (int i = 0; i < kRecords; ++i) EXPECT_TRUE(messages.count(absl::StrCat(i))) << i;
  EXPECT_GE(service_.streams(), 2);
  const ClientStats stats = client.stats();
  EXPECT_GE(stats.resent_batches, 1u);
  EXPECT_GE(stats.stream_failures, 1u);
  EXPECT_EQ(stats.last_stream_error.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(stats.acked_records, kRecords);
}

TEST_F(ClientTest, ABatchDroppedUnderOverloadIsSentAgainAfterThePushback) {
  service_.OverloadFirstStream();
  ClientOptions options = Options();
  options.max_batch_records = 10;
  options.max_batch_delay = absl::Hours(1);
  Client client(options);
  for (int i = 0; i < 10; ++i) client.Log(v1::LEVEL_INFO, "demo", absl::StrCat(i));
  ASSERT_TRUE(client.Flush(absl::Now() + kWait).ok());

  // The batch went out twice: dropped by the overloaded stream, taken by the next one.
  EXPECT_EQ(service_.received().size(), 20u);
  EXPECT_EQ(service_.acked_records(), 10u);
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.overloaded_batches, 1u);
  EXPECT_EQ(stats.resent_batches, 1u);
  EXPECT_EQ(stats.server_dropped, 0u) << "not lost: sent again";
  EXPECT_EQ(stats.acked_records, 10u);
  EXPECT_EQ(stats.last_stream_error.code(), absl::StatusCode::kResourceExhausted);
  // The first backoff is 80..120 ms; the server asked for 300.
  const std::vector<absl::Time> starts = service_.stream_starts();
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_GE(starts[1] - starts[0], absl::Milliseconds(300));
}

TEST_F(ClientTest, RotatesToANewStreamAfterBatchesPerStream) {
  ClientOptions options = Options();
  options.max_batch_records = 10;
  // Batches are sealed only when full, so there are exactly kRecords / 10 of them.
  options.max_batch_delay = absl::Hours(1);
  options.batches_per_stream = 3;
  Client client(options);
  constexpr int kRecords = 300;
  for (int i = 0; i < kRecords; ++i) client.Log(v1::LEVEL_INFO, "demo", absl::StrCat(i));
  ASSERT_TRUE(client.Flush(absl::Now() + kWait).ok());

  const std::vector<v1::LogRecord> received = service_.received();
  ASSERT_EQ(received.size(), kRecords);
  for (int i = 0; i < kRecords; ++i) EXPECT_EQ(received[i].message(), absl::StrCat(i));
  EXPECT_THAT(service_.batches_by_stream(), ::testing::Each(3));
  EXPECT_EQ(service_.streams(), 10);
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.streams_opened, 10u);
  EXPECT_EQ(stats.sent_batches, 30u);
  EXPECT_EQ(stats.resent_batches, 0u);
  EXPECT_EQ(stats.stream_failures, 0u);
  EXPECT_EQ(stats.acked_records, kRecords);
}

TEST_F(ClientTest, WritesNothingMoreOnAFullStreamUntilItsBatchesAreAcked) {
  service_.HoldAcks(true);
  ClientOptions options = Options();
  options.max_batch_records = 1;
  options.batches_per_stream = 3;
  Client client(options);
  for (int i = 0; i < 10; ++i) client.Log(v1::LEVEL_INFO, "demo", absl::StrCat(i));
  ASSERT_TRUE(service_.AwaitReceived(1));
  // The ack window (8) has room: only the stream's limit holds the sender back. The
  // failing flush gives it every chance to write more or to open another stream.
  EXPECT_FALSE(client.Flush(absl::Now() + absl::Milliseconds(200)).ok());
  EXPECT_EQ(client.stats().sent_batches, 3u);
  EXPECT_EQ(service_.streams(), 1);

  service_.HoldAcks(false);
  ASSERT_TRUE(client.Flush(absl::Now() + kWait).ok());
  EXPECT_EQ(service_.received().size(), 10u);
  EXPECT_THAT(service_.batches_by_stream(), ::testing::ElementsAre(3, 3, 3, 1));
  EXPECT_EQ(client.stats().streams_opened, 4u);
}

TEST_F(ClientTest, ResendsUnackedBatchesOnTheNextStreamWhenARotatingStreamFails) {
  service_.FailFirstStream();
  ClientOptions options = Options();
  options.max_batch_records = 10;
  options.max_batch_delay = absl::Hours(1);
  options.batches_per_stream = 2;
  Client client(options);
  constexpr int kRecords = 100;
  for (int i = 0; i < kRecords; ++i) client.Log(v1::LEVEL_INFO, "demo", absl::StrCat(i));
  ASSERT_TRUE(client.Flush(absl::Now() + kWait).ok());

  std::set<std::string> messages;
  for (const v1::LogRecord& record : service_.received()) messages.insert(record.message());
  for (int i = 0; i < kRecords; ++i) EXPECT_TRUE(messages.count(absl::StrCat(i))) << i;
  // Each stream after the failed one carries at most two batches, resent ones included.
  const std::vector<int> batches = service_.batches_by_stream();
  EXPECT_THAT(std::vector<int>(batches.begin() + 1, batches.end()),
              ::testing::Each(::testing::AllOf(::testing::Ge(1), ::testing::Le(2))));
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.stream_failures, 1u);
  EXPECT_GE(stats.resent_batches, 1u);
  EXPECT_EQ(stats.sent_batches, 10u);
  EXPECT_EQ(stats.streams_opened, static_cast<uint64_t>(service_.streams()));
  EXPECT_EQ(stats.acked_records, kRecords);
}

TEST(ClientLoadBalancingTest, RoundRobinSpreadsRotatedStreamsOverEveryAddress) {
  FakeServer servers[3];
  for (const FakeServer& server : servers) ASSERT_TRUE(server.ok());
  ClientOptions options;
  options.target = absl::StrCat("ipv4:127.0.0.1:", servers[0].port(),
                                ",127.0.0.1:", servers[1].port(), ",127.0.0.1:", servers[2].port());
  options.load_balancing_policy = "round_robin";
  options.max_batch_records = 10;
  options.batches_per_stream = 1;
  Client client(options);
  // round_robin only picks addresses it is connected to, so the first streams may all go
  // to the first one that answers: log until every server has had some.
  auto every_server_received = [&] {
    for (FakeServer& server : servers) {
      if (server.service().received().empty()) return false;
    }
    return true;
  };
  constexpr int kMaxRecords = 10000;
  int logged = 0;
  while (logged < kMaxRecords && !every_server_received()) {
    for (int i = 0; i < 10; ++i, ++logged) client.Log(v1::LEVEL_INFO, "demo", absl::StrCat(logged));
    ASSERT_TRUE(client.Flush(absl::Now() + kWait).ok());
  }
  EXPECT_TRUE(every_server_received()) << "after " << logged << " records";

  std::vector<std::string> messages;
  for (FakeServer& server : servers) {
    for (const v1::LogRecord& record : server.service().received()) {
      messages.push_back(record.message());
    }
  }
  std::sort(messages.begin(), messages.end());
  std::vector<std::string> expected;
  for (int i = 0; i < logged; ++i) expected.push_back(absl::StrCat(i));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(messages, expected);
  EXPECT_EQ(client.stats().streams_opened, static_cast<uint64_t>(logged / 10));
}

TEST(ClientLoadBalancingTest, WithoutRotationRoundRobinKeepsOneStreamOnOneAddress) {
  FakeServer servers[2];
  for (const FakeServer& server : servers) ASSERT_TRUE(server.ok());
  ClientOptions options;
  options.target =
      absl::StrCat("ipv4:127.0.0.1:", servers[0].port(), ",127.0.0.1:", servers[1].port());
  options.load_balancing_policy = "round_robin";
  options.max_batch_records = 10;
  Client client(options);
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 10; ++i) client.Log(v1::LEVEL_INFO, "demo", absl::StrCat(round, "-", i));
    ASSERT_TRUE(client.Flush(absl::Now() + kWait).ok());
  }
  EXPECT_EQ(client.stats().streams_opened, 1u);
  EXPECT_EQ(servers[0].service().received().size() + servers[1].service().received().size(), 100u);
  EXPECT_EQ(servers[0].service().streams() + servers[1].service().streams(), 1);
}

TEST(ClientLoadBalancingTest, AnUnknownPolicyFailsEveryStreamRatherThanFallingBack) {
  FakeServer server;
  ASSERT_TRUE(server.ok());
  ClientOptions options;
  options.target = server.target();
  options.load_balancing_policy = "no_such_policy";
  options.close_timeout = absl::ZeroDuration();
  Client client(options);
  client.Log(v1::LEVEL_INFO, "demo", "nowhere to go");
  absl::Status status;
  const absl::Time give_up = absl::Now() + kWait;
  do {
    status = client.Flush(absl::Now() + absl::Milliseconds(50));
  } while (client.stats().stream_failures == 0 && absl::Now() < give_up);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(client.stats().last_stream_error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(server.service().received().empty());
}

TEST_F(ClientTest, DestructorFlushesOutstandingRecords) {
  {
    Client client(Options());
    for (int i = 0; i < 100; ++i) client.Log(v1::LEVEL_INFO, "demo", absl::StrCat(i));
  }
  EXPECT_EQ(service_.acked_records(), 100u);
  EXPECT_EQ(service_.received().size(), 100u);
}

TEST(ClientStoppedServerTest, LogNeverBlocksWhileTheServerIsStoppedAndTheBufferIsFull) {
  auto server = std::make_unique<FakeServer>();
  ASSERT_TRUE(server->ok());
  ClientOptions options;
  options.target = server->target();
  options.max_buffered_records = 10;
  options.close_timeout = absl::ZeroDuration();
  Client client(options);
  client.Log(v1::LEVEL_INFO, "demo", "acknowledged before the stop");
  ASSERT_TRUE(test_util::Eventually([&] { return client.stats().acked_records == 1; }));
  server.reset();  // stopped: its port refuses connections from now on

  // Far more than the buffer holds, on a thread of their own: a Log() that blocks fails the
  // test within a bound instead of hanging it.
  constexpr uint64_t kCalls = 10000;
  absl::Notification returned;
  std::thread logging([&] {
    for (uint64_t i = 0; i < kCalls; ++i) client.Log(v1::LEVEL_INFO, "demo", "while stopped");
    returned.Notify();
  });
  if (!returned.WaitForNotificationWithTimeout(kWait)) {
    // The thread is stuck inside Log() on `client`: neither can be cleaned up safely.
    ADD_FAILURE() << "Log() blocked while the server was stopped and the buffer full";
    std::abort();
  }
  logging.join();
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.logged, 1 + options.max_buffered_records);
  EXPECT_EQ(stats.dropped_buffer_full, kCalls - options.max_buffered_records);
  EXPECT_EQ(stats.acked_records, 1u);
}

TEST(ClientUnreachableTest, FlushReportsDeadlineExceededWithTheLastError) {
  RefusingPort port;
  ASSERT_TRUE(port.ok());
  ClientOptions options;
  options.target = port.target();
  options.close_timeout = absl::ZeroDuration();
  Client client(options);
  client.Log(v1::LEVEL_INFO, "demo", "nowhere to go");
  // Until a stream has failed, the message has no error to name; wait for one.
  absl::Status status;
  const absl::Time give_up = absl::Now() + kWait;
  do {
    status = client.Flush(absl::Now() + absl::Milliseconds(50));
  } while (client.stats().stream_failures == 0 && absl::Now() < give_up);
  status = client.Flush(absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(status.message(), HasSubstr("1 of 1 records not acknowledged"));
  EXPECT_THAT(status.message(), HasSubstr("UNAVAILABLE"));
  EXPECT_EQ(client.stats().acked_records, 0u);
}

TEST(ClientUnreachableTest, FlushWithNothingLoggedSucceedsAtOnce) {
  ClientOptions options;
  options.target = "127.0.0.1:1";
  Client client(options);
  EXPECT_TRUE(client.Flush(absl::Now()).ok());
}

}  // namespace
}  // namespace sluice
