#pragma once

#include <memory>
#include <optional>
#include <string>

#include <httplib.h>

#include "admin.h"
#include "cometd.h"
#include "jwt.h"
#include "oauth.h"
#include "org.h"
#include "pubsub_server.h"
#include "rest_publish.h"

namespace sfkb::emulator {

// The HTTP server: routes, fail_next fault, request statistics and the worker pool.
class EmulatorServer {
 public:
  EmulatorServer(Options options, EventTypes types, std::optional<JwtVerifier> jwt);

  // Binds the listening socket; returns the base URL (http://host:port). Throws on failure.
  std::string bind();
  // Starts the Pub/Sub API server (when enabled); returns its "host:port", empty when disabled.
  std::string start_pubsub();
  bool pubsub_tls() const { return pubsub_.tls(); }
  // Serves until stop(); runs on the calling thread.
  bool serve();
  // Wakes long polls and stops accepting; callable from any thread.
  void stop();

 private:
  void install_routes();

  Org org_;
  CometdEndpoint cometd_;
  OAuthEndpoint oauth_;
  RestPublishEndpoint rest_;
  AdminEndpoint admin_;
  PubSubServer pubsub_;
  httplib::Server http_;
};

}  // namespace sfkb::emulator
