// RecordMatch: which records a rule is about, by logger and by field value. The one
// definition of "this record matches" for the output routes (an output block's `loggers`
// and `match`, used by the pipeline through FormattedBatch::Select) and for the `drop`
// post-hook (drop_hook.cc), so the two cannot drift apart.
//
// A record matches when its logger is under one of `loggers` (any one; no list: every
// logger) and every `match` and `equals` entry holds (all of them). A logger is under a
// prefix on dot boundaries: `checkout` covers `checkout` and `checkout.db`, not
// `checkouts`. A `match` value is either literal text, equal to the field's value, or
// `/regex/`, an RE2 pattern found anywhere in the value (partial match, like grep; anchor
// it with ^ and $ to match the whole value). An `equals` value is always literal, so
// `equals: {path: /health/}` means that path. A number or boolean field is compared as its
// text (`200`, `1.5`, `true`); a bytes field, or a record without the field, never matches.
//
// Which field is compared, when a record has several with the key: the one the outputs
// show (FieldComposer's override order), the strongest layer's last — a post-hook field,
// else an ad-hoc one, else a pre-hook one.
//
// Built once at start-up; Matches is const, allocates nothing and is safe from every worker
// at once (RE2 is).
#ifndef SLUICE_SERVER_PIPELINE_HOOKS_RECORD_MATCH_H_
#define SLUICE_SERVER_PIPELINE_HOOKS_RECORD_MATCH_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "re2/re2.h"
#include "server/common/field_layers.h"
#include "sluice/v1/logs.pb.h"

namespace sluice::pipeline::hooks {

// True if `logger` is `prefix` or under it on a dot boundary.
bool UnderLogger(absl::string_view logger, absl::string_view prefix);

class RecordMatch {
 public:
  using FieldValues = std::vector<std::pair<std::string, std::string>>;

  // Matches every record.
  RecordMatch() = default;

  // `match` values are text or /regex/; `equals` values are text only. A pattern that does
  // not compile is INVALID_ARGUMENT naming its key under `match_path` ("outputs[2].match.user:
  // ...").
  static absl::StatusOr<RecordMatch> Create(std::vector<std::string> loggers,
                                            const FieldValues& match, absl::string_view match_path,
                                            const FieldValues& equals = {});

  // True when it matches every record: no logger and no field condition.
  bool empty() const { return loggers_.empty() && fields_.empty(); }

  // Whether `record`, whose fields are in `layers`, matches.
  bool Matches(const v1::LogRecord& record, FieldLayers layers) const;

 private:
  struct FieldCondition {
    std::string key;
    // The literal value, when `regex` is null.
    std::string value;
    std::shared_ptr<const RE2> regex;

    bool Holds(absl::string_view text) const;
    bool Holds(const v1::Field& field) const;
  };

  std::vector<std::string> loggers_;
  std::vector<FieldCondition> fields_;
};

}  // namespace sluice::pipeline::hooks

#endif  // SLUICE_SERVER_PIPELINE_HOOKS_RECORD_MATCH_H_
