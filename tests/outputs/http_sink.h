// HttpSink: a tiny HTTP/1.1 server for the output tests, on 127.0.0.1:0. It keeps every
// request (method, target, headers, body) and answers each with the next queued response,
// or 200 with an empty body when none is queued. The clickhouse output's tests talk to it,
// and the conformance suite offers it to every output as ${HTTP_URL}.
//
// One thread accepts and serves one connection at a time, each closed after its answer;
// requests need a Content-Length (chunked bodies are not read). Thread-safe.
#ifndef SLUICE_TESTS_OUTPUTS_HTTP_SINK_H_
#define SLUICE_TESTS_OUTPUTS_HTTP_SINK_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace sluice::outputs {

class HttpSink {
 public:
  struct Request {
    std::string method;
    std::string target;                          // path and query, as sent
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
  };

  struct Response {
    int code = 200;
    std::string body;
  };

  HttpSink() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
    ::listen(listener_, 16);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~HttpSink() {
    // Wakes the blocked accept(2), which then fails and ends the thread.
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }

  HttpSink(const HttpSink&) = delete;
  HttpSink& operator=(const HttpSink&) = delete;

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

  // Queues the answer of a coming request; requests beyond the queue get 200.
  void Respond(int code, std::string body = "") {
    std::lock_guard lock(mu_);
    responses_.push_back({code, std::move(body)});
  }

  std::vector<Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (true) {
      const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) return;
      // A client that stops sending mid-request cannot hold the test forever.
      timeval timeout{.tv_sec = 10, .tv_usec = 0};
      ::setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      Handle(connection);
      ::close(connection);
    }
  }

  void Handle(int connection) {
    std::string data;
    size_t head_end = std::string::npos;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
      if (!Receive(connection, &data)) return;
    }
    Request request;
    const std::vector<absl::string_view> lines =
        absl::StrSplit(absl::string_view(data).substr(0, head_end), "\r\n");
    const std::vector<absl::string_view> request_line = absl::StrSplit(lines[0], ' ');
    if (request_line.size() < 2) return;
    request.method = std::string(request_line[0]);
    request.target = std::string(request_line[1]);
    size_t content_length = 0;
    for (size_t i = 1; i < lines.size(); ++i) {
      const std::pair<absl::string_view, absl::string_view> header =
          absl::StrSplit(lines[i], absl::MaxSplits(':', 1));
      const std::string name = absl::AsciiStrToLower(header.first);
      const std::string value(absl::StripAsciiWhitespace(header.second));
      if (name == "content-length" && !absl::SimpleAtoi(value, &content_length)) return;
      request.headers[name] = value;
    }
    while (data.size() < head_end + 4 + content_length) {
      if (!Receive(connection, &data)) return;
    }
    request.body = data.substr(head_end + 4, content_length);
    Response response;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(std::move(request));
      if (!responses_.empty()) {
        response = std::move(responses_.front());
        responses_.pop_front();
      }
    }
    const std::string answer = absl::StrCat("HTTP/1.1 ", response.code,
                                            " Answer\r\nContent-Length: ", response.body.size(),
                                            "\r\nConnection: close\r\n\r\n", response.body);
    size_t sent = 0;
    while (sent < answer.size()) {
      const ssize_t n =
          ::send(connection, answer.data() + sent, answer.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  static bool Receive(int connection, std::string* data) {
    char buffer[4096];
    const ssize_t n = ::recv(connection, buffer, sizeof(buffer), 0);
    if (n <= 0) return false;
    data->append(buffer, static_cast<size_t>(n));
    return true;
  }

  int listener_ = -1;
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::deque<Response> responses_;
  std::thread thread_;
};

}  // namespace sluice::outputs

#endif  // SLUICE_TESTS_OUTPUTS_HTTP_SINK_H_
