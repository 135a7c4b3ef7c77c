#include "daemon/ops/metrics.h"

#include <gtest/gtest.h>

#include "daemon/core/redact.h"

namespace sfkb::ops {
namespace {

TEST(Metrics, RendersCountersGaugesAndCallbacksInPrometheusText) {
  Metrics metrics;
  metrics.counter("sfkb_events_received_total", "Events received", {{"channel", "/event/A__e"}})
      .inc(3);
  metrics.gauge("sfkb_in_flight_events", "In flight").set(7);
  metrics.gauge_callback("sfkb_seconds_since_last_event", "Age", {{"channel", "x\"y"}},
                         [] { return 1.5; });
  const std::string text = metrics.render();
  EXPECT_NE(text.find("# TYPE sfkb_events_received_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sfkb_events_received_total{channel=\"/event/A__e\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("sfkb_in_flight_events 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sfkb_seconds_since_last_event{channel=\"x\\\"y\"} 1.5\n"), std::string::npos)
      << text;
}

TEST(Metrics, SameNameAndLabelsGiveTheSameInstrument) {
  Metrics metrics;
  auto& a = metrics.counter("c_total", "c", {{"k", "v"}});
  auto& b = metrics.counter("c_total", "c", {{"k", "v"}});
  a.inc();
  b.inc();
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(a.value(), 2u);
}

// Label values come from servers and the configuration, so they go through the one redaction rule
// (core/redact.h) like every output.
TEST(Metrics, ShouldRedactSecretsInLabelValues) {
  core::register_secret("registered-label-secret");
  Metrics metrics;
  metrics.counter("c_total", "c", {{"reason", "refused sasl.password=label-pa55"}}).inc();
  metrics.counter("d_total", "d", {{"reason", "saw registered-label-secret"}}).inc();
  metrics.counter("e_total", "e", {{"channel", "/event/A__e"}}).inc();
  const std::string text = metrics.render();
  EXPECT_EQ(text.find("label-pa55"), std::string::npos) << text;
  EXPECT_EQ(text.find("registered-label-secret"), std::string::npos) << text;
  EXPECT_NE(text.find("e_total{channel=\"/event/A__e\"} 1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace sfkb::ops
