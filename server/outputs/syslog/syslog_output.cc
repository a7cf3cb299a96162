#include "server/outputs/syslog/syslog_output.h"

#include <linux/sockios.h>
#include <netdb.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/config/yaml_reader.h"
#include "server/outputs/write_fully.h"

namespace sluice::outputs {
namespace {

constexpr absl::Duration kMaxWriteTimeout = absl::Minutes(5);
constexpr uint64_t kMaxReplayBytes = uint64_t{64} << 20;

const config::KeyTable<SyslogOutputConfig>& Keys() {
  using S = SyslogOutputConfig;
  static const config::KeyTable<S>* const table = new config::KeyTable<S>{
      config::StringKey("address", &S::address, config::StringRule::kRequired,
                        "The receiver, `host:port` (`[v6]:port` for an IPv6 literal); the host "
                        "is resolved at each connect."),
      config::ChoiceKey<S, S::Transport>(
          "transport", &S::transport, {{"tcp", S::Transport::kTcp}, {"udp", S::Transport::kUdp}},
          "`tcp`: octet-counted frames (RFC 6587), at-least-once. `udp`: one datagram per "
          "record (RFC 5426), at-most-once."),
      config::ChoiceKey<S, int>(
          "facility", &S::facility,
          {{"kern", 0},      {"user", 1},    {"mail", 2},    {"daemon", 3},    {"auth", 4},
           {"syslog", 5},    {"lpr", 6},     {"news", 7},    {"uucp", 8},      {"cron", 9},
           {"authpriv", 10}, {"ftp", 11},    {"ntp", 12},    {"security", 13}, {"console", 14},
           {"local0", 16},   {"local1", 17}, {"local2", 18}, {"local3", 19},   {"local4", 20},
           {"local5", 21},   {"local6", 22}, {"local7", 23}},
          "The facility in every message's PRI."),
      config::StringKey("app_name", &S::app_name, config::StringRule::kNonEmpty,
                        "APP-NAME: 1 to 48 printable ASCII characters."),
      config::WithDefaultText(
          config::StringKey("hostname", &S::hostname, config::StringRule::kAny,
                            "HOSTNAME: up to 255 printable ASCII characters. Empty (the default): "
                            "this machine's name (gethostname), other bytes replaced by `_`."),
          "this machine's name"),
      config::IntegerKey("max_message_bytes", &S::max_message_bytes, S::kMinMessageBytes,
                         S::kMaxMessageBytes,
                         "With `udp`: a message longer than this is cut, its MSG first, and "
                         "counted in `sluice_output_syslog_truncated_total`."),
      config::DurationKey("write_timeout", &S::write_timeout, absl::Milliseconds(1),
                          kMaxWriteTimeout,
                          "Bounds each connect and each batch's sends; past it the batch is "
                          "UNAVAILABLE and retried."),
      config::IntegerKey("replay_bytes", &S::replay_bytes, 0, kMaxReplayBytes,
                         "With `tcp`: the last batches written on a connection, at least this "
                         "many bytes, are sent again on the next one after it broke. 0: none."),
  };
  return *table;
}

bool IsPrintUsAscii(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 33 && c <= 126; });
}

// This machine's name as a HOSTNAME; "-" (NILVALUE) when it has none.
std::string LocalHostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "-";
  std::string hostname(name, std::min(std::strlen(name), SyslogOutputConfig::kMaxHostname));
  for (char& c : hostname) {
    if (c < 33 || c > 126) c = '_';
  }
  return hostname;
}

// Splits "host:port" or "[v6]:port"; false when it is neither, or the port is not 1..65535.
bool SplitAddress(absl::string_view address, std::string* host, std::string* port) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  absl::string_view host_part = address.substr(0, colon);
  if (host_part.front() == '[') {
    if (host_part.size() < 3 || host_part.back() != ']') return false;
    host_part = host_part.substr(1, host_part.size() - 2);
  } else if (host_part.find(':') != absl::string_view::npos) {
    return false;
  }
  uint32_t number = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &number) || number == 0 || number > 65535) {
    return false;
  }
  *host = std::string(host_part);
  *port = std::string(address.substr(colon + 1));
  return true;
}

int RemainingMillis(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, INT_MAX));
}

// Waits until `fd` is ready for `events` or `deadline` passes; 0 or the errno (ETIMEDOUT).
int AwaitReady(int fd, short events, absl::Time deadline) {
  for (;;) {
    pollfd entry{.fd = fd, .events = events, .revents = 0};
    const int ready = ::poll(&entry, 1, RemainingMillis(deadline));
    if (ready > 0) return 0;
    if (ready == 0) return ETIMEDOUT;
    if (errno != EINTR) return errno;
  }
}

}  // namespace

