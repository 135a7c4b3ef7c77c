#pragma once
// YAML -> config::Config (config.h): `${VAR}` / `${VAR:-default}` interpolation inside scalars,
// defaults for everything optional, and validation that collects every problem in one pass so an
// operator can fix a file in one go (docs/ARCHITECTURE.md §1: a bad config never starts a
// half-working daemon). The loader never throws for bad input; it returns the problems.

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/config/config.h"

namespace sfkb::config {

// One thing wrong with the configuration, located by its YAML path and, where the file has one,
// its 1-based line and column.
struct Problem {
  std::string path;  // e.g. "subscribe[1].topic"; empty for problems with the whole document
  std::string message;
  int line = 0;  // 0: no position (e.g. a missing file, or a problem across several entries)
  int column = 0;

  // "subscribe[1].topic: must not be empty (line 14, column 12)"
  std::string to_string() const;
};

// Either a valid Config or the non-empty list of everything wrong with the input.
class LoadResult {
 public:
  static LoadResult success(Config config);
  static LoadResult failure(std::vector<Problem> problems);

  bool ok() const { return config_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Config& config() const& { return *config_; }
  Config&& config() && { return std::move(*config_); }
  const std::vector<Problem>& problems() const { return problems_; }

 private:
  std::optional<Config> config_;
  std::vector<Problem> problems_;
};

// Looks up an environment variable; nullopt when unset. Injected so tests stay hermetic.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
EnvLookup process_environment();

// Parses and validates `yaml`. `source_name` is recorded in Config::source and names the input in
// document-level problems (a file path, or "$SF_KAFKA_BRIDGE_CONFIG"). Relative file paths in the
// YAML (private_key_file, ca_file, checkpoint.directory) are resolved against `base_dir`; empty:
// left relative to the working directory.
LoadResult load_string(std::string_view yaml, const std::string& source_name,
                       const EnvLookup& env = process_environment(),
                       const std::string& base_dir = {});

// Reads `path` and loads it, with relative paths in it resolved against the file's directory. An
// unreadable file is a problem, not an exception.
LoadResult load_file(const std::string& path, const EnvLookup& env = process_environment());

// Expands `${VAR}` and `${VAR:-default}` (default used when VAR is unset or empty, as in the
// shell) in one scalar. `$${` stands for a literal `${`; any other `$` is kept as is, so secrets
// containing `$` survive. Returns the problem text on failure (e.g. an unset variable).
struct Interpolated {
  std::string value;
  std::optional<std::string> error;
};
Interpolated interpolate(std::string_view text, const EnvLookup& env);

// The level names `logging.level` and `--log-level` accept (spdlog's, with its aliases).
inline constexpr std::array<std::string_view, 8> kLogLevels = {
    "trace", "debug", "info", "warn", "warning", "error", "critical", "off"};
bool is_log_level(std::string_view name);

// Parses "250ms", "20s", "15m", "1h" or a plain integer of milliseconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The effective configuration as YAML, in the same schema load_string reads, with every secret
// value replaced by core::kRedacted. Used by `check-config`.
std::string to_yaml(const Config& config);

// Registers every secret value of `config` with core::register_secret, so that redact_text hides
// them even where they show up verbatim (e.g. echoed inside a server's error message).
void register_secrets(const Config& config);

}  // namespace sfkb::config
