#include "server/outputs/syslog/syslog_output.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "server/outputs/syslog/syslog_encoder.h"
#include "tests/outputs/output_test_util.h"

namespace sluice::outputs {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(30);

// "LEN SP MSG".
std::string Frame(absl::string_view message) { return absl::StrCat(message.size(), " ", message); }

// A batch whose lines in any encoding are the frames it was given.
class FramesBatch : public OutputBatch {
 public:
  explicit FramesBatch(const std::vector<std::string>& messages) {
    for (const std::string& message : messages) {
      frames_ += Frame(message);
      batch_.records().Add()->set_message(message);
    }
  }
  const RecordBatch& records() const override { return batch_; }
  bool takes(int /*index*/) const override { return true; }
  size_t count() const override { return static_cast<size_t>(batch_.records().size()); }
  FieldLayers layers(int /*index*/) const override { return FieldLayers::AllAdHoc(0); }
  absl::string_view Lines(EncodingId /*encoding*/) override { return frames_; }

 private:
  RecordBatch batch_;
  std::string frames_;
};

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

// A socket of `type` bound to 127.0.0.1 with port 0; `*port` gets the port.
int BindLoopback(int type, int* port) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in address = Loopback(0);
  socklen_t length = sizeof(address);
  EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  *port = ntohs(address.sin_port);
  return fd;
}

bool AwaitReadable(int fd, absl::Duration timeout) {
  pollfd entry{.fd = fd, .events = POLLIN, .revents = 0};
  return ::poll(&entry, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) == 1;
}

// A TCP syslog receiver on 127.0.0.1: accepts connections and reads what they bring.
class TcpReceiver {
 public:
  TcpReceiver() {
    listener_ = BindLoopback(SOCK_STREAM, &port_);
    EXPECT_EQ(::listen(listener_, 8), 0);
  }
  ~TcpReceiver() {
    if (connection_ >= 0) ::close(connection_);
    ::close(listener_);
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  // Takes the next connection, closing the one before.
  bool Accept() {
    if (connection_ >= 0) ::close(connection_);
    connection_ = -1;
    if (!AwaitReadable(listener_, kTimeout)) return false;
    connection_ = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    return connection_ >= 0;
  }

  // Reads from the current connection until `bytes` came in all (then what came), or the
  // connection ends or a timeout passes (then what came so far).
  std::string Read(size_t bytes) {
    std::string data;
    char chunk[65536];
    while (data.size() < bytes && AwaitReadable(connection_, kTimeout)) {
      const ssize_t n = ::recv(connection_, chunk, sizeof(chunk), 0);
      if (n <= 0) break;
      data.append(chunk, static_cast<size_t>(n));
    }
    return data;
  }

  // Waits until data is there to read on the current connection, without reading it.
  bool AwaitData() { return AwaitReadable(connection_, kTimeout); }

  // Closes the current connection; with unread data there, the kernel resets it.
  void CloseConnection() {
    ::close(connection_);
    connection_ = -1;
  }

 private:
  int listener_ = -1;
  int port_ = 0;
  int connection_ = -1;
};

std::unique_ptr<CreatedOutput> Create(const std::string& yaml) {
  return CreateWithRegistries(SyslogOutputFactory(), yaml);
}

absl::Status CreateError(const std::string& yaml) {
  config::OutputConfig config = OutputConfigFromYaml(yaml);
  EncodingRegistry encodings;
  OutputContext context{.config_path = config.key_path, .encodings = encodings};
  return SyslogOutputFactory().Create(config.id(), config.options, context).status();
}

std::string Exposition(prometheus::Registry& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.Collect());
}

TEST(SyslogOutputTest, RejectsBadConfig) {
  EXPECT_EQ(CreateError("{type: syslog}").code(), absl::StatusCode::kInvalidArgument);
  for (const char* address :
       {"localhost", "localhost:0", "localhost:70000", ":514", "[::1:514", "::1:514"}) {
    const absl::Status status =
        CreateError(absl::StrCat("{type: syslog, address: '", address, "'}"));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << address;
    EXPECT_TRUE(absl::StrContains(status.message(), "outputs[0].address")) << status;
  }
  EXPECT_TRUE(absl::StrContains(
      CreateError("{type: syslog, address: 'h:514', app_name: 'two words'}").message(),
      "outputs[0].app_name"));
  EXPECT_TRUE(
      absl::StrContains(CreateError("{type: syslog, address: 'h:514', hostname: 'a b'}").message(),
                        "outputs[0].hostname"));
  EXPECT_TRUE(
      absl::StrContains(CreateError("{type: syslog, address: 'h:514', facility: local9}").message(),
                        "outputs[0].facility"));
  EXPECT_TRUE(absl::StrContains(
      CreateError("{type: syslog, address: 'h:514', max_message_bytes: 100}").message(),
      "outputs[0].max_message_bytes"));
  EXPECT_TRUE(absl::StrContains(
      CreateError("{type: syslog, address: 'h:514', colour: red}").message(), "outputs[0].colour"));
  EXPECT_TRUE(CreateError("{type: syslog, address: '[::1]:514', transport: udp}").ok());
}

