#include "server/pipeline/hooks/sample_hook.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/config.h"
#include "server/pipeline/hooks/builtin_hooks.h"
#include "server/pipeline/hooks/hook_registry.h"
#include "tests/pipeline/hooks/hook_test_util.h"

namespace sluice::pipeline::hooks {
namespace {

using ::testing::HasSubstr;

std::string CreateError(const std::string& block) {
  auto hook = CreateHook(HookPhase::kPost, block);
  EXPECT_FALSE(hook.ok());
  return hook.ok() ? "" : std::string(hook.status().message());
}

// A 16-byte trace id, distinct for each `n`.
std::string TraceId(int n) {
  std::string id(16, '\x5a');
  for (int i = 0; i < 4; ++i) id[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return id;
}

bool Kept(const Hook& hook, v1::Level level, const std::string& trace_id) {
  v1::LogRecord log;
  log.set_level(level);
  log.set_trace_id(trace_id);
  HookRecord record(log);
  const Hook::Verdict verdict = hook.OnRecord(record);
  EXPECT_NE(verdict, Hook::Verdict::kFailed);
  return verdict == Hook::Verdict::kKeep;
}

TEST(SampleHookTest, ConfigErrorsNameTheKey) {
  EXPECT_THAT(CreateError("{type: sample, one_in: 0}"),
              HasSubstr("hooks.post[0].one_in: must be between 1 and 1000000, got 0"));
  EXPECT_THAT(CreateError("{type: sample}"),
              HasSubstr("hooks.post[0]: missing required key `one_in`"));
  EXPECT_THAT(CreateError("{type: sample, one_in: 2, level_at_most: warn}"),
              HasSubstr("hooks.post[0].level_at_most: must be info or below: WARN and above are "
                        "always kept"));
  EXPECT_THAT(CreateError("{type: sample, one_in: 2, level_at_most: fatal}"),
              HasSubstr("hooks.post[0].level_at_most:"));
  EXPECT_THAT(CreateError("{type: sample, one_in: 2, one_of: 3}"),
              HasSubstr("hooks.post[0].one_of:"));
  EXPECT_THAT(CreateError("{type: sample, one_in: 2, hash_seed: -1}"),
              HasSubstr("hooks.post[0].hash_seed: must be between 0 and"));
}

TEST(SampleHookTest, RecordsAboveTheLevelAreAlwaysKept) {
  std::unique_ptr<Hook> hook =
      CreateOneHook(HookPhase::kPost, "{type: sample, one_in: 1000000, level_at_most: debug}");
  ASSERT_NE(hook, nullptr);
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(Kept(*hook, v1::LEVEL_INFO, ""));
    EXPECT_TRUE(Kept(*hook, v1::LEVEL_UNSPECIFIED, TraceId(i)));
    EXPECT_TRUE(Kept(*hook, v1::LEVEL_WARN, TraceId(i)));
    EXPECT_TRUE(Kept(*hook, v1::LEVEL_FATAL, ""));
  }
  int kept_debug = 0;
  for (int i = 0; i < 100; ++i) kept_debug += Kept(*hook, v1::LEVEL_DEBUG, TraceId(i)) ? 1 : 0;
  EXPECT_LT(kept_debug, 100);
}

TEST(SampleHookTest, ATraceIsKeptOrDroppedWholeAtAboutOneInN) {
  std::unique_ptr<Hook> hook = CreateOneHook(HookPhase::kPost, "{type: sample, one_in: 4}");
  ASSERT_NE(hook, nullptr);
  int kept_traces = 0;
  for (int trace = 0; trace < 200; ++trace) {
    const bool first = Kept(*hook, v1::LEVEL_INFO, TraceId(trace));
    for (const v1::Level level : {v1::LEVEL_TRACE, v1::LEVEL_DEBUG, v1::LEVEL_INFO}) {
      EXPECT_EQ(Kept(*hook, level, TraceId(trace)), first) << trace;
    }
    kept_traces += first ? 1 : 0;
  }
  // 50 expected, standard deviation 6.1.
  EXPECT_GE(kept_traces, 20);
  EXPECT_LE(kept_traces, 80);
}

TEST(SampleHookTest, TheSameSeedMakesTheSameDecisionsAndAnotherSeedOthers) {
  std::unique_ptr<Hook> first =
      CreateOneHook(HookPhase::kPost, "{type: sample, name: a, one_in: 4, hash_seed: 7}");
  std::unique_ptr<Hook> second =
      CreateOneHook(HookPhase::kPost, "{type: sample, name: b, one_in: 4, hash_seed: 7}");
  std::unique_ptr<Hook> other =
      CreateOneHook(HookPhase::kPost, "{type: sample, name: c, one_in: 4, hash_seed: 8}");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_NE(other, nullptr);
  int differ = 0;
  for (int trace = 0; trace < 200; ++trace) {
    EXPECT_EQ(Kept(*first, v1::LEVEL_INFO, TraceId(trace)),
              Kept(*second, v1::LEVEL_INFO, TraceId(trace)));
    differ +=
        Kept(*first, v1::LEVEL_INFO, TraceId(trace)) != Kept(*other, v1::LEVEL_INFO, TraceId(trace))
            ? 1
            : 0;
  }
  // 75 expected.
  EXPECT_GE(differ, 30);
}

// Other instances, and other versions of Sluice, decide by the same function: these values
// must never change.
TEST(SampleHookTest, TheTraceHashIsFixed) {
  std::string id;
  for (int i = 0; i < 16; ++i) id.push_back(static_cast<char>(i));
  EXPECT_EQ(TraceSampleHash(0, ""), 0x7bd3144f29c0cc9eu);
  EXPECT_EQ(TraceSampleHash(0, id), 0x60b7b07da16351e7u);
  EXPECT_EQ(TraceSampleHash(42, id), 0xc564f474fdbf1074u);
}

TEST(SampleHookTest, RecordsWithoutATraceAreKeptAtRandomOneInN) {
  std::unique_ptr<Hook> hook = CreateOneHook(HookPhase::kPost, "{type: sample, one_in: 4}");
  ASSERT_NE(hook, nullptr);
  int kept = 0;
  for (int i = 0; i < 8000; ++i) kept += Kept(*hook, v1::LEVEL_INFO, "") ? 1 : 0;
  // 2000 expected, standard deviation 39: the bounds are 10 of them away.
  EXPECT_GE(kept, 1600);
  EXPECT_LE(kept, 2400);
}

TEST(SampleHookTest, OneInOneKeepsEveryRecord) {
  std::unique_ptr<Hook> hook =
      CreateOneHook(HookPhase::kPost, "{type: sample, one_in: 1, level_at_most: info}");
  ASSERT_NE(hook, nullptr);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(Kept(*hook, v1::LEVEL_INFO, ""));
    EXPECT_TRUE(Kept(*hook, v1::LEVEL_TRACE, TraceId(i)));
  }
}

}  // namespace
}  // namespace sluice::pipeline::hooks
