#include "daemon/ops/metric_catalog.h"

namespace sfkb::ops {

std::string metrics_readme_table() {
  std::string out = "| metric | type | meaning |\n| --- | --- | --- |\n";
  for (const auto& metric : kMetricCatalog) {
    out += "| `";
    out += metric.name;
    if (metric.label_count() > 0) {
      out += '{';
      for (std::size_t i = 0; i < metric.label_count(); ++i) {
        if (i > 0) {
          out += ',';
        }
        out += metric.labels[i];
      }
      out += '}';
    }
    out += "` | ";
    out += metric.type == MetricType::kCounter ? "counter" : "gauge";
    out += " | ";
    out += metric.readme;
    out += " |\n";
  }
  return out;
}

}  // namespace sfkb::ops
