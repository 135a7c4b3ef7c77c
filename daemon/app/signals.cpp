#include "daemon/app/signals.h"

#include <pthread.h>
#include <unistd.h>

#include <csignal>

#include "daemon/ops/log.h"

namespace sfkb::app {
namespace {

// Sent by ~SignalWatcher to its own thread to end the sigwait; not a stop request.
constexpr int kWakeSignal = SIGUSR1;

sigset_t watched_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, kWakeSignal);
  return set;
}

const char* signal_name(int signal) {
  switch (signal) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return "signal";
  }
}

}  // namespace

void block_stop_signals() {
  sigset_t set = watched_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

SignalWatcher::SignalWatcher(std::stop_source stop)
    : stop_(std::move(stop)), thread_([this] { watch(); }) {}

SignalWatcher::~SignalWatcher() {
  closing_.store(true);
  pthread_kill(thread_.native_handle(), kWakeSignal);
  thread_.join();
}

void SignalWatcher::watch() {
  const sigset_t set = watched_signals();
  for (;;) {
    int signal = 0;
    if (sigwait(&set, &signal) != 0) {
      continue;
    }
    if (signal == kWakeSignal) {
      if (closing_.load()) {
        return;
      }
      continue;  // someone else's SIGUSR1: not ours to act on
    }
    if (received_.exchange(signal) != 0) {
      // Second stop signal: the graceful stop is taking too long for the operator. No cleanup;
      // the checkpoint on disk is whatever was last written atomically, which is safe to resume.
      ops::logger("app")->warn("second {} received: exiting immediately", signal_name(signal));
      _exit(128 + signal);
    }
    ops::logger("app")->info("{} received: stopping gracefully (send it again to exit at once)",
                             signal_name(signal));
    stop_.request_stop();
  }
}

}  // namespace sfkb::app
