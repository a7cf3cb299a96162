// The syslog output: sends each record as an RFC 5424 message to a syslog receiver
// (rsyslog, syslog-ng, a SIEM's collector) over TCP or UDP.
//
//   outputs:
//     - type: syslog
//       name: siem
//       address: "logs.example.com:514"  # required; host:port, [v6]:port
//       transport: tcp                   # tcp (default) | udp
//       facility: local0                 # kern .. local7
//       app_name: sluiced                # APP-NAME
//       hostname: ""                     # HOSTNAME; empty: this machine's name
//       max_message_bytes: 2048          # UDP: longer messages are cut
//       write_timeout: 10s               # bounds every connect and send
//       replay_bytes: 262144             # TCP: resent after a broken connection
//
// The message format is SyslogEncoder's (syslog_encoder.h), added to the pipeline's
// encodings under the output's id, so records are formatted on the worker and Write()
// only sends bytes.
//
// TCP. Frames are octet-counted (RFC 6587 §3.4.1) and a batch goes out in as few send(2)
// calls as the kernel takes. The connection is opened at the first Write(), not by
// Start(): a receiver that is down at start-up shows as failed writes, retried. Before
// each batch the output checks whether the receiver closed the connection, and then
// connects again. Every connect and send is bounded by write_timeout; a failure closes
// the connection, counts in sluice_output_syslog_send_errors_total and returns
// UNAVAILABLE, so the sender retries the batch with backoff, whole.
//
// Delivery over TCP is at-least-once. RFC 6587 has no acknowledgement, so a frame handed
// to the kernel may still be lost when the connection breaks: unsent in this kernel's
// buffer, or received and unread by a receiver that exits. So the output keeps the last
// batches it wrote on the connection (at least replay_bytes of them) and sends them again
// first on the next connection, unless the receiver closed in order after TCP-acking every
// byte (then it read them all). The receiver may thus get records twice after a broken
// connection, and a batch cut by a failure mid-send is retried whole. Flush() means handed
// to the kernel: Write() keeps nothing back, so it has nothing to do.
//
// UDP. One datagram per record, the SYSLOG-MSG without the frame's length; a message longer
// than max_message_bytes is cut (counted in sluice_output_syslog_truncated_total). A
// datagram that cannot be sent is counted in send_errors and skipped, since sending its
// batch again would repeat the datagrams that went; only when none of a batch's datagrams
// could be sent is it UNAVAILABLE, and retried. Delivery is at-most-once: nothing tells a
// UDP sender that a datagram arrived.
//
// Who calls it: the output's sender thread (server/pipeline/output_sender.h); the lock
// is SerializedOutput's.
#ifndef SLUICE_SERVER_OUTPUTS_SYSLOG_SYSLOG_OUTPUT_H_
#define SLUICE_SERVER_OUTPUTS_SYSLOG_SYSLOG_OUTPUT_H_

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"
#include "server/outputs/output.h"
#include "server/outputs/output_registry.h"
#include "server/outputs/serialized_output.h"
#include "server/outputs/syslog/syslog_encoder.h"

namespace sluice::outputs {

struct SyslogOutputConfig {
  enum class Transport { kTcp, kUdp };

  // RFC 5426 §3.2: every receiver takes 480-byte datagrams over IPv4; 65507 is the most
  // a UDP datagram over IPv4 carries.
  static constexpr uint64_t kMinMessageBytes = 480;
  static constexpr uint64_t kMaxMessageBytes = 65507;
  // RFC 5424 §6: the longest HOSTNAME and APP-NAME.
  static constexpr size_t kMaxHostname = 255;
  static constexpr size_t kMaxAppName = 48;

  std::string address;
  Transport transport = Transport::kTcp;
  int facility = 16;
  std::string app_name = "sluiced";
  std::string hostname;
  uint64_t max_message_bytes = 2048;
  absl::Duration write_timeout = absl::Seconds(10);
  uint64_t replay_bytes = 256 * 1024;

  // `address` split: the host without brackets, and the port.
  std::string host;
  std::string port;

  // Reads and validates an output block (`path` is where it is in the config, e.g.
  // "outputs[0]"); errors name the key path. An empty hostname becomes this machine's.
  static absl::StatusOr<SyslogOutputConfig> Parse(const YAML::Node& block, absl::string_view path);
};

class SyslogOutput final : public SerializedOutput {
 public:
  // `encoding` is the SyslogEncoder encoding made for this output. `send_errors`, when not
  // null, is the family of sluice_output_syslog_send_errors_total.
  SyslogOutput(std::string id, SyslogOutputConfig config, EncodingId encoding,
               prometheus::Family<prometheus::Counter>* send_errors);
  ~SyslogOutput() override;

  std::optional<EncodingId> encoding() const override { return encoding_; }

 protected:
  // Nothing to open: connecting is left to the first Write().
  absl::Status StartLocked() override { return absl::OkStatus(); }
  absl::Status WriteLocked(OutputBatch& batch) override;
  absl::Status FlushLocked(absl::Time /*deadline*/) override { return absl::OkStatus(); }
  absl::Status ShutdownLocked(absl::Time deadline) override;

 private:
  absl::Status WriteTcpLocked(absl::string_view frames) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  absl::Status WriteUdpLocked(absl::string_view frames) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Opens a connection to the first address of `host` that takes one by `deadline`.
  absl::Status ConnectLocked(absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Closes the connection if the receiver closed or reset it.
  void CloseIfPeerClosedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Sends all of `data` on the connection by `deadline`.
  absl::Status SendAllLocked(absl::string_view data, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Closes the connection; `replay`: its last batches are sent again on the next one.
  void CloseLocked(bool replay) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  // Counts a failure and returns it as UNAVAILABLE.
  absl::Status FailureLocked(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex());
  void CountSendError();

  const SyslogOutputConfig config_;
  const EncodingId encoding_;
  prometheus::Family<prometheus::Counter>* const send_errors_;
  int fd_ ABSL_GUARDED_BY(mutex()) = -1;
  // UDP: where datagrams go, resolved when the socket is made.
  sockaddr_storage udp_address_ ABSL_GUARDED_BY(mutex()) = {};
  socklen_t udp_address_length_ ABSL_GUARDED_BY(mutex()) = 0;
  // TCP: the last batches written on the connection, oldest first, and their size.
  std::deque<std::string> replay_ ABSL_GUARDED_BY(mutex());
  size_t replay_size_ ABSL_GUARDED_BY(mutex()) = 0;
  // replay_ goes out first on the next connection.
  bool replay_due_ ABSL_GUARDED_BY(mutex()) = false;
};

class SyslogOutputFactory final : public OutputFactory {
 public:
  absl::string_view type() const override { return "syslog"; }
  std::vector<config::KeyDoc> keys() const override;
  std::string example_config() const override;
  absl::StatusOr<std::unique_ptr<Output>> Create(absl::string_view id, const YAML::Node& config,
                                                 OutputContext& context) const override;
};

}  // namespace sluice::outputs

#endif  // SLUICE_SERVER_OUTPUTS_SYSLOG_SYSLOG_OUTPUT_H_