absl::StatusOr<SyslogOutputConfig> SyslogOutputConfig::Parse(const YAML::Node& block,
                                                             absl::string_view path) {
  SyslogOutputConfig parsed;
  if (absl::Status status = Keys().Read(block, path, parsed, kCommonOutputKeys); !status.ok()) {
    return status;
  }
  if (!SplitAddress(parsed.address, &parsed.host, &parsed.port)) {
    return config::KeyError(
        absl::StrCat(path, ".address"),
        absl::StrCat("\"", parsed.address, "\" is not host:port with a port in 1..65535"));
  }
  if (parsed.app_name.size() > kMaxAppName || !IsPrintUsAscii(parsed.app_name)) {
    return config::KeyError(absl::StrCat(path, ".app_name"),
                            "must be 1 to 48 printable ASCII characters, no spaces");
  }
  if (parsed.hostname.empty()) {
    parsed.hostname = LocalHostname();
  } else if (parsed.hostname.size() > kMaxHostname || !IsPrintUsAscii(parsed.hostname)) {
    return config::KeyError(absl::StrCat(path, ".hostname"),
                            "must be up to 255 printable ASCII characters, no spaces");
  }
  return parsed;
}

SyslogOutput::SyslogOutput(std::string id, SyslogOutputConfig config, EncodingId encoding,
                           prometheus::Family<prometheus::Counter>* send_errors)
    : SerializedOutput(std::move(id)),
      config_(std::move(config)),
      encoding_(encoding),
      send_errors_(send_errors) {}

SyslogOutput::~SyslogOutput() { Shutdown(absl::InfiniteFuture()).IgnoreError(); }

void SyslogOutput::CountSendError() {
  if (send_errors_ != nullptr) send_errors_->Add({{"output", std::string(id())}}).Increment();
}

absl::Status SyslogOutput::FailureLocked(absl::Status status) {
  CountSendError();
  // Whatever broke (the receiver, the route, a name that does not resolve), a later attempt
  // may succeed: the sender retries rather than dropping the batch.
  return absl::UnavailableError(status.message());
}

absl::Status SyslogOutput::WriteLocked(OutputBatch& batch) {
  const absl::string_view frames = batch.Lines(encoding_);
  if (frames.empty()) return absl::OkStatus();
  return config_.transport == SyslogOutputConfig::Transport::kTcp ? WriteTcpLocked(frames)
                                                                  : WriteUdpLocked(frames);
}

absl::Status SyslogOutput::ConnectLocked(absl::Time deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  if (const int error =
          ::getaddrinfo(config_.host.c_str(), config_.port.c_str(), &hints, &addresses);
      error != 0) {
    return absl::UnavailableError(
        absl::StrCat(id(), ": resolve \"", config_.host, "\": ", ::gai_strerror(error)));
  }
  int last_error = 0;
  for (const addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
    const int fd =
        ::socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    int error = ::connect(fd, address->ai_addr, address->ai_addrlen) == 0 ? 0 : errno;
    if (error == EINPROGRESS) {
      error = AwaitReady(fd, POLLOUT, deadline);
      socklen_t length = sizeof(int);
      if (error == 0 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
      }
    }
    if (error == 0) {
      fd_ = fd;
      break;
    }
    ::close(fd);
    last_error = error;
  }
  ::freeaddrinfo(addresses);
  if (fd_ >= 0) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat(id(), ": connect to ", config_.address, ": ", ErrnoText(last_error)));
}

void SyslogOutput::CloseIfPeerClosedLocked() {
  char discard[512];
  for (;;) {
    const ssize_t n = ::recv(fd_, discard, sizeof(discard), MSG_DONTWAIT);
    if (n > 0) continue;  // a receiver has nothing to say; what it says is not read
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    // An orderly close after TCP-acking every byte means the receiver read them all: had
    // it closed with unread data, its kernel would have reset the connection instead.
    int unacked = -1;
    const bool all_read = n == 0 && ::ioctl(fd_, SIOCOUTQ, &unacked) == 0 && unacked == 0;
    CloseLocked(/*replay=*/!all_read);
    return;
  }
}

absl::Status SyslogOutput::SendAllLocked(absl::string_view data, absl::Time deadline) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    int error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK) error = AwaitReady(fd_, POLLOUT, deadline);
    if (error == EINTR || error == 0) continue;
    return absl::UnavailableError(absl::StrCat(id(), ": send to ", config_.address, ": ",
                                               ErrnoText(error), " after ", sent, " of ",
                                               data.size(), " bytes"));
  }
  return absl::OkStatus();
}

void SyslogOutput::CloseLocked(bool replay) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  replay_due_ = replay && !replay_.empty();
  if (!replay) {
    replay_.clear();
    replay_size_ = 0;
  }
}

absl::Status SyslogOutput::WriteTcpLocked(absl::string_view frames) {
  const absl::Time deadline = absl::Now() + config_.write_timeout;
  if (fd_ >= 0) CloseIfPeerClosedLocked();
  if (fd_ < 0) {
    if (absl::Status status = ConnectLocked(deadline); !status.ok()) {
      return FailureLocked(std::move(status));
    }
    if (replay_due_) {
      for (const std::string& earlier : replay_) {
        if (absl::Status status = SendAllLocked(earlier, deadline); !status.ok()) {
          CloseLocked(/*replay=*/true);
          return FailureLocked(std::move(status));
        }
      }
      replay_due_ = false;
    }
  }
  if (absl::Status status = SendAllLocked(frames, deadline); !status.ok()) {
    // The batch comes again whole from the sender; only the earlier ones need replaying.
    CloseLocked(/*replay=*/true);
    return FailureLocked(std::move(status));
  }
  if (config_.replay_bytes > 0) {
    replay_.emplace_back(frames);
    replay_size_ += frames.size();
    while (replay_size_ - replay_.front().size() >= config_.replay_bytes) {
      replay_size_ -= replay_.front().size();
      replay_.pop_front();
    }
  }
  return absl::OkStatus();
}

