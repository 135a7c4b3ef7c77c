#include "daemon/ops/metrics.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "daemon/core/redact.h"

namespace sfkb::ops {
namespace {

std::string escape_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_labels(const Labels& labels) {
  if (labels.empty()) {
    return "";
  }
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    // Label values come from the configuration and from servers: the one redaction rule applies.
    out += labels[i].first + "=\"" + escape_label_value(core::redact_text(labels[i].second)) + "\"";
  }
  return out + "}";
}

std::string format_value(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

// The catalog's label names zipped with the caller's values.
Labels catalog_labels(const MetricSpec& metric, MetricType type,
                      std::initializer_list<std::string_view> values) {
  if (metric.type != type || values.size() != metric.label_count()) {
    throw std::logic_error("metric " + std::string(metric.name) + " registered as a " +
                           (type == MetricType::kCounter ? "counter" : "gauge") + " with " +
                           std::to_string(values.size()) + " label value(s); the catalog says " +
                           (metric.type == MetricType::kCounter ? "counter" : "gauge") + " with " +
                           std::to_string(metric.label_count()));
  }
  Labels labels;
  labels.reserve(values.size());
  std::size_t i = 0;
  for (auto value : values) {
    labels.emplace_back(std::string(metric.labels[i++]), std::string(value));
  }
  return labels;
}

}  // namespace

Counter& Metrics::counter(Metric metric, std::initializer_list<std::string_view> label_values) {
  const auto& s = spec(metric);
  return counter(s.name, s.help, catalog_labels(s, MetricType::kCounter, label_values));
}

Gauge& Metrics::gauge(Metric metric, std::initializer_list<std::string_view> label_values) {
  const auto& s = spec(metric);
  return gauge(s.name, s.help, catalog_labels(s, MetricType::kGauge, label_values));
}

void Metrics::gauge_callback(Metric metric, std::initializer_list<std::string_view> label_values,
                             std::function<double()> read) {
  const auto& s = spec(metric);
  gauge_callback(s.name, s.help, catalog_labels(s, MetricType::kGauge, label_values),
                 std::move(read));
}

void Gauge::add(double d) {
  double current = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(current, current + d, std::memory_order_relaxed)) {
  }
}

Metrics& Metrics::global() {
  static Metrics registry;
  return registry;
}

Metrics::Family& Metrics::family(std::string_view name, std::string_view help, const char* type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{}).first;
    it->second.help = std::string(help);
    it->second.type = type;
  }
  return it->second;
}

Counter& Metrics::counter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, "counter").counters[labels];
  if (!slot) {
    slot = std::make_unique<Counter>();
  }
  return *slot;
}

Gauge& Metrics::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, "gauge").gauges[labels];
  if (!slot) {
    slot = std::make_unique<Gauge>();
  }
  return *slot;
}

void Metrics::gauge_callback(std::string_view name, std::string_view help, const Labels& labels,
                             std::function<double()> read) {
  std::lock_guard lock(mutex_);
  family(name, help, "gauge").callbacks[labels] = std::move(read);
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, fam] : families_) {
    out += "# HELP " + name + " " + fam.help + "\n";
    out += "# TYPE " + name + " " + fam.type + "\n";
    for (const auto& [labels, c] : fam.counters) {
      out += name + format_labels(labels) + " " + std::to_string(c->value()) + "\n";
    }
    for (const auto& [labels, g] : fam.gauges) {
      out += name + format_labels(labels) + " " + format_value(g->value()) + "\n";
    }
    for (const auto& [labels, read] : fam.callbacks) {
      out += name + format_labels(labels) + " " + format_value(read()) + "\n";
    }
  }
  return out;
}

}  // namespace sfkb::ops
