#pragma once
// SIGTERM/SIGINT handling for `run` (docs/ARCHITECTURE.md §4): the signals are blocked in every
// thread and taken synchronously by one sigwait thread, so no work ever runs in a signal handler.
// The first signal requests stop on the process's one stop_source; a second one means the operator
// gave up waiting, and the process exits at once with 128 + signal (130 for SIGINT, 143 for
// SIGTERM).

#include <atomic>
#include <stop_token>
#include <thread>

namespace sfkb::app {

// Blocks SIGTERM, SIGINT and the internal wake-up signal in the calling thread; every thread
// created afterwards inherits the mask. Call first thing in main, before any thread starts.
// Also ignores SIGPIPE: a peer closing a socket is an error return, never a process kill.
void block_stop_signals();

class SignalWatcher {
 public:
  // Starts the sigwait thread. block_stop_signals() must have run in this thread already.
  explicit SignalWatcher(std::stop_source stop);
  // Wakes and joins the sigwait thread.
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // The signal that requested stop, or 0.
  int received() const { return received_.load(); }

 private:
  void watch();

  std::stop_source stop_;
  std::atomic<int> received_{0};
  std::atomic<bool> closing_{false};
  std::thread thread_;
};

}  // namespace sfkb::app