TEST(SyslogOutputTest, AddsAnEncodingNamedAfterTheOutput) {
  std::unique_ptr<CreatedOutput> created =
      Create("{type: syslog, name: siem, address: '127.0.0.1:514', hostname: web-1}");
  ASSERT_NE(created->output, nullptr);
  ASSERT_TRUE(created->output->encoding().has_value());
  EXPECT_EQ(created->encodings.name(*created->output->encoding()), "syslog/siem");
  std::unique_ptr<Encoder> encoder = created->encodings.NewEncoder(*created->output->encoding());
  const RecordKeys keys{};
  std::string out;
  encoder->Append(ComposedRecord{.level = Level::kWarn, .message = "m", .keys = &keys}, &out);
  EXPECT_EQ(out, Frame("<132>1 1970-01-01T00:00:00.000000Z web-1 sluiced - - - m"));
}

TEST(SyslogOutputTest, TcpSendsFramesOnOneConnection) {
  TcpReceiver receiver;
  std::unique_ptr<CreatedOutput> created =
      Create(absl::StrCat("{type: syslog, address: '", receiver.address(), "'}"));
  ASSERT_TRUE(created->output->Start().ok());
  FramesBatch first({"<134>1 - - - - - one", "<134>1 - - - - - two"});
  FramesBatch second({"<134>1 - - - - - three"});
  ASSERT_TRUE(created->output->Write(first).ok());
  ASSERT_TRUE(created->output->Write(second).ok());
  ASSERT_TRUE(created->output->Flush(absl::Now() + kTimeout).ok());
  ASSERT_TRUE(receiver.Accept());
  const std::string expected =
      absl::StrCat(first.Lines(kTextEncoding), second.Lines(kTextEncoding));
  EXPECT_EQ(receiver.Read(expected.size()), expected);
  EXPECT_TRUE(created->output->Shutdown(absl::Now() + kTimeout).ok());
}

TEST(SyslogOutputTest, ReconnectsAfterTheReceiverClosedWithoutResendingWhatItRead) {
  TcpReceiver receiver;
  std::unique_ptr<CreatedOutput> created =
      Create(absl::StrCat("{type: syslog, address: '", receiver.address(), "'}"));
  ASSERT_TRUE(created->output->Start().ok());
  FramesBatch first({"<134>1 - - - - - one"});
  ASSERT_TRUE(created->output->Write(first).ok());
  ASSERT_TRUE(receiver.Accept());
  const std::string first_frames(first.Lines(kTextEncoding));
  ASSERT_EQ(receiver.Read(first_frames.size()), first_frames);
  receiver.CloseConnection();

  FramesBatch second({"<134>1 - - - - - two"});
  // The close may reach the output only after this write went out on the old connection;
  // then the write that notices it replays it. Either way "two" arrives on the new one.
  absl::Status status = created->output->Write(second);
  ASSERT_TRUE(receiver.Accept()) << status;
  const std::string second_frames(second.Lines(kTextEncoding));
  EXPECT_EQ(receiver.Read(second_frames.size()), second_frames);
}

TEST(SyslogOutputTest, ResendsTheLastBatchesAfterAReset) {
  TcpReceiver receiver;
  std::unique_ptr<CreatedOutput> created =
      Create(absl::StrCat("{type: syslog, address: '", receiver.address(), "'}"));
  ASSERT_TRUE(created->output->Start().ok());
  FramesBatch lost({"<134>1 - - - - - unread"});
  ASSERT_TRUE(created->output->Write(lost).ok());
  ASSERT_TRUE(receiver.Accept());
  // Let the frame arrive, then close without reading it: the kernel resets the connection
  // and the frame is gone although the output's send succeeded.
  ASSERT_TRUE(receiver.AwaitData());
  receiver.CloseConnection();

  FramesBatch next({"<134>1 - - - - - next"});
  ASSERT_TRUE(created->output->Write(next).ok());
  ASSERT_TRUE(receiver.Accept());
  const std::string expected = absl::StrCat(lost.Lines(kTextEncoding), next.Lines(kTextEncoding));
  EXPECT_EQ(receiver.Read(expected.size()), expected);
}

TEST(SyslogOutputTest, ADownReceiverIsUnavailableNotAStartError) {
  int port = 0;
  const int reserved = BindLoopback(SOCK_STREAM, &port);
  ::close(reserved);
  std::unique_ptr<CreatedOutput> created = Create(absl::StrCat(
      "{type: syslog, name: down, address: '127.0.0.1:", port, "', write_timeout: 1s}"));
  ASSERT_TRUE(created->output->Start().ok());
  FramesBatch batch({"<134>1 - - - - - m"});
  const absl::Status status = created->output->Write(batch);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "connect")) << status;
  EXPECT_TRUE(absl::StrContains(Exposition(created->metrics),
                                "sluice_output_syslog_send_errors_total{output=\"syslog/down\"} 1"))
      << Exposition(created->metrics);
}

