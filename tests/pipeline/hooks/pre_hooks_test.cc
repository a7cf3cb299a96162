// The pre-hooks (call_hooks.h) and the pre-hook side of HookChain (RunPre).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "server/config/config.h"
#include "server/pipeline/hooks/builtin_hooks.h"
#include "server/pipeline/hooks/call_hooks.h"
#include "server/pipeline/hooks/hook_chain.h"
#include "server/pipeline/hooks/hook_registry.h"
#include "tests/pipeline/hooks/hook_test_util.h"

namespace sluice::pipeline::hooks {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<Hook> CreatePre(const std::string& block) {
  return CreateOneHook(HookPhase::kPre, block);
}

std::string PreError(const std::string& block) {
  auto hooks = CreateHooks(HookPhase::kPre, "hooks: {pre: [" + block + "]}");
  return hooks.ok() ? std::string("ok") : std::string(hooks.status().message());
}

// A call as Admission describes it to the pre-hooks, over strings the test owns.
class TestCall {
 public:
  explicit TestCall(std::string peer = "ipv4:127.0.0.1:5555") : peer_(std::move(peer)) {
    call_.peer = peer_;
    call_.metadata = &metadata_;
    call_.received_at = absl::FromUnixNanos(1795860000123456789);  // 2026-11-28T10:00:00Z
  }
  void AddMetadata(std::string key, std::string value) {
    strings_.push_back(std::make_unique<std::string>(std::move(key)));
    const std::string& stored_key = *strings_.back();
    strings_.push_back(std::make_unique<std::string>(std::move(value)));
    metadata_.emplace(grpc::string_ref(stored_key), grpc::string_ref(*strings_.back()));
  }
  HookCall& call() { return call_; }

