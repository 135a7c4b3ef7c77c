#pragma once
// The real `sf-kafka-bridge` binary as a child process, for the integration tests and benchmarks
// of both directions: it writes the config, starts `sf-kafka-bridge run --config <file>`, waits
// until the bridge is ready, stops it by PID (SIGTERM, or SIGKILL as a crash) and reads its exit
// status. Each direction's harness says what its config is and how readiness shows
// (bridge_launch() next to its config type); the test then writes
//
//   SFKB_REQUIRE_BRIDGE();
//   it::Bridge bridge(config, dir);  // a subscribe::BridgeConfig or a publish::PublishConfig
//   ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
//   ...
//   EXPECT_EQ(bridge.terminate(), 0) << bridge.output();
//
// Crash tests use crash_repeatedly() below instead of writing their own kill -9 loop.

#include <sys/types.h>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/integration/support/process.h"
#include "tests/integration/support/temp_dir.h"

// Skips (reported as skipped, with the reason) when the binary was not built into this tree.
#define SFKB_REQUIRE_BRIDGE()                                                                 \
  do {                                                                                        \
    if (::sfkb::it::bridge_binary().empty()) {                                                \
      GTEST_SKIP() << "the sf-kafka-bridge executable is not built (set SFKB_BRIDGE_BINARY)"; \
    }                                                                                         \
  } while (0)

namespace sfkb::it {

// $SFKB_BRIDGE_BINARY when set, else the executable CMake built when it exists, else "".
std::string bridge_binary();

// What to start and how the bridge shows it is ready.
struct BridgeLaunch {
  std::string yaml;  // the config file's content
  // Ready once `ready_count` lines of output contain `ready_line`.
  std::string ready_line;
  std::size_t ready_count = 1;
  // How long terminate() waits for the exit after SIGTERM, unless told otherwise.
  std::chrono::milliseconds stop_timeout{10000};
  // Added to the environment (e.g. NOTIFY_SOCKET), and removed from it besides the variables the
  // bridge would read a config from (PORT, SF_KAFKA_BRIDGE_CONFIG, KAFKA_URL, KAFKA_PREFIX).
  std::map<std::string, std::string> env;
  std::vector<std::string> unset_env;
};

// A direction's config type: bridge_launch(config) (found next to the type) makes its launch.
template <typename Config>
concept LaunchableConfig = requires(const Config& config) {
  { bridge_launch(config) } -> std::convertible_to<BridgeLaunch>;
};

class Bridge {
 public:
  // Writes <dir>/<name>.yaml and starts the bridge on it; its output goes to a log file in `dir`
  // that is new for every start. Throws std::runtime_error if it cannot spawn.
  Bridge(BridgeLaunch launch, const TempDir& dir, const std::string& name = "bridge");
  template <LaunchableConfig Config>
  Bridge(const Config& config, const TempDir& dir, const std::string& name = "bridge")
      : Bridge(bridge_launch(config), dir, name) {}

  Process& process() { return *process_; }
  pid_t pid() const { return process_->pid(); }
  std::string output() const { return process_->output(); }

  // Waits until the bridge is ready (see BridgeLaunch); false at the deadline or if it exited.
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // SIGTERM and the exit code (nullopt: no exit within `timeout`, default the launch's).
  std::optional<int> terminate();
  std::optional<int> terminate(std::chrono::milliseconds timeout);
  // SIGKILL now (a crash) and reap; the exit code (137) or the earlier one.
  int kill() { return process_->kill(); }

 private:
  BridgeLaunch launch_;
  std::unique_ptr<Process> process_;
};

// A kill -9 test: starts the bridge `crashes` times, one after another. Each run is named
// "crash<i>"; it must get ready (a failed ASSERT otherwise: wrap the call in
// ASSERT_NO_FATAL_FAILURE), then `progressed(bridge, i)` waits until it did some work, then the
// bridge is killed with SIGKILL after a delay drawn from `random` in [0, max_delay).
// `before_start(i)`, when set, runs before each start (e.g. to delete the checkpoint file once).
struct CrashLoop {
  int crashes = 1;
  std::chrono::milliseconds max_delay{300};
  std::function<void(Bridge& bridge, int crash)> progressed;
  std::function<void(int crash)> before_start;
};
void crash_repeatedly(const BridgeLaunch& launch, const TempDir& dir, const CrashLoop& loop,
                      std::mt19937& random);
template <LaunchableConfig Config>
void crash_repeatedly(const Config& config, const TempDir& dir, const CrashLoop& loop,
                      std::mt19937& random) {
  crash_repeatedly(bridge_launch(config), dir, loop, random);
}

// kB of VmRSS / VmHWM of a process (0 if unreadable).
std::int64_t proc_status_kb(int pid, const std::string& field);
// CPU seconds (user + system) a process has used so far (/proc/PID/stat; 0 if unreadable).
double cpu_seconds(int pid);

}  // namespace sfkb::it
