#pragma once
// The seam under every Salesforce client (auth, CometD, REST): one HTTP exchange at a time.
// The production implementation is CurlTransport (curl_transport.h); unit tests of the clients
// put a scripted fake here, never a mock of libcurl.

#include <chrono>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/result.h"

namespace sfkb::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";  // GET | POST
  std::string url;
  HeaderList headers;  // e.g. {"Authorization", "Bearer ..."}: never logged unredacted
  std::string body;
  // Whole-exchange bound. For the CometD long poll this is derived from advice.timeout.
  std::chrono::milliseconds timeout{30000};
};

struct Response {
  long status = 0;
  HeaderList headers;  // lower-case names
  std::string body;
  std::string header(std::string_view name) const;  // "" when absent
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Performs one exchange. Any HTTP status is a Response. Errors: kRetry for network failures and
  // timeouts (message names the URL without query and curl's text), kStopped when `stop` was
  // requested (the exchange is abandoned within about a second).
  virtual core::Result<Response> perform(const Request& request, std::stop_token stop) = 0;
  // Forget every cookie (a new CometD session must not reuse the old routing cookie).
  virtual void clear_cookies() = 0;
};

}  // namespace sfkb::http
