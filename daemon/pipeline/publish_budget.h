#pragma once
// How many records the publish side may send to Salesforce now (README "Limits and loops"), so
// that the bridge never spends more than its share of the org's allocations, which every
// integration of the org shares:
//   - a token bucket per mapping (`publish[].max_events_per_hour`) and one for all mappings
//     (`limits.max_events_per_hour`): capacity N, refilled continuously at N per hour;
//   - a live share (`publish[].budget`, `limits.budget`): at most that share of what remained of
//     HourlyPublishedPlatformEvents when the current hour began, as the limits resource reports it;
//   - the daily API requests (`limits.max_api_requests_per_day` as a bucket refilled over 24 h,
//     `limits.api_budget` as a live share of DailyApiRequests): one token per composite request,
//     whatever its record count.
// When nothing is allowed the pipeline holds its records in Kafka (offsets not committed, the
// consumer paused) and asks again later; see PublishPipeline.
//
// TokenBucket and LiveShare are pure values with the time passed in; the Allowance wrappers add a
// mutex because the global ones are shared by every publish pipeline (and the poller's thread).

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config/config.h"

namespace sfkb::pipeline {

using BudgetClock = std::chrono::steady_clock;

// Capacity `capacity` tokens, refilled continuously so that `capacity` tokens come back per
// `period`. Starts full. take() may drive the level below zero (a batch already formed is sent
// whole); the debt is paid back by the refill before anything is available again.
class TokenBucket {
 public:
  TokenBucket(double capacity, std::chrono::nanoseconds period, BudgetClock::time_point now);
  // Whole tokens available at `now` (never negative).
  std::int64_t available(BudgetClock::time_point now);
  void take(double n, BudgetClock::time_point now);
  // How long until at least one whole token is available (0 when one is).
  std::chrono::milliseconds wait_for_one(BudgetClock::time_point now);

 private:
  void refill(BudgetClock::time_point now);
  double capacity_;
  double per_ns_;
  double level_;
  BudgetClock::time_point last_;
};

// A share of what remains of an allocation in its current window (an hour, a day). Each reading
// of Remaining that is higher than the previous one means the window rolled over: the allowance
// becomes floor(share x Remaining) and what was spent starts at 0 again. Anchoring the allowance
// at the window's start keeps a 50% share at 50% of the remainder, instead of half of what is
// left after every reading (which would add up to all of it). Nothing is allowed before the
// first reading: the bridge does not spend what it cannot see.
class LiveShare {
 public:
  explicit LiveShare(double share) : share_(share) {}
  void observe(std::int64_t remaining);
  // nullopt before the first reading.
  std::optional<std::int64_t> available() const;
  void take(std::int64_t n) { spent_ += n; }
  double share() const { return share_; }

 private:
  double share_;
  std::optional<std::int64_t> last_remaining_;
  std::int64_t allowance_ = 0;
  std::int64_t spent_ = 0;
};

// One limit on spending, thread-safe.
class Allowance {
 public:
  virtual ~Allowance() = default;
  // Whole units that may be spent now.
  virtual std::int64_t available(BudgetClock::time_point now) = 0;
  virtual void spend(std::int64_t n, BudgetClock::time_point now) = 0;
  // How long to wait before asking again when nothing is available.
  virtual std::chrono::milliseconds wait_hint(BudgetClock::time_point now) = 0;
  // For logs: "publish[].max_events_per_hour=1000", "limits.budget=50% of ...".
  virtual std::string describe() const = 0;
};

class BucketAllowance final : public Allowance {
 public:
  BucketAllowance(std::string name, double capacity, std::chrono::nanoseconds period,
                  BudgetClock::time_point now = BudgetClock::now())
      : name_(std::move(name)), bucket_(capacity, period, now) {}
  std::int64_t available(BudgetClock::time_point now) override;
  void spend(std::int64_t n, BudgetClock::time_point now) override;
  std::chrono::milliseconds wait_hint(BudgetClock::time_point now) override;
  std::string describe() const override { return name_; }

 private:
  const std::string name_;
  std::mutex mutex_;
  TokenBucket bucket_;
};

class ShareAllowance final : public Allowance {
 public:
  // `allocation` is the Salesforce name whose readings feed observe().
  ShareAllowance(std::string name, std::string allocation, double share,
                 std::chrono::milliseconds recheck)
      : name_(std::move(name)),
        allocation_(std::move(allocation)),
        recheck_(recheck),
        share_(share) {}
  const std::string& allocation() const { return allocation_; }
  void observe(std::int64_t remaining);
  std::int64_t available(BudgetClock::time_point now) override;
  void spend(std::int64_t n, BudgetClock::time_point now) override;
  std::chrono::milliseconds wait_hint(BudgetClock::time_point) override { return recheck_; }
  std::string describe() const override { return name_; }

 private:
  const std::string name_;
  const std::string allocation_;
  const std::chrono::milliseconds recheck_;  // a new reading comes at most this often
  std::mutex mutex_;
  LiveShare share_;
};

// What one publish pipeline must respect: its own allowances and the shared ones.
class PublishBudget {
 public:
  PublishBudget(std::vector<std::shared_ptr<Allowance>> events,
                std::vector<std::shared_ptr<Allowance>> requests)
      : events_(std::move(events)), requests_(std::move(requests)) {}
  bool empty() const { return events_.empty() && requests_.empty(); }

  struct Grant {
    std::size_t records = 0;  // 0: wait
    std::chrono::milliseconds retry_after{0};
    std::string blocked_by;  // the allowance that said no (for the log)
  };
  // How many of `wanted` records may go in the next batch.
  Grant grant(std::size_t wanted, BudgetClock::time_point now = BudgetClock::now());
  // A batch of `records` was formed.
  void spend_records(std::size_t records, BudgetClock::time_point now = BudgetClock::now());
  // A composite request is about to be sent.
  void spend_request(BudgetClock::time_point now = BudgetClock::now());

 private:
  std::vector<std::shared_ptr<Allowance>> events_;
  std::vector<std::shared_ptr<Allowance>> requests_;
};

// The allowances of `limits:`, shared by every publish mapping, and every live share (global and
// per mapping), which the daemon feeds with the readings of OrgLimits.
struct SharedAllowances {
  std::vector<std::shared_ptr<Allowance>> events;    // limits.max_events_per_hour, limits.budget
  std::vector<std::shared_ptr<Allowance>> requests;  // limits.max_api_requests_per_day, api_budget
  std::vector<std::shared_ptr<ShareAllowance>> shares;
};
SharedAllowances shared_allowances(const config::LimitsConfig& limits);

// The budget of one mapping: its own allowances plus the shared ones; null when nothing limits
// it. A share of the mapping is added to `shared.shares` so that it gets the readings too.
std::shared_ptr<PublishBudget> publish_budget(const config::PublishMapping& mapping,
                                              SharedAllowances& shared);

}  // namespace sfkb::pipeline
