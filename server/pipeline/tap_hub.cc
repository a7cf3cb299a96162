#include "server/pipeline/tap_hub.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"

namespace sluice::pipeline {
namespace {

// What a queued record costs beyond its wire size: the message object and its strings'
// headers. An estimate; the bound it serves is approximate by nature.
constexpr size_t kRecordOverheadBytes = sizeof(v1::LogRecord) + 64;

v1::LogRecord LossNotice(uint64_t lost) {
  v1::LogRecord notice;
  notice.set_time_unix_nano(static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  notice.set_level(v1::LEVEL_WARN);
  notice.set_logger(kTapNoticeLogger);
  notice.set_message(absl::StrCat("the tap lost ", lost, " records: it read too slowly"));
  v1::Field* field = notice.add_fields();
  field->set_key(kTapLostRecordsField);
  field->set_int_value(static_cast<int64_t>(lost));
  return notice;
}

}  // namespace

absl::StatusOr<TapFilter> TapFilter::FromRequest(const v1::TapRequest& request) {
  TapFilter filter;
  if (request.min_level() != v1::LEVEL_UNSPECIFIED) {
    absl::StatusOr<Level> level = LevelFromProto(request.min_level());
    if (!level.ok()) return level.status();
    filter.min_level = *level;
  }
  std::vector<std::string> loggers;
  if (!request.logger_prefix().empty()) {
    if (absl::Status valid = ValidateLoggerPrefix(request.logger_prefix()); !valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("logger_prefix: ", valid.message()));
    }
    loggers.push_back(request.logger_prefix());
  }
  hooks::RecordMatch::FieldValues match(request.match().begin(), request.match().end());
  // A map has no order: sort for a deterministic error when several patterns are bad.
  std::sort(match.begin(), match.end());
  for (const auto& [key, value] : match) {
    if (key.empty()) return absl::InvalidArgumentError("match: a field key is empty");
  }
  absl::StatusOr<hooks::RecordMatch> record_match =
      hooks::RecordMatch::Create(std::move(loggers), match, "match");
  if (!record_match.ok()) return record_match.status();
  filter.match = *std::move(record_match);
  filter.sample_one_in = std::max<uint32_t>(request.sample_one_in(), 1);
  return filter;
}

Tap::Tap(TapFilter filter, TapLimits limits, TapReader& reader, TapHub& hub)
    : filter_(std::move(filter)), limits_(limits), reader_(reader), hub_(hub) {}

bool Tap::Wants(const v1::LogRecord& record, Level level, FieldLayers layers) {
  if (level < filter_.min_level) return false;
  if (!filter_.match.Matches(record, layers)) return false;
  if (filter_.sample_one_in <= 1) return true;
  return matched_.fetch_add(1, std::memory_order_relaxed) % filter_.sample_one_in == 0;
}

bool Tap::Offer(v1::LogRecord record, size_t bytes) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return true;
    const size_t queued_bytes = queued_bytes_.load(std::memory_order_relaxed);
    if (queue_.size() >= limits_.max_records || queued_bytes + bytes > limits_.max_bytes) {
      Lose(1);
      return false;
    }
    queue_.push_back(Queued{std::move(record), bytes});
    queued_count_.store(queue_.size(), std::memory_order_relaxed);
    queued_bytes_.store(queued_bytes + bytes, std::memory_order_relaxed);
    wake = std::exchange(reader_idle_, false);
  }
  if (wake) reader_.OnReady();
  return true;
}

Tap::NextResult Tap::Next(v1::LogRecord* out, bool* more) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return NextResult::kClosed;
  if (const uint64_t lost = lost_pending_.exchange(0, std::memory_order_relaxed); lost > 0) {
    *out = LossNotice(lost);
    if (more != nullptr) *more = !queue_.empty();
    return NextResult::kRecord;
  }
  if (queue_.empty()) {
    reader_idle_ = true;
    return NextResult::kIdle;
  }
  *out = std::move(queue_.front().record);
  queued_bytes_.store(queued_bytes_.load(std::memory_order_relaxed) - queue_.front().bytes,
                      std::memory_order_relaxed);
  queue_.pop_front();
  queued_count_.store(queue_.size(), std::memory_order_relaxed);
  if (more != nullptr) *more = !queue_.empty();
  hub_.CountSent();
  return NextResult::kRecord;
}

void Tap::Close() {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    queue_.clear();
    queued_count_.store(0, std::memory_order_relaxed);
    queued_bytes_.store(0, std::memory_order_relaxed);
    wake = std::exchange(reader_idle_, false);
  }
  if (wake) reader_.OnReady();
}

