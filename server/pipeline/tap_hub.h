// TapHub: the live taps (AdminService.Tap) and the records the workers offer them.
//
// The Pipeline offers each batch to the hub after the post-hooks, on its worker; while no
// tap is open that costs one relaxed atomic load per batch (active()). With taps open, each
// record that passes a tap's filter (TapFilter: minimum level, logger prefix, field match,
// one in N) is copied as the outputs would see it — its time (the receive time when it has
// none), its level, and its fields composed with the base and hook layers by FieldComposer
// — into that tap's buffer.
//
// A tap's buffer is small and bounded (TapLimits: records and bytes). A worker holds the
// tap's mutex only to push, and never waits for the tap's reader: a record that finds the
// buffer full is lost, counted in sluice_tap_records_lost_total and in the tap, and the next
// record the reader takes is preceded by a notice record (logger "sluice.tap", WARN, field
// `lost_records`: how many were lost since the previous notice). A slow tap thus never slows
// the pipeline.
//
// The reader (admin::TapReactor, or a test) pulls with Tap::Next. When Next has nothing it
// says kIdle, and the tap calls the reader's OnReady once when a record arrives or the tap
// closes; so exactly one party — the reader, or whoever calls OnReady — holds the right to
// read at any time, and the reader needs no lock of its own. Once Next said kClosed the tap
// never calls the reader again: the reader may then finish and, after Remove(), die. The
// tap itself is shared by the hub and the reader (shared_ptr), so a worker still pushing into
// a tap being removed touches live memory.
//
// Owned by ServerApp, which hands it to the Pipeline (Pipeline::SetTaps) and the
// AdminService; it must outlive both and every reader.
#ifndef SLUICE_SERVER_PIPELINE_TAP_HUB_H_
#define SLUICE_SERVER_PIPELINE_TAP_HUB_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "server/common/field_layers.h"
#include "server/common/record_batch.h"
#include "server/pipeline/field_composer.h"
#include "server/pipeline/hooks/record_match.h"
#include "sluice/level.h"
#include "sluice/v1/admin.pb.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::pipeline {

// The logger and field of the notice that tells a tap it lost records.
inline constexpr char kTapNoticeLogger[] = "sluice.tap";
inline constexpr char kTapLostRecordsField[] = "lost_records";

// Which records a tap takes.
struct TapFilter {
  Level min_level = Level::kTrace;
  // Logger prefix and field conditions.
  hooks::RecordMatch match;
  // One in this many of the records that pass the rest; 1: all.
  uint32_t sample_one_in = 1;

  // INVALID_ARGUMENT for a level outside the enum, a malformed logger prefix or a /regex/
  // that does not compile, naming what is wrong.
  static absl::StatusOr<TapFilter> FromRequest(const v1::TapRequest& request);
};

// How much one tap holds, at most; a record is lost when it would exceed either.
struct TapLimits {
  size_t max_records = 1024;
  size_t max_bytes = size_t{1} << 20;
};

class TapHub;

// Implemented by whoever reads a tap.
class TapReader {
 public:
  virtual ~TapReader() = default;
  // After Next said kIdle, the tap has a record or closed. Called once per kIdle, on a
  // worker or on the thread closing the tap, without a lock held.
  virtual void OnReady() = 0;
};

class Tap {
 public:
  enum class NextResult { kRecord, kIdle, kClosed };

  Tap(TapFilter filter, TapLimits limits, TapReader& reader, TapHub& hub);
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;

  // Whether the tap takes `record` (of level `level`), counting it towards its sample.
  // Any worker; takes no lock.
  bool Wants(const v1::LogRecord& record, Level level, FieldLayers layers);
  // Whether the buffer is full, at a glance (no lock): a worker then counts the record lost
  // instead of copying it for nothing, and tells Lose() once per batch how many it lost, so
  // that workers do not contend on the counters record by record.
  bool Full() const {
    return queued_count_.load(std::memory_order_relaxed) >= limits_.max_records ||
           queued_bytes_.load(std::memory_order_relaxed) >= limits_.max_bytes;
  }
  void Lose(uint64_t records) {
    lost_pending_.fetch_add(records, std::memory_order_relaxed);
    lost_total_.fetch_add(records, std::memory_order_relaxed);
  }
  // Pushes a record Wants took, of `bytes` (its estimated size); false when the buffer had
  // no room and the record is lost (counted in the tap). Never waits on the reader.
  bool Offer(v1::LogRecord record, size_t bytes);

