// RecordLoad: a steady stream of "load-<n>" records (logger "load", INFO) from one
// sluice::Client on a thread of its own, for e2e tests that change something on a server
// under load (a signal, a reload) and then check that every acknowledged record arrived;
// JsonMessages reads back what a JSON-lines file output wrote.
//
// The load keeps at most kMaxOutstanding records unacknowledged, inside the client's
// buffer, so Log() never drops: every record logged is expected at the destination.
#ifndef SLUICE_TESTS_E2E_RECORD_LOAD_H_
#define SLUICE_TESTS_E2E_RECORD_LOAD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rapidjson/document.h"
#include "sluice/client.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {

// What JsonMessages gives, followed by the line, for a line without a message.
inline constexpr absl::string_view kUnparsableLine = "<unparsable line> ";

// The "message" of every line of a JSON-lines file; kUnparsableLine and the line for a
// line without one (torn or garbled).
inline std::vector<std::string> JsonMessages(const std::string& path) {
  std::vector<std::string> messages;
  for (const std::string& line : ReadLines(path)) {
    rapidjson::Document document;
    document.Parse(line.data(), line.size());
    if (document.HasParseError() || !document.IsObject() || !document.HasMember("message") ||
        !document["message"].IsString()) {
      messages.push_back(absl::StrCat(kUnparsableLine, line));
      continue;
    }
    messages.emplace_back(document["message"].GetString());
  }
  return messages;
}

class RecordLoad {
 public:
  // Starts logging to the ingest address `target`.
  explicit RecordLoad(const std::string& target) : client_(OptionsFor(target)) {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        if (logged_.load() - client_.stats().acked_records >= kMaxOutstanding) {
          absl::SleepFor(absl::Milliseconds(1));
          continue;
        }
        client_.Log(v1::LEVEL_INFO, "load", absl::StrCat("load-", logged_.load()), {});
        logged_.fetch_add(1);
      }
    });
  }
  RecordLoad(const RecordLoad&) = delete;
  RecordLoad& operator=(const RecordLoad&) = delete;
  ~RecordLoad() { Stop(); }

  // Records acknowledged so far, and logged so far ("load-0" ... "load-<logged - 1>").
  uint64_t acked() const { return client_.stats().acked_records; }
  size_t logged() const { return logged_.load(); }
  ClientStats stats() const { return client_.stats(); }

  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  // Stops, then waits until the server acknowledged every record logged.
  absl::Status StopAndFlush() {
    Stop();
    return client_.Flush(absl::Now() + kAwaitTimeout);
  }

 private:
  static constexpr size_t kMaxOutstanding = 20000;

  static ClientOptions OptionsFor(const std::string& target) {
    ClientOptions options;
    options.target = target;
    options.max_buffered_records = 2 * kMaxOutstanding;
    return options;
  }

  Client client_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> logged_{0};
  std::thread thread_;
};

}  // namespace sluice::e2e

#endif  // SLUICE_TESTS_E2E_RECORD_LOAD_H_