absl::Status SyslogOutput::WriteUdpLocked(absl::string_view frames) {
  if (fd_ < 0) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* addresses = nullptr;
    if (const int error =
            ::getaddrinfo(config_.host.c_str(), config_.port.c_str(), &hints, &addresses);
        error != 0) {
      return FailureLocked(absl::UnavailableError(
          absl::StrCat(id(), ": resolve \"", config_.host, "\": ", ::gai_strerror(error))));
    }
    const int fd = ::socket(addresses->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int error = errno;
    if (fd >= 0) {
      std::memcpy(&udp_address_, addresses->ai_addr, addresses->ai_addrlen);
      udp_address_length_ = addresses->ai_addrlen;
      const timeval timeout = absl::ToTimeval(config_.write_timeout);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    }
    ::freeaddrinfo(addresses);
    if (fd < 0) {
      return FailureLocked(
          absl::UnavailableError(absl::StrCat(id(), ": UDP socket: ", ErrnoText(error))));
    }
    fd_ = fd;
  }
  size_t sent = 0;
  size_t failed = 0;
  int last_error = 0;
  absl::string_view rest = frames;
  absl::string_view message;
  while (NextSyslogFrame(&rest, &message)) {
    // Not connected: an ICMP error a receiver's host sent for an earlier datagram is not
    // reported on a later one, which would otherwise fail for no fault of its own.
    ssize_t n;
    do {
      n = ::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL,
                   reinterpret_cast<const sockaddr*>(&udp_address_), udp_address_length_);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
      ++sent;
      continue;
    }
    last_error = errno;
    ++failed;
    CountSendError();
  }
  if (sent > 0 || failed == 0) return absl::OkStatus();
  // A route or address that went away may come back under a fresh resolution.
  ::close(fd_);
  fd_ = -1;
  return absl::UnavailableError(absl::StrCat(id(), ": send to ", config_.address, ": ",
                                             ErrnoText(last_error), " (", failed, " datagrams)"));
}

absl::Status SyslogOutput::ShutdownLocked(absl::Time /*deadline*/) {
  // Nothing is held back (Flush() has nothing to do), so closing loses nothing Write()
  // had not already handed to the kernel.
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  return absl::OkStatus();
}

std::vector<config::KeyDoc> SyslogOutputFactory::keys() const { return Keys().docs(); }

std::string SyslogOutputFactory::example_config() const {
  return "{type: syslog, address: '127.0.0.1:514', transport: udp}";
}

absl::StatusOr<std::unique_ptr<Output>> SyslogOutputFactory::Create(absl::string_view id,
                                                                    const YAML::Node& config,
                                                                    OutputContext& context) const {
  absl::StatusOr<SyslogOutputConfig> parsed =
      SyslogOutputConfig::Parse(config, context.config_path);
  if (!parsed.ok()) return parsed.status();
  prometheus::Family<prometheus::Counter>* truncated = nullptr;
  prometheus::Family<prometheus::Counter>* send_errors = nullptr;
  if (context.metrics != nullptr) {
    truncated = &prometheus::BuildCounter()
                     .Name("sluice_output_syslog_truncated_total")
                     .Help("Messages a syslog output cut to max_message_bytes.")
                     .Register(*context.metrics);
    send_errors = &prometheus::BuildCounter()
                       .Name("sluice_output_syslog_send_errors_total")
                       .Help(
                           "Failed resolutions, connects, sends and datagrams of a syslog "
                           "output.")
                       .Register(*context.metrics);
  }
  auto format = std::make_shared<SyslogFormat>();
  format->facility = parsed->facility;
  format->hostname = parsed->hostname;
  format->app_name = parsed->app_name;
  if (parsed->transport == SyslogOutputConfig::Transport::kUdp) {
    format->max_message_bytes = parsed->max_message_bytes;
    if (truncated != nullptr) {
      format->on_truncated = [truncated, output = std::string(id)] {
        truncated->Add({{"output", output}}).Increment();
      };
    }
  }
  // Named after the output: its settings are in every message, so no other output shares it.
  absl::StatusOr<EncodingId> encoding =
      context.encodings.Add(id, [format = std::shared_ptr<const SyslogFormat>(std::move(format))] {
        return std::make_unique<SyslogEncoder>(format);
      });
  if (!encoding.ok()) {
    return absl::Status(encoding.status().code(),
                        absl::StrCat(context.config_path, ": ", encoding.status().message()));
  }
  return std::make_unique<SyslogOutput>(std::string(id), *std::move(parsed), *encoding,
                                        send_errors);
}

}  // namespace sluice::outputs
