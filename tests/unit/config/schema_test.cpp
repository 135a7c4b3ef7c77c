// The schema machinery (daemon/config/schema.h): a declaration reads its value with its bounds,
// keeps the default when the key is absent, hides a secret when dumped, and yields README.md's
// reference row; the README's tables agree with the declarations (daemon/config/fields.cpp).

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "daemon/config/loader.h"
#include "daemon/config/reference.h"
#include "daemon/config/schema.h"
#include "daemon/config/yaml_reader.h"
#include "daemon/core/redact.h"
#include "tests/unit/config/test_support.h"

namespace sfkb::config {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// A mapping declared only here, so that the machinery is tested apart from the real settings.
struct Toy {
  milliseconds wait{1500};
  int count = 3;
  std::string name = "plain";
  std::string token;
};

const schema::Schema<Toy>& toy_schema() {
  static const schema::Schema<Toy> s{{
      schema::duration(&Toy::wait, DurationRange{milliseconds(10), milliseconds(60000)},
                       {.key = "wait", .doc = "how long"}),
      schema::integer(&Toy::count, Range<long long>{1, 5}, {.key = "count", .doc = "how many"}),
      schema::text(&Toy::name, {.key = "name", .doc = "what"}),
      schema::text(&Toy::token, {.key = "token", .doc = "credential", .secret = true}),
  }};
  return s;
}

struct ToyResult {
  Toy toy;
  std::vector<std::string> problems;
};

ToyResult read_toy(const std::string& yaml) {
  ToyResult result;
  Config unused;
  const EnvLookup env = testing::env_of({});
  Reader reader(env, "", unused);
  const YAML::Node root = YAML::Load(yaml);
  if (auto top = reader.map(root["toy"], "toy", toy_schema().keys())) {
    toy_schema().read(reader, *top, result.toy);
  }
  for (const auto& problem : reader.take_problems()) {
    result.problems.push_back(problem.to_string());
  }
  return result;
}

TEST(Schema, ShouldNameThePathAndLineOfAValueOutsideItsBounds) {
  const auto result = read_toy("toy:\n  name: x\n  wait: 2m\n  count: 9\n");
  EXPECT_THAT(result.problems,
              ElementsAre("toy.wait: must be between 10ms and 1m, got \"2m\" (line 3, column 9)",
                          "toy.count: must be between 1 and 5, got 9 (line 4, column 10)"));
  // A rejected value leaves the default in place rather than a clamped one.
  EXPECT_EQ(result.toy.wait, milliseconds(1500));
  EXPECT_EQ(result.toy.count, 3);
}

TEST(Schema, ShouldApplyTheDefaultOfAnAbsentKeyAndReadAPresentOne) {
  const auto result = read_toy("toy:\n  count: 5\n");
  EXPECT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.toy.count, 5);
  EXPECT_EQ(result.toy.wait, milliseconds(1500));
  EXPECT_EQ(result.toy.name, "plain");
}

TEST(Schema, ShouldRejectAKeyItDoesNotDeclare) {
  const auto result = read_toy("toy:\n  wiat: 5s\n");
  EXPECT_THAT(result.problems,
              ElementsAre("toy.wiat: unknown key; valid keys here: wait, count, name, token "
                          "(line 2, column 3)"));
}

TEST(Schema, ShouldHideASecretWhenDumpedAndShowTheRest) {
  Toy toy;
  toy.token = "tok-123456";
  toy.name = "visible";
  YAML::Emitter out;
  toy_schema().emit(out, toy);
  const std::string yaml = out.c_str();
  EXPECT_THAT(yaml, Not(HasSubstr("tok-123456")));
  EXPECT_THAT(yaml, HasSubstr("token: \"***\""));
  EXPECT_THAT(yaml, HasSubstr("name: \"visible\""));
  EXPECT_THAT(yaml, HasSubstr("wait: 1500ms"));
  std::vector<std::string> secrets;
  toy_schema().secrets(toy, secrets);
  EXPECT_THAT(secrets, ElementsAre("tok-123456"));
}