 private:
  std::string peer_;
  std::vector<std::unique_ptr<std::string>> strings_;
  CallMetadata metadata_;
  HookCall call_;
};

// Runs `hook` over a record with one ad-hoc field; returns the verdict, leaves the record.
Hook::Verdict RunOne(const Hook& hook, TestCall& call, v1::LogRecord& log) {
  v1::Field* app = log.add_fields();
  app->set_key("app");
  app->set_string_value("ad-hoc");
  HookRecord record(log, HookPhase::kPre, FieldLayers::AllAdHoc(1), &call.call());
  return hook.OnRecord(record);
}

// The pre-hook fields of `log` (those after the ad-hoc "app"), "key=value".
std::vector<std::string> PreFields(const v1::LogRecord& log) {
  std::vector<std::string> fields;
  for (int i = 1; i < log.fields_size(); ++i) {
    const v1::Field& field = log.fields(i);
    fields.push_back(field.key() + "=" +
                     (field.has_int_value() ? "int:" + std::to_string(field.int_value())
                                            : field.string_value()));
  }
  return fields;
}

TEST(PreHookConfigTest, EntriesGetTypeSlashNameIds) {
  auto hooks = CreateHooks(HookPhase::kPre,
                           "hooks:\n  pre:\n    - {type: metadata, name: tenant, keys: {x-tenant: "
                           "tenant}}\n    - {type: sequence}\n");
  ASSERT_TRUE(hooks.ok()) << hooks.status();
  ASSERT_EQ(hooks->size(), 2u);
  EXPECT_EQ((*hooks)[0]->id(), "metadata/tenant");
  EXPECT_EQ((*hooks)[1]->id(), "sequence/sequence");
}

TEST(PreHookConfigTest, APostTypeInPreIsRefusedListingThePreTypes) {
  EXPECT_THAT(PreError("{type: add_fields, fields: {a: b}}"),
              HasSubstr("hooks.pre[0].type: unknown hook type \"add_fields\"; known pre-hook "
                        "types: metadata, peer, receive_time, sequence"));
}

TEST(PreHookConfigTest, APreTypeInPostIsRefusedListingThePostTypes) {
  auto hooks = CreateHooks(HookPhase::kPost, "hooks: {post: [{type: sequence}]}");
  ASSERT_FALSE(hooks.ok());
  EXPECT_EQ(hooks.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(hooks.status().message(),
              HasSubstr("hooks.post[0].type: unknown hook type \"sequence\"; known post-hook "
                        "types: add_fields"));
  EXPECT_THAT(hooks.status().message(), Not(HasSubstr("receive_time")));
}

TEST(PreHookConfigTest, MetadataNeedsKeys) {
  EXPECT_THAT(PreError("{type: metadata}"), HasSubstr("hooks.pre[0]"));
  EXPECT_THAT(PreError("{type: metadata}"), HasSubstr("keys"));
  EXPECT_THAT(PreError("{type: metadata, keys: {}}"),
              HasSubstr("hooks.pre[0].keys: must not be empty"));
}

TEST(PreHookConfigTest, MetadataRefusesUppercaseAndBinaryKeys) {
  EXPECT_THAT(PreError("{type: metadata, keys: {X-Tenant: tenant}}"),
              HasSubstr("hooks.pre[0].keys.X-Tenant: metadata keys are lowercase"));
  EXPECT_THAT(PreError("{type: metadata, keys: {x-token-bin: token}}"),
              HasSubstr("hooks.pre[0].keys.x-token-bin: binary (-bin) metadata"));
}

TEST(PreHookConfigTest, UnknownKeysAndFormatsAreNamedByTheirPath) {
  EXPECT_THAT(PreError("{type: peer, with_prot: true}"), HasSubstr("hooks.pre[0].with_prot"));
  EXPECT_THAT(PreError("{type: receive_time, format: iso}"), HasSubstr("hooks.pre[0].format"));
  EXPECT_THAT(PreError("{type: sequence, key: \"\"}"),
              HasSubstr("hooks.pre[0].key: must not be empty"));
}

TEST(ReceiveTimeHookTest, WritesRfc3339UtcWithNanosecondsByDefault) {
  std::unique_ptr<Hook> hook = CreatePre("{type: receive_time}");
  TestCall call;
  v1::LogRecord log;
  EXPECT_EQ(RunOne(*hook, call, log), Hook::Verdict::kKeep);
  EXPECT_THAT(PreFields(log), ElementsAre("received_at=2026-11-28T10:00:00.123456789Z"));
}

TEST(ReceiveTimeHookTest, WritesUnixNumbersAsIntegers) {
  TestCall call;
  v1::LogRecord nanos;
  RunOne(*CreatePre("{type: receive_time, format: unix_nanos, key: t}"), call, nanos);
  EXPECT_THAT(PreFields(nanos), ElementsAre("t=int:1795860000123456789"));
  v1::LogRecord millis;
  RunOne(*CreatePre("{type: receive_time, format: unix_millis}"), call, millis);
  EXPECT_THAT(PreFields(millis), ElementsAre("received_at=int:1795860000123"));
}

TEST(PeerHookTest, WritesTheHostWithoutSchemeOrPort) {
  std::unique_ptr<Hook> hook = CreatePre("{type: peer}");
  TestCall v4("ipv4:127.0.0.1:5555");
  v1::LogRecord log4;
  EXPECT_EQ(RunOne(*hook, v4, log4), Hook::Verdict::kKeep);
  EXPECT_THAT(PreFields(log4), ElementsAre("peer=127.0.0.1"));
  TestCall v6("ipv6:[::1]:5555");
  v1::LogRecord log6;
  RunOne(*hook, v6, log6);
  EXPECT_THAT(PreFields(log6), ElementsAre("peer=[::1]"));
  TestCall unix_socket("unix:/run/sluice.sock");
  v1::LogRecord log_unix;
  RunOne(*hook, unix_socket, log_unix);
  EXPECT_THAT(PreFields(log_unix), ElementsAre("peer=unix:/run/sluice.sock"));
}

TEST(PeerHookTest, WithPortKeepsThePort) {
  TestCall call("ipv6:[::1]:5555");
  v1::LogRecord log;
  RunOne(*CreatePre("{type: peer, key: client, with_port: true}"), call, log);
  EXPECT_THAT(PreFields(log), ElementsAre("client=[::1]:5555"));
}

TEST(MetadataHookTest, CopiesTheChosenKeysAndSkipsAbsentOnes) {
  std::unique_ptr<Hook> hook =
      CreatePre("{type: metadata, keys: {x-tenant: tenant, x-region: region, x-absent: gone}}");
  TestCall call;
  call.AddMetadata("x-region", "eu-1");
  call.AddMetadata("x-tenant", "acme");
  call.AddMetadata("x-tenant", "second");
  call.AddMetadata("x-other", "not chosen");
  v1::LogRecord log;
  EXPECT_EQ(RunOne(*hook, call, log), Hook::Verdict::kKeep);
  EXPECT_THAT(PreFields(log), ElementsAre("tenant=acme", "region=eu-1"));
}

TEST(MetadataHookTest, FailsWithoutSettingAnythingOnAnUnprintableOrLongValue) {
  std::unique_ptr<Hook> hook = CreatePre("{type: metadata, keys: {x-tenant: tenant, x-bad: bad}}");
  TestCall unprintable;
  unprintable.AddMetadata("x-tenant", "acme");
  unprintable.AddMetadata("x-bad", "caf\xc3\xa9");
  v1::LogRecord log;
  EXPECT_EQ(RunOne(*hook, unprintable, log), Hook::Verdict::kFailed);
  EXPECT_THAT(PreFields(log), ElementsAre());

  TestCall long_value;
  long_value.AddMetadata("x-bad", std::string(MetadataHookFactory::kMaxValueBytes + 1, 'a'));
  v1::LogRecord long_log;
  EXPECT_EQ(RunOne(*hook, long_value, long_log), Hook::Verdict::kFailed);
  EXPECT_THAT(PreFields(long_log), ElementsAre());

  TestCall at_limit;
  at_limit.AddMetadata("x-bad", std::string(MetadataHookFactory::kMaxValueBytes, 'a'));
  v1::LogRecord at_limit_log;
  EXPECT_EQ(RunOne(*hook, at_limit, at_limit_log), Hook::Verdict::kKeep);
  EXPECT_EQ(at_limit_log.fields_size(), 2);
}

TEST(SequenceHookTest, WritesTheCallsSequenceAsAnInteger) {
  TestCall call;
  call.call().sequence = 42;
  v1::LogRecord log;
  RunOne(*CreatePre("{type: sequence, key: seq}"), call, log);
  EXPECT_THAT(PreFields(log), ElementsAre("seq=int:42"));
}

// Drops every record with message "drop".
class DropMarkedHook final : public Hook {
 public:
  absl::string_view id() const override { return "drop_marked/x"; }
  Verdict OnRecord(HookRecord& record) const override {
    return record.record().message() == "drop" ? Verdict::kDrop : Verdict::kKeep;
  }
};

double CounterValue(prometheus::Registry& registry, const std::string& name,
                    const std::string& hook) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      if (metric.label[0].value == hook) return metric.counter.value;
    }
  }
  return -1;
}

