#pragma once
// Logging (docs/CONVENTIONS.md §7): one named spdlog logger per module ("cometd", "producer", ...),
// all writing one line per event to stdout, as text or JSON. Callers never log a secret: anything
// that may hold one goes through core::redact_text first.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "daemon/config/config.h"

namespace sfkb::ops {

// Configures format and level for every logger, existing and future. Safe to call again (the CLI
// sets up text/info before the config is read, then applies the config).
void setup_logging(const config::LoggingConfig& logging,
                   const std::optional<std::string>& level_override = std::nullopt);

// The logger of a module, created on first use with the current format and level.
std::shared_ptr<spdlog::logger> logger(std::string_view module);

}  // namespace sfkb::ops
