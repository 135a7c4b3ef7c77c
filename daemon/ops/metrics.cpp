#include "daemon/ops/metrics.h"

#include <cmath>
#include <sstream>

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

}  // namespace

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
