#pragma once
// `sf-kafka-bridge run`: builds the parts (composition_root.h) and runs the configured pipelines
// on their own threads under one stop token (docs/ARCHITECTURE.md §4).

#include <stop_token>

#include "daemon/config/config.h"

namespace sfkb::app {

// Runs until `stop` is requested or a pipeline fails fatally; returns the process exit code
// (0 after a graceful stop, 69 when a dependency is unavailable at start, 70 on a fatal error).
int run_daemon(const config::Config& config, std::stop_token stop);

}  // namespace sfkb::app