TEST(SyslogOutputTest, AReceiverThatDoesNotReadTimesOut) {
  TcpReceiver receiver;
  std::unique_ptr<CreatedOutput> created = Create(
      absl::StrCat("{type: syslog, address: '", receiver.address(), "', write_timeout: 200ms}"));
  ASSERT_TRUE(created->output->Start().ok());
  // More than the kernels' send and receive buffers on loopback hold.
  FramesBatch big({std::string(64 << 20, 'x')});
  const absl::Time start = absl::Now();
  const absl::Status status = created->output->Write(big);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST(SyslogOutputTest, UdpSendsOneDatagramPerRecord) {
  int port = 0;
  const int receiver = BindLoopback(SOCK_DGRAM, &port);
  std::unique_ptr<CreatedOutput> created =
      Create(absl::StrCat("{type: syslog, address: '127.0.0.1:", port, "', transport: udp}"));
  ASSERT_TRUE(created->output->Start().ok());
  FramesBatch batch({"<134>1 - - - - - one", "<134>1 - - - - - two"});
  ASSERT_TRUE(created->output->Write(batch).ok());
  std::vector<std::string> datagrams;
  char buffer[65536];
  while (datagrams.size() < 2 && AwaitReadable(receiver, kTimeout)) {
    const ssize_t n = ::recv(receiver, buffer, sizeof(buffer), 0);
    ASSERT_GT(n, 0);
    datagrams.emplace_back(buffer, static_cast<size_t>(n));
  }
  EXPECT_EQ(datagrams, (std::vector<std::string>{"<134>1 - - - - - one", "<134>1 - - - - - two"}));
  EXPECT_TRUE(created->output->Shutdown(absl::Now() + kTimeout).ok());
  ::close(receiver);
}

TEST(SyslogOutputTest, UdpSkipsDatagramsThatFailAndRetriesOnlyWhenNoneWent) {
  int port = 0;
  const int receiver = BindLoopback(SOCK_DGRAM, &port);
  std::unique_ptr<CreatedOutput> created = Create(
      absl::StrCat("{type: syslog, name: u, address: '127.0.0.1:", port, "', transport: udp}"));
  ASSERT_TRUE(created->output->Start().ok());
  // Longer than any UDP datagram: sendto fails with EMSGSIZE.
  const std::string too_long(70000, 'x');
  FramesBatch mixed({too_long, "<134>1 - - - - - fits"});
  EXPECT_TRUE(created->output->Write(mixed).ok());
  FramesBatch failing({too_long});
  EXPECT_EQ(created->output->Write(failing).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(Exposition(created->metrics),
                                "sluice_output_syslog_send_errors_total{output=\"syslog/u\"} 2"))
      << Exposition(created->metrics);
  char buffer[65536];
  ASSERT_TRUE(AwaitReadable(receiver, kTimeout));
  EXPECT_EQ(std::string(buffer, static_cast<size_t>(::recv(receiver, buffer, sizeof(buffer), 0))),
            "<134>1 - - - - - fits");
  ::close(receiver);
}

TEST(SyslogOutputTest, UdpCountsTruncatedMessages) {
  std::unique_ptr<CreatedOutput> created = Create(
      "{type: syslog, name: u, address: '127.0.0.1:514', transport: udp, max_message_bytes: 480}");
  std::unique_ptr<Encoder> encoder = created->encodings.NewEncoder(*created->output->encoding());
  const RecordKeys keys{};
  std::string out;
  const std::string message(1000, 'x');
  encoder->Append(ComposedRecord{.message = message, .keys = &keys}, &out);
  absl::string_view frames = out;
  absl::string_view cut;
  ASSERT_TRUE(NextSyslogFrame(&frames, &cut));
  EXPECT_EQ(cut.size(), 480u);
  EXPECT_TRUE(absl::StrContains(Exposition(created->metrics),
                                "sluice_output_syslog_truncated_total{output=\"syslog/u\"} 1"))
      << Exposition(created->metrics);
}

TEST(SyslogOutputTest, TcpDoesNotTruncate) {
  std::unique_ptr<CreatedOutput> created = Create("{type: syslog, address: '127.0.0.1:514'}");
  std::unique_ptr<Encoder> encoder = created->encodings.NewEncoder(*created->output->encoding());
  const RecordKeys keys{};
  std::string out;
  encoder->Append(ComposedRecord{.message = std::string(5000, 'x'), .keys = &keys}, &out);
  EXPECT_GT(out.size(), 5000u);
}

}  // namespace
}  // namespace sluice::outputs
