#pragma once
// The REST publish client (docs/ARCHITECTURE.md §2 publish, step 3): one composite request per
// batch, `POST {instance_url}/services/data/v{api}/composite/sobjects` with `allOrNone:false`,
// through the shared Transport seam and TokenSource (no HTTP or token code of its own).
//
// Not thread-safe: the publish pipeline owns one client and one Transport (its own HTTP session,
// so keep-alive to the instance is kept across batches).

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/result.h"
#include "daemon/http/transport.h"
#include "daemon/ops/metrics.h"
#include "daemon/ops/repeat_limiter.h"
#include "daemon/salesforce/limits.h"
#include "daemon/salesforce/rest_result.h"
#include "daemon/salesforce/token_source.h"

namespace sfkb::salesforce {

// Salesforce's documented maximum number of records per composite sObject collection request.
inline constexpr std::size_t kMaxCompositeRecords = 200;

struct RestClientOptions {
  std::string api_version = "62.0";
  std::chrono::milliseconds request_timeout{30000};
  // Receives the Sforce-Limit-Info of every reply (the daily API requests, at no extra cost).
  // Null: not read.
  std::shared_ptr<OrgLimits> org_limits;
};

// `{"allOrNone":false,"records":[r0,r1,...]}` where each r is an already serialized sObject.
// Concatenation only: the records were validated and serialized once by the record mapping.
std::string composite_body(const std::vector<std::string_view>& records);

class RestClient {
 public:
  RestClient(http::Transport& transport, TokenSource& tokens, RestClientOptions options,
             ops::Metrics& metrics = ops::Metrics::global());
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  // Publishes `records` (1..200 serialized sObjects) in one request and returns the decoded reply.
  // A 401 / INVALID_SESSION_ID is answered by one refresh of the token and one more attempt; if
  // that is rejected too, the reply (kind kReauth) is returned for the caller to back off.
  // Errors (no reply at all): kRetry for network trouble or a token endpoint that is down,
  // kFatal for a login Salesforce refused, kStopped when `stop` fired.
  core::Result<CompositeReply> publish(const std::vector<std::string_view>& records,
                                       std::stop_token stop);

  // The composite endpoint below an instance URL, e.g. https://x.my.salesforce.com/services/...
  std::string composite_url(const std::string& instance_url) const;

 private:
  core::Result<CompositeReply> attempt(const Session& session, const std::string& body,
                                       std::size_t count, std::stop_token stop);
  void count_request(const std::string& status);

  http::Transport& transport_;
  TokenSource& tokens_;
  RestClientOptions options_;
  ops::Metrics& metrics_;
  ops::Counter& malformed_;
  ops::RepeatLimiter malformed_warnings_;  // a broken proxy answers every retry the same
};

}  // namespace sfkb::salesforce