TEST(Schema, ShouldDescribeEachDeclarationInOneReferenceRow) {
  std::vector<schema::Row> rows;
  toy_schema().rows("toy.", Toy{}, rows);
  ASSERT_EQ(rows.size(), 4U);
  EXPECT_EQ(rows[0].key, "toy.wait");
  EXPECT_EQ(rows[0].default_text, "`1500ms`");
  EXPECT_EQ(rows[0].meaning, "how long; `10ms`–`1m`");
  EXPECT_EQ(rows[1].meaning, "how many; 1–5");
  EXPECT_EQ(rows[2].default_text, "`plain`");
  EXPECT_EQ(rows[3].default_text, "`\"\"`");
  EXPECT_EQ(rows[3].meaning, "credential; secret");
}

// check-config's output: every setting declared secret is hidden, the way core/redact.h's rule
// (by name) hid them before the schema declared them.
TEST(Schema, ShouldDeclareSecretExactlyTheTextSettingsWhoseNameIsSecret) {
  for (const auto& row : reference_rows()) {
    if (row.type != "text" && row.type != "path") {
      continue;
    }
    const std::string leaf = row.key.substr(row.key.rfind('.') + 1);
    EXPECT_EQ(row.secret, core::is_secret_key(leaf)) << row.key;
  }
}

TEST(Schema, ShouldRedactADeclaredSecretInTheEffectiveConfiguration) {
  const auto result = load_string(
      "salesforce:\n  auth:\n    flow: client_credentials\n    client_id: id-visible\n"
      "    client_secret: s3cr3t-value\nkafka:\n  embedded: true\n"
      "publish:\n  - topics: [a]\n    event: A__e\n    on_error: fail\n",
      "test.yaml", testing::env_of({}));
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(testing::problem_lines(result));
  const std::string yaml = to_yaml(result.config());
  EXPECT_THAT(yaml, Not(HasSubstr("s3cr3t-value")));
  EXPECT_THAT(yaml, HasSubstr("client_secret: \"***\""));
  EXPECT_THAT(yaml, HasSubstr("client_id: \"id-visible\""));
}

std::string read_readme() {
  std::ifstream in(std::string(SFKB_SOURCE_DIR) + "/README.md", std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ConfigReference, ReadmeTablesShouldMatchTheSchema) {
  const std::string readme = read_readme();
  ASSERT_THAT(readme, HasSubstr(std::string(kReferenceBegin)));
  EXPECT_THAT(reference_problems(readme), IsEmpty())
      << "README.md's configuration tables differ from daemon/config/fields.cpp; regenerate "
         "them with: "
      << kRegenerateCommand;
}

TEST(ConfigReference, ShouldFailWhenTheReadmeLacksARow) {
  std::string readme = read_readme();
  const std::string row = "| `connect_timeout` |";
  const auto begin = readme.find(row);
  ASSERT_NE(begin, std::string::npos);
  readme.erase(begin, readme.find('\n', begin) + 1 - begin);
  const auto problems = reference_problems(readme);
  ASSERT_THAT(problems, Not(IsEmpty()));
  EXPECT_THAT(problems[0], HasSubstr("connect_timeout"));
  // Regenerating puts it back.
  EXPECT_THAT(reference_problems(update_reference(readme)), IsEmpty());
}

TEST(ConfigReference, ShouldFailWhenNoTableShowsASection) {
  std::string readme = read_readme();
  const std::string marker = std::string(kReferenceBegin) + "checkpoint limits -->";
  const auto begin = readme.find(marker);
  ASSERT_NE(begin, std::string::npos);
  const auto end = readme.find(kReferenceEnd, begin) + kReferenceEnd.size();
  readme.erase(begin, end - begin);
  EXPECT_THAT(
      reference_problems(readme),
      ElementsAre("no table shows checkpoint.directory", "no table shows checkpoint.interval",
                  "no table shows checkpoint.store", "no table shows checkpoint.topic",
                  "no table shows limits.max_in_flight_events",
                  "no table shows limits.poll_interval", "no table shows limits.warn_at",
                  "no table shows limits.max_events_per_hour", "no table shows limits.budget",
                  "no table shows limits.max_api_requests_per_day",
                  "no table shows limits.api_budget"));
}

}  // namespace
}  // namespace sfkb::config
