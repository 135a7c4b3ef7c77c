#pragma once
// Process exit codes (docs/ARCHITECTURE.md §6), with sysexits.h's names and values: systemd's
// RestartPreventExitStatus=, the container's restart policy and the tests all read them, so each
// value is spelled here and nowhere else. A second SIGINT/SIGTERM during the graceful stop exits
// with 128 + the signal instead (signals.h).

namespace sfkb::app::exit_code {

inline constexpr int kOk = 0;            // for `run`: a requested, graceful stop
inline constexpr int kUsage = 64;        // EX_USAGE: bad command line, no configuration
inline constexpr int kUnavailable = 69;  // EX_UNAVAILABLE: a dependency unreachable and staying so
inline constexpr int kSoftware = 70;  // EX_SOFTWARE: a pipeline failed fatally, or shutdown overran
inline constexpr int kConfig = 78;    // EX_CONFIG: the configuration (incl. credentials) is wrong

}  // namespace sfkb::app::exit_code