  // The reader's side: the next record into `*out` (a loss notice first, when records were
  // lost since the last one), kIdle when there is none (OnReady follows), or kClosed.
  // `*more` (optional) says whether another record waits behind it: only the reader takes
  // records, so its next Next will not say kIdle.
  NextResult Next(v1::LogRecord* out, bool* more = nullptr);
  // Ends the tap: records it holds are let go, nothing more is taken, and the reader's next
  // (or pending) Next says kClosed. Any thread; safe twice.
  void Close();

  // Records lost in all.
  uint64_t lost() const { return lost_total_.load(std::memory_order_relaxed); }

 private:
  const TapFilter filter_;
  const TapLimits limits_;
  TapReader& reader_;
  TapHub& hub_;
  std::atomic<uint64_t> matched_{0};
  // Lost since the last notice, and in all.
  std::atomic<uint64_t> lost_pending_{0};
  std::atomic<uint64_t> lost_total_{0};
  // The buffer's records and bytes, written under mu_ and read by Full() without it.
  std::atomic<size_t> queued_count_{0};
  std::atomic<size_t> queued_bytes_{0};

  // std::mutex rather than absl::Mutex: Debian's Abseil is not built for ThreadSanitizer,
  // which would not see the hand-offs through it. Guards everything below it.
  std::mutex mu_;
  struct Queued {
    v1::LogRecord record;
    size_t bytes;
  };
  std::deque<Queued> queue_;
  // The reader's last Next said kIdle and no OnReady went out since. The reader starts
  // with the read right.
  bool reader_idle_ = false;
  bool closed_ = false;
};

class TapHub {
 public:
  // `registry` (nullable) gets the tap metrics and must outlive the hub.
  TapHub(prometheus::Registry* registry, uint32_t max_taps, TapLimits limits = {});
  TapHub(const TapHub&) = delete;
  TapHub& operator=(const TapHub&) = delete;

  // Whether any tap is open: the pipeline skips Offer otherwise. One relaxed load.
  bool active() const { return open_.load(std::memory_order_relaxed) > 0; }

  // Opens a tap that `reader` reads. The reader holds the read right: it calls Next (and
  // gets OnReady only after a kIdle).
  // RESOURCE_EXHAUSTED beyond max_taps, UNAVAILABLE once CloseAll ran.
  absl::StatusOr<std::shared_ptr<Tap>> Open(TapFilter filter, TapReader& reader);
  // Forgets `tap` (closing it first); after it returns no worker reaches its reader.
  void Remove(const std::shared_ptr<Tap>& tap);
  // Closes every tap and refuses new ones: on shutdown, before the admin server stops.
  void CloseAll();

  // Offers the records of `batch` (whose field layers are `layers`, empty: all ad-hoc) to
  // every open tap. On a worker, after the post-hooks.
  void Offer(const RecordBatch& batch, const std::vector<FieldLayers>& layers,
             const FieldComposer& composer);

  size_t open_taps() const { return static_cast<size_t>(open_.load(std::memory_order_relaxed)); }

 private:
  friend class Tap;

  // On the reader's thread, per record.
  void CountSent() {
    if (sent_ != nullptr) sent_->Increment();
  }
  void CountLost(uint64_t records) {
    if (lost_ != nullptr) lost_->Increment(static_cast<double>(records));
  }

  const uint32_t max_taps_;
  const TapLimits limits_;
  prometheus::Gauge* open_gauge_ = nullptr;
  prometheus::Counter* sent_ = nullptr;
  prometheus::Counter* lost_ = nullptr;
  std::atomic<int> open_{0};

  // Guards the two below (std::mutex, as Tap's).
  std::mutex mu_;
  std::vector<std::shared_ptr<Tap>> taps_;
  bool closed_ = false;
};

// `record` as a tap shows it: FieldComposer's fields in place of the record's own (base
// fields as strings), its time set (`received_at` when it has none) and its level.
v1::LogRecord TappedRecord(const v1::LogRecord& record, absl::Time received_at, FieldLayers layers,
                           const FieldComposer& composer,
                           std::vector<outputs::ComposedField>* scratch);

}  // namespace sluice::pipeline

#endif  // SLUICE_SERVER_PIPELINE_TAP_HUB_H_
