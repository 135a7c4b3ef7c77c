// The metrics catalog (daemon/ops/metric_catalog.h) is the one list of metrics: the README's table
// is generated from it, and registering a catalog metric with the wrong labels fails loudly.
//
// After changing the catalog, regenerate the README's table with
//   SFKB_UPDATE_README=1 build/tests/unit/ops/unit_ops --gtest_filter='MetricCatalog.*'
// (it rewrites the block between the two "metrics table" comments of README.md).

#include "daemon/ops/metric_catalog.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "daemon/ops/metrics.h"

namespace sfkb::ops {
namespace {

constexpr const char* kBegin =
    "<!-- metrics table: generated from daemon/ops/metric_catalog.h, see "
    "tests/unit/ops/metric_catalog_test.cpp -->\n";
constexpr const char* kEnd = "<!-- end of metrics table -->";

std::string readme_path() {
  return std::string(SFKB_SOURCE_DIR) + "/README.md";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(MetricCatalog, ReadmeTableIsTheCatalog) {
  std::string readme = read_file(readme_path());
  ASSERT_FALSE(readme.empty()) << "cannot read " << readme_path();
  const auto begin = readme.find(kBegin);
  ASSERT_NE(begin, std::string::npos) << "README.md has no line: " << kBegin;
  const auto from = begin + std::string(kBegin).size();
  const auto end = readme.find(kEnd, from);
  ASSERT_NE(end, std::string::npos) << "README.md has no line: " << kEnd;
  const std::string expected = metrics_readme_table();
  if (std::getenv("SFKB_UPDATE_README") != nullptr) {
    readme.replace(from, end - from, expected);
    std::ofstream(readme_path(), std::ios::binary | std::ios::trunc) << readme;
    GTEST_SKIP() << "README.md's metrics table rewritten";
  }
  EXPECT_EQ(readme.substr(from, end - from), expected)
      << "README.md's metrics table differs from daemon/ops/metric_catalog.h; regenerate it with "
         "SFKB_UPDATE_README=1 build/tests/unit/ops/unit_ops --gtest_filter='MetricCatalog.*'";
}

TEST(MetricCatalog, NamesAreUniqueAndFollowPrometheusConventions) {
  std::set<std::string_view> names;
  for (const auto& metric : kMetricCatalog) {
    EXPECT_TRUE(names.insert(metric.name).second) << "twice: " << metric.name;
    EXPECT_EQ(metric.name.rfind("sfkb_", 0), 0u) << metric.name;
    const bool total = metric.name.size() > 6 && metric.name.ends_with("_total");
    EXPECT_EQ(total, metric.type == MetricType::kCounter)
        << metric.name << ": counters, and only counters, end in _total";
    EXPECT_FALSE(metric.help.empty()) << metric.name;
    EXPECT_FALSE(metric.readme.empty()) << metric.name;
    EXPECT_EQ(metric.help.find('\n'), std::string_view::npos) << metric.name;
  }
}

TEST(MetricCatalog, RegistersWithTheCatalogsNameHelpAndLabels) {
  Metrics metrics;
  metrics.counter(Metric::kHttpRequests, {"token", "200"}).inc(2);
  metrics.gauge(Metric::kInFlightEvents).set(3);
  metrics.gauge_callback(Metric::kSecondsSinceLastEvent, {"/event/A__e"}, [] { return 1.5; });
  const std::string text = metrics.render();
  EXPECT_NE(text.find("# HELP sfkb_http_requests_total HTTP exchanges with Salesforce\n"
                      "# TYPE sfkb_http_requests_total counter\n"
                      "sfkb_http_requests_total{endpoint=\"token\",status=\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE sfkb_in_flight_events gauge\nsfkb_in_flight_events 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("sfkb_seconds_since_last_event{channel=\"/event/A__e\"} 1.5\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(
      &metrics.counter(Metric::kHttpRequests, {"token", "200"}),
      &metrics.counter("sfkb_http_requests_total", "", {{"endpoint", "token"}, {"status", "200"}}))
      << "a catalog metric is the same instrument as the one registered by name";
}

TEST(MetricCatalog, RefusesLabelValuesOrATypeTheCatalogDoesNotDeclare) {
  Metrics metrics;
  EXPECT_THROW(metrics.counter(Metric::kHttpRequests, {"token"}), std::logic_error);
  EXPECT_THROW(metrics.counter(Metric::kInFlightEvents), std::logic_error);
  EXPECT_THROW(metrics.gauge(Metric::kEventsReceived, {"/event/A__e"}), std::logic_error);
  EXPECT_THROW(metrics.gauge(Metric::kInFlightEvents, {"extra"}), std::logic_error);
}

}  // namespace
}  // namespace sfkb::ops
