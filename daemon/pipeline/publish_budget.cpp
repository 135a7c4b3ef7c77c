#include "daemon/pipeline/publish_budget.h"

#include <algorithm>
#include <cmath>

namespace sfkb::pipeline {

TokenBucket::TokenBucket(double capacity, std::chrono::nanoseconds period,
                         BudgetClock::time_point now)
    : capacity_(capacity),
      per_ns_(capacity / static_cast<double>(std::max<std::int64_t>(period.count(), 1))),
      level_(capacity),
      last_(now) {}

void TokenBucket::refill(BudgetClock::time_point now) {
  if (now > last_) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_).count();
    level_ = std::min(capacity_, level_ + per_ns_ * static_cast<double>(elapsed));
    last_ = now;
  }
}

std::int64_t TokenBucket::available(BudgetClock::time_point now) {
  refill(now);
  return level_ <= 0 ? 0 : static_cast<std::int64_t>(std::floor(level_));
}

void TokenBucket::take(double n, BudgetClock::time_point now) {
  refill(now);
  level_ -= n;
}

std::chrono::milliseconds TokenBucket::wait_for_one(BudgetClock::time_point now) {
  refill(now);
  if (level_ >= 1.0) {
    return std::chrono::milliseconds(0);
  }
  const double ns = (1.0 - level_) / per_ns_;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(ns / 1e6)));
}

void LiveShare::observe(std::int64_t remaining) {
  remaining = std::max<std::int64_t>(remaining, 0);
  if (!last_remaining_ || remaining > *last_remaining_) {
    allowance_ = static_cast<std::int64_t>(std::floor(share_ * static_cast<double>(remaining)));
    spent_ = 0;
  }
  last_remaining_ = remaining;
}

std::optional<std::int64_t> LiveShare::available() const {
  if (!last_remaining_) {
    return std::nullopt;
  }
  return std::max<std::int64_t>(0, allowance_ - spent_);
}

std::int64_t BucketAllowance::available(BudgetClock::time_point now) {
  std::lock_guard lock(mutex_);
  return bucket_.available(now);
}

void BucketAllowance::spend(std::int64_t n, BudgetClock::time_point now) {
  std::lock_guard lock(mutex_);
  bucket_.take(static_cast<double>(n), now);
}

std::chrono::milliseconds BucketAllowance::wait_hint(BudgetClock::time_point now) {
  std::lock_guard lock(mutex_);
  return bucket_.wait_for_one(now);
}

void ShareAllowance::observe(std::int64_t remaining) {
  std::lock_guard lock(mutex_);
  share_.observe(remaining);
}

std::int64_t ShareAllowance::available(BudgetClock::time_point) {
  std::lock_guard lock(mutex_);
  return share_.available().value_or(0);
}

void ShareAllowance::spend(std::int64_t n, BudgetClock::time_point) {
  std::lock_guard lock(mutex_);
  share_.take(n);
}

PublishBudget::Grant PublishBudget::grant(std::size_t wanted, BudgetClock::time_point now) {
  Grant g;
  g.records = wanted;
  auto limit_by = [&](Allowance& a, std::size_t cap) {
    const auto available = static_cast<std::size_t>(std::max<std::int64_t>(0, a.available(now)));
    if (available < cap) {
      cap = available;
    }
    if (cap == 0 && g.blocked_by.empty()) {
      g.blocked_by = a.describe();
      g.retry_after = a.wait_hint(now);
    }
    return cap;
  };
  for (const auto& a : requests_) {
    if (limit_by(*a, 1) == 0) {
      g.records = 0;
    }
  }
  for (const auto& a : events_) {
    g.records = std::min(g.records, limit_by(*a, g.records));
  }
  if (g.records > 0) {
    g.blocked_by.clear();
    g.retry_after = std::chrono::milliseconds(0);
  }
  return g;
}

void PublishBudget::spend_records(std::size_t records, BudgetClock::time_point now) {
  for (const auto& a : events_) {
    a->spend(static_cast<std::int64_t>(records), now);
  }
}

void PublishBudget::spend_request(BudgetClock::time_point now) {
  for (const auto& a : requests_) {
    a->spend(1, now);
  }
}

namespace {

// A live share asks again this often while it allows nothing; readings arrive at the poll
// interval, the pipeline keeps its group membership meanwhile.
constexpr std::chrono::milliseconds kShareRecheck{1000};
constexpr const char* kHourlyPublished = "HourlyPublishedPlatformEvents";
constexpr const char* kDailyApiRequests = "DailyApiRequests";

std::string percent(double share) {
  return std::to_string(static_cast<long long>(share * 100.0 + 0.5)) + "%";
}

}  // namespace

SharedAllowances shared_allowances(const config::LimitsConfig& limits) {
  using std::chrono::hours;
  SharedAllowances shared;
  if (limits.max_events_per_hour > 0) {
    shared.events.push_back(std::make_shared<BucketAllowance>(
        "limits.max_events_per_hour=" + std::to_string(limits.max_events_per_hour),
        static_cast<double>(limits.max_events_per_hour), hours(1)));
  }
  if (limits.budget > 0) {
    auto share = std::make_shared<ShareAllowance>(
        "limits.budget=" + percent(limits.budget) + " of " + kHourlyPublished, kHourlyPublished,
        limits.budget, kShareRecheck);
    shared.events.push_back(share);
    shared.shares.push_back(share);
  }
  if (limits.max_api_requests_per_day > 0) {
    shared.requests.push_back(std::make_shared<BucketAllowance>(
        "limits.max_api_requests_per_day=" + std::to_string(limits.max_api_requests_per_day),
        static_cast<double>(limits.max_api_requests_per_day), hours(24)));
  }
  if (limits.api_budget > 0) {
    auto share = std::make_shared<ShareAllowance>(
        "limits.api_budget=" + percent(limits.api_budget) + " of " + kDailyApiRequests,
        kDailyApiRequests, limits.api_budget, kShareRecheck);
    shared.requests.push_back(share);
    shared.shares.push_back(share);
  }
  return shared;
}

std::shared_ptr<PublishBudget> publish_budget(const config::PublishMapping& mapping,
                                              SharedAllowances& shared) {
  auto events = shared.events;
  if (mapping.max_events_per_hour > 0) {
    events.push_back(std::make_shared<BucketAllowance>(
        "publish[" + mapping.event +
            "].max_events_per_hour=" + std::to_string(mapping.max_events_per_hour),
        static_cast<double>(mapping.max_events_per_hour), std::chrono::hours(1)));
  }
  if (mapping.budget > 0) {
    auto share = std::make_shared<ShareAllowance>("publish[" + mapping.event +
                                                      "].budget=" + percent(mapping.budget) +
                                                      " of " + kHourlyPublished,
                                                  kHourlyPublished, mapping.budget, kShareRecheck);
    events.push_back(share);
    shared.shares.push_back(share);
  }
  if (events.empty() && shared.requests.empty()) {
    return nullptr;
  }
  return std::make_shared<PublishBudget>(std::move(events), shared.requests);
}

}  // namespace sfkb::pipeline
