// LevelGate: the level check ingest runs on every record, without locks.
//
// One gate per ingest stream (not shared between threads). It keeps the LevelTable
// snapshot it last read and re-reads it only when the table's version changed, so a level
// change reaches every stream by its next record; it also remembers the rule of the
// last logger seen, since a stream's records mostly share one.
#ifndef SLUICE_SERVER_LEVELS_LEVEL_GATE_H_
#define SLUICE_SERVER_LEVELS_LEVEL_GATE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "server/levels/level_table.h"
#include "sluice/level.h"

namespace sluice::levels {

class LevelGate {
 public:
  explicit LevelGate(const LevelTable& table) : table_(table) {}

  // True when a record of `level` from `logger` passes the rule in force.
  bool Admits(absl::string_view logger, Level level) {
    const uint64_t version = table_.version();
    if (version != version_ || snapshot_ == nullptr) {
      snapshot_ = table_.Snapshot();
      version_ = version;
      cached_logger_valid_ = false;
    }
    if (!cached_logger_valid_ || logger != cached_logger_) {
      cached_logger_.assign(logger.data(), logger.size());
      cached_filter_ = snapshot_->FilterFor(logger);
      cached_logger_valid_ = true;
    }
    return cached_filter_.Admits(level);
  }

 private:
  const LevelTable& table_;
  std::shared_ptr<const LevelSnapshot> snapshot_;
  uint64_t version_ = 0;
  std::string cached_logger_;
  LevelFilter cached_filter_ = LevelFilter::AtLeast(Level::kInfo);
  bool cached_logger_valid_ = false;
};

}  // namespace sluice::levels

#endif  // SLUICE_SERVER_LEVELS_LEVEL_GATE_H_
