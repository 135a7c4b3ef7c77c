#pragma once

#include <httplib.h>

#include "org.h"

namespace sfkb::emulator {

// REST publishing of platform events: POST /services/data/vNN.0/sobjects/<Event>__e/ and
// POST /services/data/vNN.0/composite/sobjects. Accepted events go onto /event/<Event>__e and
// into the published log that GET /_emulator/published reads. Also the `limits` resource,
// GET /services/data/vNN.0/limits, from the org's allocations (allocations.h).
class RestPublishEndpoint {
 public:
  explicit RestPublishEndpoint(Org& org) : org_(org) {}

  void handle_single(const httplib::Request& req, httplib::Response& res);
  void handle_composite(const httplib::Request& req, httplib::Response& res);
  void handle_limits(const httplib::Request& req, httplib::Response& res);

 private:
  // Returns false (and fills `res` with 401) when the bearer token is missing or invalid, or
  // (403 REQUEST_LIMIT_EXCEEDED) when DailyApiRequests is spent; otherwise counts one API
  // request. Also applies the latency fault.
  bool admit(const httplib::Request& req, httplib::Response& res);

  Org& org_;
};

}  // namespace sfkb::emulator
