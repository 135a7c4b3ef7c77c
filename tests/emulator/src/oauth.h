#pragma once

#include <optional>

#include <httplib.h>

#include "jwt.h"
#include "org.h"

namespace sfkb::emulator {

// POST /services/oauth2/token: the four grants a daemon may use, each enabled by the flags that
// configure its credentials. Issued tokens stay valid until the expire_tokens fault.
class OAuthEndpoint {
 public:
  OAuthEndpoint(Org& org, std::optional<JwtVerifier> jwt) : org_(org), jwt_(std::move(jwt)) {}

  void handle(const httplib::Request& req, httplib::Response& res);

 private:
  Org& org_;
  std::optional<JwtVerifier> jwt_;
};

}  // namespace sfkb::emulator
