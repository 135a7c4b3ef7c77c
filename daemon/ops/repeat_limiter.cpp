#include "daemon/ops/repeat_limiter.h"

#include <algorithm>

namespace sfkb::ops {

std::string RepeatLimiter::Admitted::suffix() const {
  if (occurrences <= 1) {
    return "";
  }
  // At least "1 s": "in the last 0 s" would read as a clock error.
  return " (x" + std::to_string(occurrences) + " in the last " +
         std::to_string(std::max<std::int64_t>(1, over.count())) + " s)";
}

RepeatLimiter::RepeatLimiter(std::chrono::milliseconds interval, Now now)
    : interval_(interval), now_(std::move(now)) {}

std::optional<RepeatLimiter::Admitted> RepeatLimiter::admit() {
  const auto now = now_();
  std::lock_guard lock(mutex_);
  if (last_logged_ && now - *last_logged_ < interval_) {
    ++suppressed_;
    return std::nullopt;
  }
  Admitted admitted;
  admitted.occurrences = suppressed_ + 1;
  if (last_logged_ && suppressed_ > 0) {
    admitted.over = std::chrono::duration_cast<std::chrono::seconds>(now - *last_logged_);
  }
  last_logged_ = now;
  suppressed_ = 0;
  return admitted;
}

}  // namespace sfkb::ops
