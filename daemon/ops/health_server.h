#pragma once
// The operator's HTTP endpoint (docs/ARCHITECTURE.md §6): /healthz (the process answers), /readyz
// (every pipeline authenticated and connected, else 503 with the reasons as JSON) and /metrics
// (Prometheus text format 0.0.4). Served by a small poll(2) server on its own thread (see
// poll_http_server.h for why: idle or slow clients must not starve the health check); handlers
// only read atomics and the metrics registry, so a slow scraper never slows a pipeline.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/core/result.h"
#include "daemon/ops/metrics.h"
#include "daemon/ops/poll_http_server.h"

namespace sfkb::ops {

struct ListenAddress {
  std::string host;
  int port = 0;  // 0: the OS picks one (tests)
};

// Where to listen: `$PORT` (when `port_env` is set and non-empty) wins and binds every interface,
// because a platform that sets it (a Heroku web dyno) routes to it from outside; otherwise
// `listen` as "host:port", "[v6]:port" or ":port" (all interfaces). nullopt: the endpoint is off
// (empty `listen`, no $PORT). An unparsable value is kFatal with a message naming it.
core::Result<std::optional<ListenAddress>> resolve_listen(const std::string& listen,
                                                          const char* port_env);

// One component's readiness, as /readyz reports it.
struct ReadinessState {
  std::string name;  // "subscribe", "publish"
  bool ready = false;
  // Why not ready, e.g. "CometD session not established"; when ready, a note ("owns no channel")
  // or empty.
  std::string reason;
};
using ReadinessProbe = std::function<std::vector<ReadinessState>()>;

// Registers sfkb_build_info{version,commit} 1 in `metrics`.
void register_build_info(Metrics& metrics);

// The JSON body of /readyz and whether it is 200 (pure, for tests).
std::pair<bool, std::string> readiness_body(const std::vector<ReadinessState>& states);

class HealthServer {
 public:
  HealthServer(Metrics& metrics, ReadinessProbe readiness, PollHttpServerOptions options = {});
  ~HealthServer();  // stops the server and joins its thread
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // Binds and starts serving on a background thread; logs "http listening on HOST:PORT" with the
  // port actually bound. A port already in use is kFatal.
  core::Status start(const ListenAddress& address);
  int port() const { return port_; }
  void stop();

 private:
  Metrics& metrics_;
  ReadinessProbe readiness_;
  PollHttpServerOptions options_;
  std::unique_ptr<PollHttpServer> server_;
  int port_ = 0;
};

}  // namespace sfkb::ops
