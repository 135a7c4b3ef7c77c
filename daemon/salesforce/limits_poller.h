#pragma once
// Reads the REST `limits` resource (GET {instance_url}/services/data/vNN.0/limits) at a slow,
// configurable interval and hands the watched allocations to OrgLimits (limits.h). Salesforce
// computes the figures at most every few minutes and the call itself is an API request, so the
// default interval is minutes, not seconds. A failed read is logged (rate-limited) and tried again
// at the next turn; it never stops the bridge. Runs on a thread of its own (run()).

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>

#include "daemon/core/result.h"
#include "daemon/http/transport.h"
#include "daemon/ops/repeat_limiter.h"
#include "daemon/salesforce/limits.h"
#include "daemon/salesforce/token_source.h"

namespace sfkb::salesforce {

struct LimitsPollerOptions {
  std::string api_version = "62.0";
  std::chrono::milliseconds interval{std::chrono::minutes(5)};
  std::chrono::milliseconds request_timeout{30000};
};

class LimitsPoller {
 public:
  LimitsPoller(std::unique_ptr<http::Transport> transport, TokenSource& tokens,
               std::shared_ptr<OrgLimits> limits, LimitsPollerOptions options);

  // Reads once: ok when the allocations were handed on; kRetry (logged by run()) otherwise;
  // kStopped. A rejected token is refreshed once, as the REST client does.
  core::Status poll_once(std::stop_token stop);
  // poll_once() now and then every `interval`, until `stop`.
  void run(std::stop_token stop);

  std::string limits_url(const std::string& instance_url) const;

 private:
  core::Result<http::Response> get(const Session& session, std::stop_token stop);

  std::unique_ptr<http::Transport> transport_;
  TokenSource& tokens_;
  std::shared_ptr<OrgLimits> limits_;
  LimitsPollerOptions options_;
  ops::RepeatLimiter warnings_{std::chrono::minutes(10)};
};

}  // namespace sfkb::salesforce
