// Holds docs/METRICS.md to what a real sluiced exposes: every family the doc lists is in a
// scrape, with the documented type, and no `sluice_` family is exposed that the doc does
// not list. The doc's tables are read as data: a row whose first cell is one backticked
// name documents that family, and its second cell is the family's type. A row that says
// "*On first error.*" documents a family without series until something fails; it is not
// required in the scrape, but checked like the others when it is there.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice::e2e {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// Family name -> type ("counter", "gauge", "histogram", "summary").
using Families = std::map<std::string, std::string>;

constexpr char kMetricsDoc[] = SLUICE_SOURCE_DIR "/docs/METRICS.md";

// Output types the metrics carry an `output` label for (the file output with fsync and
// compression on; an otlp output that no record is routed to, for its own family), and a
// post-hook for the `hook` label, so every family has series.
constexpr char kConfig[] = R"(
scheduler: { workers: 2 }
hooks:
  post:
    - { type: drop, name: no-debug, level_at_most: debug }
outputs:
  - { type: file, name: main, path: "$DIR/records.log", flush_interval: 50ms, fsync: always,
      compress: gzip }
  - { type: "null", name: sink }
  - { type: otlp, name: vendor, endpoint: "127.0.0.1:9", level: fatal }
)";

constexpr absl::string_view kOnFirstError = "*On first error.*";

Families DocumentedFamilies(absl::string_view markdown, std::set<std::string>* on_first_error) {
  Families families;
  for (absl::string_view line : absl::StrSplit(markdown, '\n')) {
    if (!absl::ConsumePrefix(&line, "| `")) continue;
    const std::vector<absl::string_view> cells = absl::StrSplit(line, '|');
    if (cells.size() < 2) continue;
    absl::string_view name = absl::StripAsciiWhitespace(cells[0]);
    if (!absl::ConsumeSuffix(&name, "`") || absl::StrContains(name, '`')) continue;
    families[std::string(name)] = std::string(absl::StripAsciiWhitespace(cells[1]));
    if (absl::StrContains(line, kOnFirstError)) on_first_error->insert(std::string(name));
  }
  return families;
}

Families ExposedFamilies(absl::string_view exposition) {
  Families families;
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (!absl::ConsumePrefix(&line, "# TYPE ")) continue;
    const std::vector<std::string> words = absl::StrSplit(line, ' ');
    if (words.size() == 2) families[words[0]] = words[1];
  }
  return families;
}

TEST(MetricsDocTest, ReadsFamiliesFromTableRowsWhoseFirstCellIsOneName) {
  std::set<std::string> on_first_error;
  const Families families = DocumentedFamilies(R"(
| Family | Type | Unit | Labels | Meaning |
|---|---|---|---|---|
| `sluice_a_total` | counter | records | `rpc` | Mentions `sluice_b` in passing. |
| `sluice_c` \| `sluice_d` | gauge | | | Not one name: ignored. |
Text that names `sluice_e` outside a table.
| `sluice_f_seconds` | histogram | seconds | none | |
| `sluice_g_total` | counter | errors | `errno` | Failures. *On first error.* |
)",
                                               &on_first_error);
  EXPECT_THAT(families,
              ElementsAre(Pair("sluice_a_total", "counter"), Pair("sluice_f_seconds", "histogram"),
                          Pair("sluice_g_total", "counter")));
  EXPECT_THAT(on_first_error, ElementsAre("sluice_g_total"));
}

TEST(MetricsDocTest, DocumentsExactlyTheFamiliesARealServerExposes) {
  std::set<std::string> on_first_error;
  const Families documented = DocumentedFamilies(ReadFile(kMetricsDoc), &on_first_error);
  // A doc the parser cannot read would make the checks below pass vacuously.
  ASSERT_GE(documented.size(), 20u) << kMetricsDoc << " has too few family rows";

  absl::StatusOr<std::unique_ptr<SluicedProcess>> server = SluicedProcess::Start(kConfig);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string sluice =
      absl::StrCat(ShellQuote(SluicedProcess::CliPath()), " --target ", (*server)->ingest_target(),
                   " --admin ", (*server)->admin_target());
  for (const std::string& command :
       {absl::StrCat("seq 1 10 | ", sluice, " send --logger demo"),
        // An admin call creates sluice_admin_requests_total's first series.
        absl::StrCat(sluice, " level get")}) {
    absl::StatusOr<CommandResult> result = RunShell(command);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->exit_code, 0) << command << ": " << result->stderr_text;
  }
  ASSERT_TRUE(
      (*server)->AwaitMetric(R"(sluice_output_records_sent_total{output="file/main"})", 10));
  absl::StatusOr<std::string> exposition = (*server)->ScrapeMetrics();
  ASSERT_TRUE(exposition.ok()) << exposition.status();
  const Families exposed = ExposedFamilies(*exposition);

  for (const auto& [name, type] : documented) {
    const auto it = exposed.find(name);
    if (it == exposed.end()) {
      if (on_first_error.contains(name)) continue;
      ADD_FAILURE() << name << " is documented in docs/METRICS.md but not exposed";
    } else {
      EXPECT_EQ(it->second, type) << name << ": the exposed type differs from docs/METRICS.md";
    }
  }
  for (const auto& [name, type] : exposed) {
    if (absl::StartsWith(name, "sluice_") && !documented.contains(name)) {
      ADD_FAILURE() << name << " (" << type << ") is exposed but not documented in docs/METRICS.md";
    }
  }
  ASSERT_TRUE((*server)->Terminate().ok());
  const absl::StatusOr<int> exit_code = (*server)->WaitForExit();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

}  // namespace
}  // namespace sluice::e2e
