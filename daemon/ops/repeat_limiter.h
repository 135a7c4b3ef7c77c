#pragma once
// Rate limiting for a warning that can repeat once per event, request or loop turn (backpressure
// on every connect, a failing poll every 100 ms): the first occurrence is logged at once, the
// following ones within `interval` are only counted, and the next line logged after the interval
// says how many it stands for - "... (x412 in the last 10 s)" - so the log stays readable and
// nothing is hidden. One limiter per call site; thread-safe.
//
//   static ops::RepeatLimiter limiter;  // or a member
//   if (auto repeat = limiter.admit()) {
//     log->warn("consumer poll failed: {}{}", message, repeat->suffix());
//   }

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace sfkb::ops {

class RepeatLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  struct Admitted {
    std::uint64_t occurrences = 1;  // including this one, since the previous logged line
    std::chrono::seconds over{0};   // the time those occurrences span
    // "" for a single occurrence, else " (xN in the last S s)".
    std::string suffix() const;
  };

  explicit RepeatLimiter(std::chrono::milliseconds interval = std::chrono::seconds(10),
                         Now now = &Clock::now);

  // nullopt: counted, do not log. Otherwise log now, with suffix().
  std::optional<Admitted> admit();

 private:
  const std::chrono::milliseconds interval_;
  const Now now_;
  std::mutex mutex_;
  std::optional<Clock::time_point> last_logged_;
  std::uint64_t suppressed_ = 0;
};

}  // namespace sfkb::ops
