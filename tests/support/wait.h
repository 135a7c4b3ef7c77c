#pragma once
// Waiting on a condition with a deadline - the only way tests synchronise with another process or
// thread (never a fixed sleep). The poll interval only bounds how late a met condition is seen.

#include <chrono>
#include <thread>

namespace sfkb::test_support {

// Evaluates `predicate` until it returns true (-> true) or `timeout` has passed (-> false; the
// predicate is evaluated one last time at the deadline).
template <typename Predicate>
bool wait_until(Predicate&& predicate, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll_interval = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (predicate()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return static_cast<bool>(predicate());
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

}  // namespace sfkb::test_support
