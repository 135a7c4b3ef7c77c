#include "tests/integration/support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <system_error>

#include <gtest/gtest.h>

extern char** environ;

namespace sfkb::it {
namespace {

std::string default_log_file(const std::string& program) {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = program.substr(program.find_last_of('/') + 1);
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/sfkb-" + base + ".XXXXXX.log";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  const int fd = ::mkstemps(buffer.data(), 4);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), "mkstemps " + pattern);
  }
  ::close(fd);
  return buffer.data();
}

std::vector<std::string> child_environment(const Process::Options& options) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string_view::npos) {
      env[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
    }
  }
  for (const auto& name : options.unset_env) {
    env.erase(name);
  }
  for (const auto& [name, value] : options.env) {
    env[name] = value;
  }
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [name, value] : env) {
    out.push_back(name + "=" + value);
  }
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

int decode_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

}  // namespace

Process::Process(Options options) : options_(std::move(options)) {
  if (options_.args.empty()) {
    throw std::invalid_argument("Process: no program");
  }
  log_file_ = options_.log_file.empty() ? default_log_file(options_.args[0]) : options_.log_file;
  { std::ofstream truncate(log_file_, std::ios::trunc); }

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(wake_fds_, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  std::vector<std::string> args = options_.args;
  std::vector<std::string> env = child_environment(options_);
  std::vector<char*> argv = c_strings(args);
  std::vector<char*> envp = c_strings(env);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  if (!options_.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options_.working_dir.c_str());
  }
  // The test process may block or ignore signals (a daemon-like signal thread); the child starts
  // with the defaults, as it would from a shell.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigset_t defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  const int rc = ::posix_spawnp(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(wake_fds_[0]);
    ::close(wake_fds_[1]);
    throw std::system_error(rc, std::generic_category(), "posix_spawnp " + options_.args[0]);
  }
  out_fd_ = out[0];
  reader_ = std::thread([this] { read_output(); });
  reaper_ = std::thread([this] { reap(); });
}

Process::~Process() {
  if (running()) {
    signal(SIGKILL);
  }
  if (reaper_.joinable()) {
    reaper_.join();
  }
  {
    // A grandchild may still hold the pipe open; give the reader a moment to drain what the
    // child wrote, then wake it regardless.
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(2), [this] { return output_closed_; });
  }
  [[maybe_unused]] auto ignored = ::write(wake_fds_[1], "x", 1);
  if (reader_.joinable()) {
    reader_.join();
  }
  ::close(out_fd_);
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);

  if (options_.tail_lines_on_failure > 0 && ::testing::Test::HasFailure()) {
    std::lock_guard lock(mutex_);
    const std::size_t n = std::min(lines_.size(), options_.tail_lines_on_failure);
    std::cerr << "---- last " << n << " lines of " << options_.args[0] << " (pid " << pid_
              << ", full log: " << log_file_ << ") ----\n";
    for (std::size_t i = lines_.size() - n; i < lines_.size(); ++i) {
      std::cerr << lines_[i] << "\n";
    }
  }
}

void Process::read_output() {
  std::ofstream log(log_file_, std::ios::app | std::ios::binary);
  char buffer[16384];
  while (true) {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {wake_fds_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
      break;  // woken by the destructor with nothing left to read
    }
    const ssize_t n = ::read(out_fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    log.write(buffer, n);
    log.flush();
    std::lock_guard lock(mutex_);
    partial_.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
      lines_.emplace_back(partial_, start, nl - start);
    }
    partial_.erase(0, start);
    changed_.notify_all();
  }
  std::lock_guard lock(mutex_);
  if (!partial_.empty()) {
    lines_.push_back(std::move(partial_));
    partial_.clear();
  }
  output_closed_ = true;
  changed_.notify_all();
}

void Process::reap() {
  // Wait for the exit without reaping (WNOWAIT), then reap under the lock: while the lock is held
  // the PID cannot be recycled, so signal() never hits another process.
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  std::lock_guard lock(mutex_);
  int status = 0;
  pid_t rc;
  while ((rc = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  exit_code_ = rc < 0 ? -1 : decode_status(status);
  changed_.notify_all();
}

template <typename Match>
std::optional<std::string> Process::wait_for(Match match, std::chrono::milliseconds timeout,
                                             std::size_t from_line) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  std::size_t next = from_line;
  while (true) {
    for (; next < lines_.size(); ++next) {
      if (match(lines_[next])) {
        return lines_[next];
      }
    }
    if (output_closed_) {
      return std::nullopt;
    }
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; next < lines_.size(); ++next) {
        if (match(lines_[next])) {
          return lines_[next];
        }
      }
      return std::nullopt;
    }
  }
}

std::optional<std::string> Process::wait_for_line(std::string_view prefix,
                                                  std::chrono::milliseconds timeout,
                                                  std::size_t from_line) {
  return wait_for([prefix](const std::string& line) { return line.starts_with(prefix); }, timeout,
                  from_line);
}

std::optional<std::string> Process::wait_for_output(std::string_view needle,
                                                    std::chrono::milliseconds timeout,
                                                    std::size_t from_line) {
  return wait_for(
      [needle](const std::string& line) { return line.find(needle) != std::string::npos; }, timeout,
      from_line);
}

std::size_t Process::line_count() const {
  std::lock_guard lock(mutex_);
  return lines_.size();
}

std::vector<std::string> Process::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::string Process::output() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& line : lines_) {
    out += line;
    out += '\n';
  }
  out += partial_;
  return out;
}

std::size_t Process::count_lines_containing(std::string_view needle) const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& line : lines_) {
    if (line.find(needle) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

bool Process::signal(int sig) {
  // Under the lock the child is not reaped yet (see reap()), so pid_ is still ours.
  std::lock_guard lock(mutex_);
  if (exit_code_.has_value()) {
    return false;
  }
  return ::kill(pid_, sig) == 0;
}

bool Process::running() const {
  std::lock_guard lock(mutex_);
  return !exit_code_.has_value();
}

std::optional<int> Process::wait_for_exit(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [this] { return exit_code_.has_value(); })) {
    return std::nullopt;
  }
  return exit_code_;
}

int Process::stop(std::chrono::milliseconds grace) {
  signal(SIGTERM);
  if (auto code = wait_for_exit(grace)) {
    return *code;
  }
  return kill();
}

int Process::kill() {
  signal(SIGKILL);
  return *wait_for_exit(std::chrono::hours(1));
}

}  // namespace sfkb::it
