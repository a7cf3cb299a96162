#include "server/pipeline/formatted_batch.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/outputs/encoder.h"
#include "server/outputs/encoding_registry.h"
#include "server/pipeline/hooks/record_match.h"

namespace sluice::pipeline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Writes "<message>\n" for each record and counts how many it wrote.
class CountingEncoder final : public outputs::Encoder {
 public:
  explicit CountingEncoder(int* encoded) : encoded_(encoded) {}

  void Append(const outputs::ComposedRecord& record, std::string* out) override {
    ++*encoded_;
    out->append(record.message.data(), record.message.size());
    out->push_back('\n');
  }

 private:
  int* const encoded_;
};

outputs::EncoderFactory CountingFactory(int* encoded) {
  return [encoded] { return std::make_unique<CountingEncoder>(encoded); };
}

class FormattedBatchTest : public ::testing::Test {
 protected:
  void Add(v1::Level level, const std::string& message) {
    v1::LogRecord* record = batch_.records().Add();
    record->set_time_unix_nano(1'000'000'000);
    record->set_level(level);
    record->set_message(message);
  }

  RecordBatch batch_;
  PipelineConfig config_;
  FieldComposer composer_{config_};
  outputs::EncodingRegistry encodings_;
  RecordFormatter formatter_{composer_, encodings_};
};

TEST_F(FormattedBatchTest, CountsTheRecordsAtOrAboveEachLevel) {
  Add(v1::LEVEL_DEBUG, "d");
  Add(v1::LEVEL_UNSPECIFIED, "i");
  Add(v1::LEVEL_ERROR, "e");
  FormattedBatch batch(batch_, formatter_);
  EXPECT_EQ(batch.CountAtLeast(Level::kTrace), 3u);
  EXPECT_EQ(batch.CountAtLeast(Level::kDebug), 3u);
  EXPECT_EQ(batch.CountAtLeast(Level::kInfo), 2u);
  EXPECT_EQ(batch.CountAtLeast(Level::kWarn), 1u);
  EXPECT_EQ(batch.CountAtLeast(Level::kError), 1u);
  EXPECT_EQ(batch.CountAtLeast(Level::kFatal), 0u);
}

TEST_F(FormattedBatchTest, LinesHoldOnlyTheRecordsAtOrAboveTheLevelInOrder) {
  Add(v1::LEVEL_ERROR, "first");
  Add(v1::LEVEL_DEBUG, "hidden");
  Add(v1::LEVEL_WARN, "second");
  FormattedBatch batch(batch_, formatter_);
  EXPECT_EQ(batch.Lines(outputs::kTextEncoding, batch.Select(Level::kInfo)),
            "1970-01-01T00:00:01.000000Z ERROR first\n"
            "1970-01-01T00:00:01.000000Z WARN second\n");
}

TEST_F(FormattedBatchTest, ASecondRequestReturnsTheSameLines) {
  Add(v1::LEVEL_INFO, "once");
  FormattedBatch batch(batch_, formatter_);
  absl::string_view first = batch.Lines(outputs::kJsonEncoding, batch.Select(Level::kInfo));
  absl::string_view second = batch.Lines(outputs::kJsonEncoding, batch.Select(Level::kInfo));
  EXPECT_EQ(first.data(), second.data());
  EXPECT_EQ(first.size(), second.size());
}

TEST_F(FormattedBatchTest, ThresholdsAdmittingTheSameRecordsShareTheirLines) {
  Add(v1::LEVEL_INFO, "a");
  Add(v1::LEVEL_ERROR, "b");
  FormattedBatch batch(batch_, formatter_);
  absl::string_view trace = batch.Lines(outputs::kTextEncoding, batch.Select(Level::kTrace));
  absl::string_view info = batch.Lines(outputs::kTextEncoding, batch.Select(Level::kInfo));
  absl::string_view warn = batch.Lines(outputs::kTextEncoding, batch.Select(Level::kWarn));
  EXPECT_EQ(trace.data(), info.data());
  EXPECT_NE(warn.data(), info.data());
  EXPECT_THAT(std::string(warn), Not(HasSubstr(" a\n")));
}

TEST_F(FormattedBatchTest, EachFormatIsFormattedOnItsOwn) {
  Add(v1::LEVEL_INFO, "hello");
  FormattedBatch batch(batch_, formatter_);
  absl::string_view text = batch.Lines(outputs::kTextEncoding, batch.Select(Level::kInfo));
  absl::string_view json = batch.Lines(outputs::kJsonEncoding, batch.Select(Level::kInfo));
  EXPECT_EQ(text, "1970-01-01T00:00:01.000000Z INFO hello\n");
  EXPECT_EQ(json,
            "{\"time\":\"1970-01-01T00:00:01.000000Z\",\"level\":\"INFO\",\"message\":"
            "\"hello\"}\n");
  // Asking for JSON did not disturb the text already handed out.
  EXPECT_EQ(text, "1970-01-01T00:00:01.000000Z INFO hello\n");
}

TEST_F(FormattedBatchTest, NoRecordAtTheLevelGivesNoLines) {
  Add(v1::LEVEL_DEBUG, "quiet");
  FormattedBatch batch(batch_, formatter_);
  EXPECT_TRUE(batch.Lines(outputs::kTextEncoding, batch.Select(Level::kWarn)).empty());
  EXPECT_TRUE(batch.Lines(outputs::kJsonEncoding, batch.Select(Level::kFatal)).empty());
}

TEST_F(FormattedBatchTest, StampsRecordsWithoutTimeWithTheBatchReceiveTime) {
  Add(v1::LEVEL_INFO, "late");
  batch_.records().Mutable(0)->set_time_unix_nano(0);
  batch_.set_received_at(absl::FromUnixSeconds(2));
  FormattedBatch batch(batch_, formatter_);
  EXPECT_EQ(batch.Lines(outputs::kTextEncoding, batch.Select(Level::kTrace)),
            "1970-01-01T00:00:02.000000Z INFO late\n");
}

hooks::RecordMatch Loggers(std::vector<std::string> loggers) {
  absl::StatusOr<hooks::RecordMatch> match =
      hooks::RecordMatch::Create(std::move(loggers), {}, "m");
  EXPECT_TRUE(match.ok()) << match.status();
  return match.ok() ? *std::move(match) : hooks::RecordMatch();
}

TEST_F(FormattedBatchTest, ARouteSelectsItsRecordsAndEqualRoutesShareTheirLines) {
  int encoded = 0;
  outputs::EncodingRegistry registry;
  const absl::StatusOr<outputs::EncodingId> id = registry.Add("count", CountingFactory(&encoded));
  ASSERT_TRUE(id.ok());
  RecordFormatter formatter(composer_, registry);
  Add(v1::LEVEL_INFO, "a1");
  Add(v1::LEVEL_INFO, "b1");
  Add(v1::LEVEL_ERROR, "a2");
  batch_.records().Mutable(0)->set_logger("audit.login");
  batch_.records().Mutable(1)->set_logger("checkout");
  batch_.records().Mutable(2)->set_logger("audit");
  FormattedBatch batch(batch_, formatter);

  const FormattedBatch::Selection audit = batch.Select(Level::kTrace, Loggers({"audit"}));
  const FormattedBatch::Selection audit_again =
      batch.Select(Level::kInfo, Loggers({"audit", "payments"}));
  EXPECT_EQ(audit, audit_again);
  FormattedBatch::View view(batch, audit);
  EXPECT_EQ(view.count(), 2u);
  EXPECT_TRUE(view.takes(0));
  EXPECT_FALSE(view.takes(1));
  EXPECT_TRUE(view.takes(2));
  EXPECT_EQ(&view.records(), &batch_);
  const absl::string_view lines = view.Lines(*id);
  EXPECT_EQ(lines, "a1\na2\n");
  EXPECT_EQ(FormattedBatch::View(batch, audit_again).Lines(*id).data(), lines.data());
  EXPECT_EQ(encoded, 2);

  // Level and route together; another mask formats on its own.
  const FormattedBatch::Selection audit_errors = batch.Select(Level::kError, Loggers({"audit"}));
  EXPECT_NE(audit_errors, audit);
  EXPECT_EQ(batch.Lines(*id, audit_errors), "a2\n");
  EXPECT_EQ(batch.Lines(*id, batch.Select(Level::kTrace, Loggers({"checkout"}))), "b1\n");
  EXPECT_EQ(encoded, 4);
  // Nothing matched: nothing to write, nothing formatted.
  const FormattedBatch::Selection none = batch.Select(Level::kTrace, Loggers({"payments"}));
  EXPECT_EQ(batch.Count(none), 0u);
  EXPECT_TRUE(batch.Lines(*id, none).empty());
  EXPECT_EQ(encoded, 4);
  EXPECT_EQ(lines, "a1\na2\n");
}

TEST_F(FormattedBatchTest, ARouteThatKeepsEveryRecordOfItsLevelSharesTheLevelsLines) {
  Add(v1::LEVEL_INFO, "a");
  Add(v1::LEVEL_ERROR, "b");
  batch_.records().Mutable(0)->set_logger("audit");
  batch_.records().Mutable(1)->set_logger("checkout");
  FormattedBatch batch(batch_, formatter_);
  const FormattedBatch::Selection errors = batch.Select(Level::kError);
  const FormattedBatch::Selection checkout_errors =
      batch.Select(Level::kError, Loggers({"checkout"}));
  EXPECT_EQ(errors, checkout_errors);
  EXPECT_EQ(batch.Select(Level::kTrace), batch.Select(Level::kInfo, hooks::RecordMatch()));
}

TEST_F(FormattedBatchTest, CountUnionCountsEachRecordOnceAcrossLevelsAndRoutes) {
  Add(v1::LEVEL_DEBUG, "d");
  Add(v1::LEVEL_INFO, "i");
  Add(v1::LEVEL_WARN, "w");
  Add(v1::LEVEL_ERROR, "e");
  batch_.records().Mutable(0)->set_logger("audit");
  batch_.records().Mutable(2)->set_logger("audit");
  FormattedBatch batch(batch_, formatter_);
  const FormattedBatch::Selection warn = batch.Select(Level::kWarn);
  const FormattedBatch::Selection info = batch.Select(Level::kInfo);
  const FormattedBatch::Selection audit = batch.Select(Level::kTrace, Loggers({"audit"}));
  EXPECT_EQ(batch.CountUnion({}), 0u);
  EXPECT_EQ(batch.CountUnion({warn, info}), 3u);
  EXPECT_EQ(batch.CountUnion({warn, audit}), 3u);  // d, w, e
  EXPECT_EQ(batch.CountUnion({audit, info}), 4u);
  EXPECT_EQ(batch.CountUnion({FormattedBatch::Selection(), audit}), 2u);
}

TEST_F(FormattedBatchTest, ExposesTheRecords) {
  Add(v1::LEVEL_INFO, "x");
  FormattedBatch batch(batch_, formatter_);
  EXPECT_EQ(&batch.records(), &batch_);
}

TEST_F(FormattedBatchTest, ViewsGiveEachRecordsLayersOrAllAdHocWithoutThem) {
  Add(v1::LEVEL_INFO, "x");
  Add(v1::LEVEL_INFO, "y");
  for (const char* key : {"a", "b", "c"}) batch_.records().Mutable(1)->add_fields()->set_key(key);
  const std::vector<FieldLayers> layers = {FieldLayers{0, 0}, FieldLayers{1, 2}};
  FormattedBatch layered(batch_, formatter_, layers);
  FormattedBatch::View view(layered, layered.Select(Level::kTrace));
  EXPECT_EQ(view.layers(0), (FieldLayers{0, 0}));
  EXPECT_EQ(view.layers(1), (FieldLayers{1, 2}));

  FormattedBatch plain(batch_, formatter_);
  FormattedBatch::View plain_view(plain, plain.Select(Level::kTrace));
  EXPECT_EQ(plain_view.layers(0), FieldLayers::AllAdHoc(0));
  EXPECT_EQ(plain_view.layers(1), FieldLayers::AllAdHoc(3));
}

TEST_F(FormattedBatchTest, AnAddedEncodingIsFormattedOncePerEncodingAndThreshold) {
  Add(v1::LEVEL_INFO, "a");
  Add(v1::LEVEL_ERROR, "b");
  outputs::EncodingRegistry registry;
  int first_encoded = 0;
  int second_encoded = 0;
  const absl::StatusOr<outputs::EncodingId> first =
      registry.Add("first", CountingFactory(&first_encoded));
  const absl::StatusOr<outputs::EncodingId> second =
      registry.Add("second", CountingFactory(&second_encoded));
  ASSERT_TRUE(first.ok() && second.ok());
  RecordFormatter formatter(composer_, registry);
  FormattedBatch batch(batch_, formatter);

  const absl::string_view all = batch.Lines(*first, batch.Select(Level::kTrace));
  EXPECT_EQ(all, "a\nb\n");
  EXPECT_EQ(batch.Lines(*first, batch.Select(Level::kInfo)).data(), all.data());
  EXPECT_EQ(first_encoded, 2);
  EXPECT_EQ(batch.Lines(*first, batch.Select(Level::kWarn)), "b\n");
  EXPECT_EQ(first_encoded, 3);

  EXPECT_EQ(batch.Lines(*second, batch.Select(Level::kInfo)), "a\nb\n");
  EXPECT_EQ(second_encoded, 2);
  EXPECT_EQ(first_encoded, 3);
  EXPECT_EQ(batch.Lines(outputs::kTextEncoding, batch.Select(Level::kError)),
            "1970-01-01T00:00:01.000000Z ERROR b\n");
  // Later encodings did not disturb the lines already handed out.
  EXPECT_EQ(all, "a\nb\n");
}

TEST_F(FormattedBatchTest, EachWorkersFormatterHasItsOwnEncoders) {
  Add(v1::LEVEL_INFO, "a");
  outputs::EncodingRegistry registry;
  int encoded = 0;
  const absl::StatusOr<outputs::EncodingId> id = registry.Add("count", CountingFactory(&encoded));
  ASSERT_TRUE(id.ok());
  RecordFormatter one(composer_, registry);
  RecordFormatter other(composer_, registry);
  FormattedBatch first(batch_, one);
  FormattedBatch second(batch_, other);
  EXPECT_EQ(first.Lines(*id, first.Select(Level::kInfo)), "a\n");
  EXPECT_EQ(second.Lines(*id, second.Select(Level::kInfo)), "a\n");
  EXPECT_EQ(encoded, 2);
}

TEST_F(FormattedBatchTest, AnEncodingTheFormatterDoesNotHaveAborts) {
  Add(v1::LEVEL_INFO, "a");
  outputs::EncodingRegistry larger;
  int encoded = 0;
  const absl::StatusOr<outputs::EncodingId> id = larger.Add("count", CountingFactory(&encoded));
  ASSERT_TRUE(id.ok());
  FormattedBatch batch(batch_, formatter_);
  EXPECT_DEATH(batch.Lines(*id, batch.Select(Level::kInfo)),
               "lines asked for encoding [0-9]+ of [0-9]+");
}

}  // namespace
}  // namespace sluice::pipeline
