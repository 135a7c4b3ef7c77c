#pragma once
// The command line: `sf-kafka-bridge run | check-config | checkpoints | version`
// (docs/ARCHITECTURE.md §6). Kept out of main.cpp so the parsing and the exit codes live in the app
// library.

#include <string>

#include "daemon/app/exit_codes.h"

namespace sfkb::app {

// The environment variable that may hold the whole YAML instead of --config (Heroku has no files).
inline constexpr const char* kConfigEnvVar = "SF_KAFKA_BRIDGE_CONFIG";

// "sf-kafka-bridge 0.1.0 (commit abc1234)"
std::string version_string();

// Parses the arguments, runs the command and returns the process exit code. Never throws.
int cli_main(int argc, char** argv);

}  // namespace sfkb::app
