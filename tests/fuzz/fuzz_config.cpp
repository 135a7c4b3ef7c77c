// libFuzzer target: the configuration loader (daemon/config/loader.h, load_string).
// The YAML comes from an operator, not an attacker, but a typo must give a problem list, never a
// crash (docs/ARCHITECTURE.md §1: a bad config never starts a half-working daemon). The environment
// is a fixed map so runs are reproducible; an accepted config is also dumped with to_yaml (what
// check-config prints), and a rejected one must name at least one problem.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/config/loader.h"

namespace {

std::optional<std::string> fake_env(const std::string& name) {
  static const std::map<std::string, std::string> env = {
      {"SF_CLIENT_ID", "3MVG9client"},
      {"SF_USERNAME", "bridge@example.com"},
      {"KAFKA_URL", "kafka+ssl://127.0.0.1:9096"},
      {"KAFKA_PREFIX", "tenant."},
      {"SF_TOKEN", "00Dxx!token"},
      {"EMPTY", ""},
  };
  const auto found = env.find(name);
  if (found == env.end()) {
    return std::nullopt;
  }
  return found->second;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  // base_dir is a path that does not exist, so relative file names the fuzzer invents never
  // reach real files.
  const auto result = sfkb::config::load_string(yaml, "fuzz.yaml", fake_env, "/nonexistent-fuzz");
  if (!result) {
    if (result.problems().empty()) {
      std::abort();
    }
    for (const auto& problem : result.problems()) {
      (void)problem.to_string();
    }
    return 0;
  }
  (void)sfkb::config::interpolate(yaml, fake_env);
  (void)sfkb::config::to_yaml(result.config());
  return 0;
}
