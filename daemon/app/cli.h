#pragma once
// The command line: `sf-kafka-bridge run | check-config | checkpoints | version`
// (docs/ARCHITECTURE.md §6). Kept out of main.cpp so the parsing and the exit codes live in the app
// library.

#include <string>

namespace sfkb::app {

// Process exit codes (sysexits.h names), as systemd's RestartPreventExitStatus= and the tests
// see them.
namespace exit_code {
inline constexpr int kOk = 0;
inline constexpr int kUsage = 64;        // EX_USAGE: bad command line
inline constexpr int kUnavailable = 69;  // EX_UNAVAILABLE: a dependency unreachable at start
inline constexpr int kSoftware = 70;     // EX_SOFTWARE: internal error
inline constexpr int kConfig = 78;       // EX_CONFIG: the configuration is wrong
}  // namespace exit_code

// The environment variable that may hold the whole YAML instead of --config (Heroku has no files).
inline constexpr const char* kConfigEnvVar = "SF_KAFKA_BRIDGE_CONFIG";

// "sf-kafka-bridge 0.1.0 (commit abc1234)"
std::string version_string();

// Parses the arguments, runs the command and returns the process exit code. Never throws.
int cli_main(int argc, char** argv);

}  // namespace sfkb::app
