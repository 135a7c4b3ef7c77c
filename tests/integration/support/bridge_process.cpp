#include "tests/integration/support/bridge_process.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace sfkb::it {

std::string bridge_binary() {
  if (const char* env = std::getenv("SFKB_BRIDGE_BINARY"); env != nullptr && *env != '\0') {
    return env;
  }
  std::string built = SFKB_BRIDGE_BINARY_PATH;
  if (!built.empty() && ::access(built.c_str(), X_OK) == 0) {
    return built;
  }
  return {};
}

Bridge::Bridge(BridgeLaunch launch, const TempDir& dir, const std::string& name)
    : launch_(std::move(launch)) {
  const std::string file = dir.write_file(name + ".yaml", launch_.yaml);
  Process::Options options;
  options.args = {bridge_binary(), "run", "--config", file};
  // A new log for every start: crash tests start the same name again in the same directory.
  options.log_file = dir.file(
      name + "-" + std::to_string(::getpid()) + "-" +
      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".log");
  // The daemon must not pick these up from the test's environment.
  options.unset_env = {"PORT", "SF_KAFKA_BRIDGE_CONFIG", "KAFKA_URL", "KAFKA_PREFIX"};
  options.unset_env.insert(options.unset_env.end(), launch_.unset_env.begin(),
                           launch_.unset_env.end());
  options.env = launch_.env;
  process_ = std::make_unique<Process>(options);
}

bool Bridge::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto ready = [this] {
    return process_->count_lines_containing(launch_.ready_line) >= launch_.ready_count;
  };
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) {
      return true;
    }
    if (!process_->running()) {
      return ready();
    }
    // Woken by the next matching line of output (or the deadline), not a fixed sleep.
    process_->wait_for_output(launch_.ready_line, std::chrono::milliseconds(200),
                              process_->line_count());
  }
  return ready();
}

std::optional<int> Bridge::terminate() {
  return terminate(launch_.stop_timeout);
}

std::optional<int> Bridge::terminate(std::chrono::milliseconds timeout) {
  process_->signal(SIGTERM);
  return process_->wait_for_exit(timeout);
}

void crash_repeatedly(const BridgeLaunch& launch, const TempDir& dir, const CrashLoop& loop,
                      std::mt19937& random) {
  for (int crash = 0; crash < loop.crashes; ++crash) {
    if (loop.before_start) {
      loop.before_start(crash);
    }
    Bridge bridge(launch, dir, "crash" + std::to_string(crash));
    ASSERT_TRUE(bridge.wait_ready()) << bridge.output();
    if (loop.progressed) {
      loop.progressed(bridge, crash);
    }
    const auto max_delay = static_cast<std::uint32_t>(loop.max_delay.count());
    // The delay puts the crash at a random moment of the stream; nothing waits on it.
    std::this_thread::sleep_for(
        std::chrono::milliseconds(max_delay > 0 ? random() % max_delay : 0));
    bridge.kill();
  }
}

std::int64_t proc_status_kb(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stoll(line.substr(field.size() + 1));
    }
  }
  return 0;
}

double cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) {
    return 0;
  }
  // Fields 14 and 15 (utime, stime), counted from 3 right after the command name.
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) {
      utime = std::stoull(field);
    } else if (i == 15) {
      stime = std::stoull(field);
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace sfkb::it
