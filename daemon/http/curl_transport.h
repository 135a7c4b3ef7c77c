#pragma once
// The production Transport: libcurl, one easy handle reused for keep-alive, driven through a
// multi handle so that a long poll can be abandoned within a fraction of a second when the stop
// token fires (docs/ARCHITECTURE.md §4).
//
// One instance = one cookie store = one HTTP "session": the CometD client owns its own instance
// so that the BAYEUX_BROWSER routing cookie never leaks between sessions or into the REST client.
// Not thread-safe: one perform() at a time (callers that share an instance serialise it).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "daemon/http/transport.h"

namespace sfkb::http {

struct CurlTransportOptions {
  // Empty: the system CA store. Verification itself cannot be switched off.
  std::string ca_file;
  std::chrono::milliseconds connect_timeout{10000};
  // A reply larger than this fails with kRetry instead of growing memory without bound. Salesforce
  // documents no maximum batch size; clients size buffers at 10 MB, so leave generous headroom.
  std::size_t max_response_bytes = 64 * 1024 * 1024;
  std::string user_agent = "sf-kafka-bridge/" SFKB_VERSION;
};

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(CurlTransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  core::Result<Response> perform(const Request& request, std::stop_token stop) override;
  void clear_cookies() override;

 private:
  struct Handles;
  CurlTransportOptions options_;
  std::unique_ptr<Handles> handles_;
};

}  // namespace sfkb::http