TapHub::TapHub(prometheus::Registry* registry, uint32_t max_taps, TapLimits limits)
    : max_taps_(max_taps), limits_(limits) {
  if (registry == nullptr) return;
  open_gauge_ = &prometheus::BuildGauge()
                     .Name("sluice_taps_open")
                     .Help("AdminService.Tap calls open")
                     .Register(*registry)
                     .Add({});
  sent_ = &prometheus::BuildCounter()
               .Name("sluice_tap_records_sent_total")
               .Help("Records handed to taps' streams (loss notices not counted)")
               .Register(*registry)
               .Add({});
  lost_ = &prometheus::BuildCounter()
               .Name("sluice_tap_records_lost_total")
               .Help("Records a tap's full buffer could not take: the tap read too slowly")
               .Register(*registry)
               .Add({});
}

absl::StatusOr<std::shared_ptr<Tap>> TapHub::Open(TapFilter filter, TapReader& reader) {
  auto tap = std::make_shared<Tap>(std::move(filter), limits_, reader, *this);
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return absl::UnavailableError("the server is shutting down");
  if (taps_.size() >= max_taps_) {
    return absl::ResourceExhaustedError(
        absl::StrCat(taps_.size(), " taps are open, admin.max_taps is ", max_taps_));
  }
  taps_.push_back(tap);
  open_.store(static_cast<int>(taps_.size()), std::memory_order_relaxed);
  if (open_gauge_ != nullptr) open_gauge_->Set(static_cast<double>(taps_.size()));
  return tap;
}

void TapHub::Remove(const std::shared_ptr<Tap>& tap) {
  tap->Close();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find(taps_.begin(), taps_.end(), tap);
  if (it == taps_.end()) return;
  taps_.erase(it);
  open_.store(static_cast<int>(taps_.size()), std::memory_order_relaxed);
  if (open_gauge_ != nullptr) open_gauge_->Set(static_cast<double>(taps_.size()));
}

void TapHub::CloseAll() {
  std::vector<std::shared_ptr<Tap>> taps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    taps = taps_;
  }
  // Without the lock: closing wakes readers, which may finish and Remove their tap.
  for (const std::shared_ptr<Tap>& tap : taps) tap->Close();
}

void TapHub::Offer(const RecordBatch& batch, const std::vector<FieldLayers>& layers,
                   const FieldComposer& composer) {
  std::vector<std::shared_ptr<Tap>> taps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    taps = taps_;
  }
  if (taps.empty()) return;
  std::vector<outputs::ComposedField> scratch;
  uint64_t lost = 0;
  // Per tap, the records found full at a glance.
  absl::InlinedVector<uint64_t, 4> lost_at_a_glance(taps.size(), 0);
  std::vector<Tap*> wanting;
  wanting.reserve(taps.size());
  const RecordBatch::Records& records = batch.records();
  for (int i = 0; i < records.size(); ++i) {
    const v1::LogRecord& record = records[i];
    const FieldLayers record_layers =
        layers.empty() ? FieldLayers{} : layers[static_cast<size_t>(i)];
    const Level level = RecordLevel(record);
    wanting.clear();
    for (size_t t = 0; t < taps.size(); ++t) {
      if (!taps[t]->Wants(record, level, record_layers)) continue;
      if (taps[t]->Full()) {
        ++lost_at_a_glance[t];
        continue;
      }
      wanting.push_back(taps[t].get());
    }
    if (wanting.empty()) continue;
    v1::LogRecord tapped =
        TappedRecord(record, batch.received_at(), record_layers, composer, &scratch);
    const size_t bytes = tapped.ByteSizeLong() + kRecordOverheadBytes;
    for (size_t t = 0; t + 1 < wanting.size(); ++t)
      lost += wanting[t]->Offer(tapped, bytes) ? 0 : 1;
    lost += wanting.back()->Offer(std::move(tapped), bytes) ? 0 : 1;
  }
  for (size_t t = 0; t < taps.size(); ++t) {
    if (lost_at_a_glance[t] == 0) continue;
    taps[t]->Lose(lost_at_a_glance[t]);
    lost += lost_at_a_glance[t];
  }
  if (lost > 0) CountLost(lost);
}

v1::LogRecord TappedRecord(const v1::LogRecord& record, absl::Time received_at, FieldLayers layers,
                           const FieldComposer& composer,
                           std::vector<outputs::ComposedField>* scratch) {
  v1::LogRecord tapped;
  tapped.set_time_unix_nano(record.time_unix_nano() != 0
                                ? record.time_unix_nano()
                                : static_cast<uint64_t>(absl::ToUnixNanos(received_at)));
  tapped.set_level(LevelToProto(RecordLevel(record)));
  tapped.set_logger(record.logger());
  tapped.set_message(record.message());
  tapped.set_trace_id(record.trace_id());
  tapped.set_span_id(record.span_id());
  composer.Compose(record, scratch, layers);
  tapped.mutable_fields()->Reserve(static_cast<int>(scratch->size()));
  for (const outputs::ComposedField& composed : *scratch) {
    v1::Field* field = tapped.add_fields();
    if (composed.field != nullptr) *field = *composed.field;
    field->set_key(std::string(composed.key));
    if (composed.field == nullptr) field->set_string_value(std::string(composed.text));
  }
  return tapped;
}

}  // namespace sluice::pipeline