TEST(HookChainRunPreTest, NumbersEveryRecordDropsMarkedOnesAndReturnsTheirLayers) {
  std::vector<std::unique_ptr<Hook>> hooks;
  hooks.push_back(CreatePre("{type: sequence, name: first}"));
  hooks.push_back(std::make_unique<DropMarkedHook>());
  hooks.push_back(CreatePre("{type: sequence, name: second, key: again}"));
  prometheus::Registry registry;
  HookChain chain(std::move(hooks), &registry);

  RecordBatch::Records records;
  for (const char* message : {"a", "drop", "b"}) {
    v1::LogRecord* record = records.Add();
    record->set_message(message);
    v1::Field* app = record->add_fields();
    app->set_key("app");
    app->set_string_value("ad-hoc");
  }
  TestCall call;
  call.call().sequence = 10;  // the stream's earlier messages took 1..10
  std::vector<FieldLayers> layers;
  EXPECT_EQ(chain.RunPre(records, call.call(), &layers), 1u);
  ASSERT_EQ(records.size(), 2);
  EXPECT_THAT(PreFields(records[0]), ElementsAre("sequence=int:11", "again=int:11"));
  EXPECT_THAT(PreFields(records[1]), ElementsAre("sequence=int:13", "again=int:13"));
  EXPECT_EQ(call.call().sequence, 13u);
  EXPECT_THAT(layers, ElementsAre(FieldLayers{.adhoc_end = 1, .pre_end = 3},
                                  FieldLayers{.adhoc_end = 1, .pre_end = 3}));
  EXPECT_EQ(CounterValue(registry, "sluice_hook_records_dropped_total", "drop_marked/x"), 1);
}

TEST(HookChainRunPreTest, CountsFailuresInTheFamiliesThePostChainSharesOnOneRegistry) {
  prometheus::Registry registry;
  std::vector<std::unique_ptr<Hook>> post;
  auto created = CreateHooks(HookPhase::kPost, "hooks: {post: [{type: rename, fields: {a: b}}]}");
  ASSERT_TRUE(created.ok()) << created.status();
  HookChain post_chain(std::move(*created), &registry);
  std::vector<std::unique_ptr<Hook>> pre;
  pre.push_back(CreatePre("{type: metadata, name: tenant, keys: {x-tenant: tenant}}"));
  HookChain pre_chain(std::move(pre), &registry);

  RecordBatch::Records records;
  records.Add();
  records.Add();
  TestCall call;
  call.AddMetadata("x-tenant", "bad\n");
  std::vector<FieldLayers> layers;
  EXPECT_EQ(pre_chain.RunPre(records, call.call(), &layers), 0u);
  EXPECT_EQ(records.size(), 2);
  EXPECT_EQ(records[0].fields_size(), 0);

  int error_families = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name == "sluice_hook_errors_total") ++error_families;
  }
  EXPECT_EQ(error_families, 1);
  EXPECT_EQ(CounterValue(registry, "sluice_hook_errors_total", "metadata/tenant"), 2);
  EXPECT_EQ(CounterValue(registry, "sluice_hook_errors_total", "rename/rename"), 0);
}

TEST(HookChainRunPreTest, AnEmptyChainLeavesRecordsAndSequenceAlone) {
  HookChain chain;
  RecordBatch::Records records;
  records.Add();
  TestCall call;
  std::vector<FieldLayers> layers;
  EXPECT_EQ(chain.RunPre(records, call.call(), &layers), 0u);
  EXPECT_TRUE(layers.empty());
  EXPECT_EQ(call.call().sequence, 0u);
}

}  // namespace
}  // namespace sluice::pipeline::hooks
