#include "server/pipeline/hooks/sample_hook.h"

#include <utility>

#include "absl/random/random.h"
#include "server/config/yaml_reader.h"
#include "sluice/level.h"

namespace sluice::pipeline::hooks {
namespace {

struct SampleConfig {
  int64_t one_in = 1;
  Level level_at_most = Level::kInfo;
  int64_t hash_seed = 0;
};

// A key that must be given: a default rate would sample records away unasked.
config::Key<SampleConfig> Required(config::Key<SampleConfig> key) {
  key.required = true;
  return config::WithDefaultText(std::move(key), "required");
}

const config::KeyTable<SampleConfig>& SampleKeys() {
  static const auto* const table = new config::KeyTable<SampleConfig>{
      Required(config::IntegerKey("one_in", &SampleConfig::one_in, 1, 1'000'000,
                                  "Keep one record in this many; `1` keeps every record.")),
      config::LevelKey("level_at_most", &SampleConfig::level_at_most,
                       "Sample only records at this level or below; `warn` and above are "
                       "refused, those records are always kept."),
      config::IntegerKey("hash_seed", &SampleConfig::hash_seed, 0, 4'294'967'295,
                         "Chooses which traces are kept; instances with the same seed keep the "
                         "same traces."),
  };
  return *table;
}

class SampleHook final : public Hook {
 public:
  SampleHook(std::string id, SampleConfig config)
      : id_(std::move(id)),
        one_in_(static_cast<uint64_t>(config.one_in)),
        level_at_most_(config.level_at_most),
        seed_(static_cast<uint64_t>(config.hash_seed)) {}

  absl::string_view id() const override { return id_; }

  Verdict OnRecord(HookRecord& record) const override {
    const v1::LogRecord& log = record.record();
    if (one_in_ == 1 || RecordLevel(log) > level_at_most_) return Verdict::kKeep;
    bool keep = false;
    if (!log.trace_id().empty()) {
      keep = TraceSampleHash(seed_, log.trace_id()) % one_in_ == 0;
    } else {
      // One generator per worker thread: the hook is shared and const, and a lock or an
      // atomic here would be paid on every record.
      static thread_local absl::InsecureBitGen generator;
      keep = absl::Uniform<uint64_t>(generator, 0, one_in_) == 0;
    }
    return keep ? Verdict::kKeep : Verdict::kDrop;
  }

 private:
  const std::string id_;
  const uint64_t one_in_;
  const Level level_at_most_;
  const uint64_t seed_;
};

}  // namespace

uint64_t TraceSampleHash(uint64_t seed, absl::string_view trace_id) {
  constexpr uint64_t kFnvOffsetBasis = 14695981039346656037u;
  constexpr uint64_t kFnvPrime = 1099511628211u;
  uint64_t hash = kFnvOffsetBasis;
  for (int i = 0; i < 8; ++i) {
    hash = (hash ^ ((seed >> (8 * i)) & 0xFF)) * kFnvPrime;
  }
  for (const char c : trace_id) hash = (hash ^ static_cast<unsigned char>(c)) * kFnvPrime;
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdu;
  hash ^= hash >> 33;
  hash *= 0xc4ceb9fe1a85ec53u;
  hash ^= hash >> 33;
  return hash;
}

std::vector<config::KeyDoc> SampleHookFactory::keys() const { return SampleKeys().docs(); }

std::string SampleHookFactory::example_config() const {
  return "{type: sample, name: info, one_in: 10, level_at_most: info}";
}

absl::StatusOr<std::unique_ptr<Hook>> SampleHookFactory::Create(
    std::string id, const YAML::Node& config, const std::string& config_path) const {
  SampleConfig parsed;
  if (absl::Status status = SampleKeys().Read(config, config_path, parsed, kCommonHookKeys);
      !status.ok()) {
    return status;
  }
  if (parsed.level_at_most >= Level::kWarn) {
    return config::KeyError(config::ChildPath(config_path, "level_at_most"),
                            "must be info or below: WARN and above are always kept");
  }
  return std::make_unique<SampleHook>(std::move(id), parsed);
}

}  // namespace sluice::pipeline::hooks
