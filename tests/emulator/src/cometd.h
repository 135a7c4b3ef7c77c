#pragma once

#include <httplib.h>

#include "org.h"

namespace sfkb::emulator {

// POST /cometd/<version>[/…]: the Bayeux endpoint with Salesforce's replay extension,
// long-polling transport, cookies and error strings (see docs/SALESFORCE_PROTOCOL.md).
class CometdEndpoint {
 public:
  explicit CometdEndpoint(Org& org) : org_(org) {}

  // Runs on an httplib worker thread; a /meta/connect blocks that thread for the long poll.
  void handle(const httplib::Request& req, httplib::Response& res);

 private:
  Org& org_;
};

// The text Salesforce returns for a replay id outside the retained window (two spaces after
// "invalid." are Salesforce's, and clients match on them).
std::string invalid_replay_error(const std::string& replay);

}  // namespace sfkb::emulator
