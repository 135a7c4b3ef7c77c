#pragma once
// A child process for integration tests: the daemon, the emulator, a tool. Spawned with
// posix_spawn (safe in a test process that already runs librdkafka threads), stdout and stderr
// merged into one pipe that a reader thread copies to a log file and keeps as lines, so a test can
// wait for a line with a deadline instead of sleeping. The destructor SIGKILLs the child (by its
// PID, never by name) if it is still running, and reaps it.
//
//   it::Process::Options options;
//   options.args = {bridge_binary, "run", "--config", cfg};
//   options.env = {{"SF_CLIENT_ID", "x"}};
//   it::Process bridge(options);
//   ASSERT_TRUE(bridge.wait_for_output("pipeline started", 10s)) << bridge.output();
//   bridge.signal(SIGTERM);
//   EXPECT_EQ(bridge.wait_for_exit(2s), 0);
//
// Thread safety: every member may be called from any thread; waits block only the caller.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sfkb::it {

class Process {
 public:
  struct Options {
    // args[0] is the program: a path, or a name looked up in PATH.
    std::vector<std::string> args;
    // Added to (or overriding) this process's environment.
    std::map<std::string, std::string> env;
    // Removed from the inherited environment.
    std::vector<std::string> unset_env;
    // Where stdout+stderr go. Empty: a new file $TMPDIR/sfkb-<program>.XXXXXX.log (kept).
    std::string log_file;
    // Working directory of the child; empty: inherited.
    std::string working_dir;
    // When the owning test has failed, the destructor prints the last lines of the output.
    std::size_t tail_lines_on_failure = 60;
  };

  explicit Process(Options options);  // throws std::runtime_error if it cannot spawn
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_file() const { return log_file_; }

  // Waits for a line of output that starts with `prefix` (or contains `needle`), looking at lines
  // from index `from_line` on (0: the whole output so far). Returns the line, or nullopt at the
  // deadline or when the output ended (the process closed it / exited) without a match.
  std::optional<std::string> wait_for_line(std::string_view prefix,
                                           std::chrono::milliseconds timeout,
                                           std::size_t from_line = 0);
  std::optional<std::string> wait_for_output(std::string_view needle,
                                             std::chrono::milliseconds timeout,
                                             std::size_t from_line = 0);

  std::size_t line_count() const;
  std::vector<std::string> lines() const;
  std::string output() const;  // all lines, '\n'-joined
  std::size_t count_lines_containing(std::string_view needle) const;

  // Sends `sig` to the child unless it has already exited; false if it had.
  bool signal(int sig);
  bool running() const;
  // Waits for the child to exit. Returns its exit code, 128+N when killed by signal N, or nullopt
  // at the deadline (the child is left running).
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL; returns the exit code as wait_for_exit.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  // SIGKILL now (a crash) and reap; returns the exit code (137) or the earlier one.
  int kill();

 private:
  template <typename Match>
  std::optional<std::string> wait_for(Match match, std::chrono::milliseconds timeout,
                                      std::size_t from_line);
  void read_output();
  void reap();

  Options options_;
  std::string log_file_;
  pid_t pid_ = -1;
  int out_fd_ = -1;             // read end of the child's stdout/stderr pipe
  int wake_fds_[2] = {-1, -1};  // wakes the reader thread at destruction

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  std::string partial_;  // the last line before its '\n'
  bool output_closed_ = false;
  std::optional<int> exit_code_;

  std::thread reader_;
  std::thread reaper_;
};

}  // namespace sfkb::it
