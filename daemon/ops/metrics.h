#pragma once
// A small Prometheus registry. Instruments are created once (at pipeline start) and kept as
// references; updating one is a relaxed atomic add, cheap enough for the per-event hot path.
// Rendering (GET /metrics) takes the registry lock and reads every instrument.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/ops/metric_catalog.h"

namespace sfkb::ops {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double d);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Metrics {
 public:
  // The process-wide registry used by the daemon; tests may make their own.
  static Metrics& global();

  // The instrument of a catalog metric (metric_catalog.h) with these label values, in the order
  // the catalog names the labels; created on first use. References stay valid for the registry's
  // lifetime. Throws std::logic_error when the values do not match the catalog's label names or
  // the metric is of the other type: a programming error, met by the first test that registers.
  Counter& counter(Metric metric, std::initializer_list<std::string_view> label_values = {});
  Gauge& gauge(Metric metric, std::initializer_list<std::string_view> label_values = {});
  // A gauge computed when scraped (e.g. seconds since the last event). Replaces an earlier
  // callback with the same metric and label values.
  void gauge_callback(Metric metric, std::initializer_list<std::string_view> label_values,
                      std::function<double()> read);

  // The same by name, for metrics outside the catalog (tests). `help` is taken from the first
  // registration of a name.
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  // A gauge computed when scraped (e.g. seconds since the last event). Replaces an earlier
  // callback with the same name and labels.
  void gauge_callback(std::string_view name, std::string_view help, const Labels& labels,
                      std::function<double()> read);

  // Prometheus text exposition format 0.0.4.
  std::string render() const;

 private:
  struct Family {
    std::string help;
    std::string type;  // counter | gauge
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::function<double()>> callbacks;
  };
  Family& family(std::string_view name, std::string_view help, const char* type);

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;
};

}  // namespace sfkb::ops
