// The effective configuration as YAML (loader.h: to_yaml, what `check-config` prints) and the
// secrets it holds (register_secrets), both walked from the schema (fields.cpp).

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/config/loader.h"
#include "daemon/config/schema.h"
#include "daemon/core/redact.h"

namespace sfkb::config {

std::string to_yaml(const Config& config) {
  YAML::Emitter out;
  schema::config_schema().emit(out, config);
  return std::string(out.c_str()) + "\n";
}

void register_secrets(const Config& config) {
  std::vector<std::string> secrets;
  schema::config_schema().secrets(config, secrets);
  for (const auto& value : secrets) {
    core::register_secret(value);
  }
}

}  // namespace sfkb::config
