#pragma once
// One std::stop_source is made in main; every loop gets its std::stop_token. Waits are either
// short or woken by the token: interruptible_sleep returns early (false) when stop is requested.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>

namespace sfkb::core {

// Sleeps for `duration` unless `token` is stopped first. Returns true if the full time elapsed.
inline bool interruptible_sleep(std::stop_token token, std::chrono::milliseconds duration) {
  std::mutex mutex;
  std::condition_variable_any cv;
  std::unique_lock lock(mutex);
  // The stop-token overload returns the predicate's value, which is always false here: whether
  // the sleep was cut short is told by the token itself.
  cv.wait_for(lock, token, duration, [] { return false; });
  return !token.stop_requested();
}

}  // namespace sfkb::core
