#include "server.h"

#include <cstdio>
#include <stdexcept>

namespace sfkb::emulator {
namespace {

// Groups request paths for /_emulator/stats, so counts don't split by version or event name.
std::string endpoint_of(const httplib::Request& req) {
  const std::string& p = req.path;
  std::string key;
  if (p.rfind("/cometd", 0) == 0) {
    key = "/cometd";
  } else if (p.rfind("/services/data/", 0) == 0 &&
             p.find("/composite/sobjects") != std::string::npos) {
    key = "/services/data/composite/sobjects";
  } else if (p.rfind("/services/data/", 0) == 0 && p.find("/sobjects/") != std::string::npos) {
    key = "/services/data/sobjects";
  } else if (p.rfind("/services/data/", 0) == 0 && p.find("/limits") != std::string::npos) {
    key = "/services/data/limits";
  } else {
    key = p;
  }
  return req.method + " " + key;
}

}  // namespace

EmulatorServer::EmulatorServer(Options options, EventTypes types, std::optional<JwtVerifier> jwt)
    : org_(std::move(options), std::move(types)),
      cometd_(org_),
      oauth_(org_, std::move(jwt)),
      rest_(org_),
      admin_(org_),
      pubsub_(org_) {
  install_routes();
}

void EmulatorServer::install_routes() {
  // Each long poll holds a worker for up to connect_timeout_ms, and every idle keep-alive
  // connection holds one too, so the pool is far larger than the core count.
  std::size_t threads = org_.options.threads;
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // A client reuses its connection for every connect; a small cap would force reconnects in the
  // middle of a benchmark.
  http_.set_keep_alive_max_count(1'000'000);
  http_.set_keep_alive_timeout(10);
  http_.set_read_timeout(30);
  http_.set_write_timeout(30);
  http_.set_tcp_nodelay(true);

  http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/_emulator/", 0) == 0) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    int status = 0;
    std::string code;
    {
      std::lock_guard lock(org_.mutex);
      auto& f = org_.faults.fail_next;
      if (f.count > 0 && req.path.rfind(f.path, 0) == 0) {
        --f.count;
        status = f.status;
        code = f.error_code;
      }
    }
    if (status == 0) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.status = status;
    // The request body was not read (routing stops here), so this keep-alive connection would
    // parse it as the next request: have the client close it.
    res.set_header("Connection", "close");
    res.set_content("[{\"message\":\"Injected failure (sf-emulator fail_next)\",\"errorCode\":\"" +
                        code + "\"}]",
                    "application/json;charset=UTF-8");
    return httplib::Server::HandlerResponse::Handled;
  });
  // Counted before the response is written (post-routing), so that a client that got its reply
  // always finds it in /_emulator/stats.
  http_.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    std::string key = endpoint_of(req);
    std::lock_guard lock(org_.mutex);
    ++org_.stats.requests[key][res.status];
    // Salesforce sets it on every REST API response (docs/SALESFORCE_PROTOCOL.md "Limits and
    // allocations").
    if (req.path.rfind("/services/data/", 0) == 0) {
      res.set_header("Sforce-Limit-Info", org_.allocations.limit_info());
    }
  });
  if (org_.options.verbose) {
    http_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fprintf(stderr, "sf-emulator: %s %s -> %d\n", req.method.c_str(), req.path.c_str(),
                   res.status);
    });
  }
  http_.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        std::fprintf(stderr, "sf-emulator: handler error: %s\n", what.c_str());
        res.status = 500;
        res.set_content(
            "[{\"message\":\"sf-emulator internal error\",\"errorCode\":\"UNKNOWN_EXCEPTION\"}]",
            "application/json;charset=UTF-8");
      });

  auto bind_handler = [](auto* endpoint, auto method) {
    return [endpoint, method](const httplib::Request& req, httplib::Response& res) {
      (endpoint->*method)(req, res);
    };
  };
  http_.Post(R"(/services/oauth2/token/?)", bind_handler(&oauth_, &OAuthEndpoint::handle));
  http_.Post(R"(/cometd/?(.*))", bind_handler(&cometd_, &CometdEndpoint::handle));
  http_.Post(R"(/services/data/v(\d+\.\d+)/sobjects/([^/]+)/?)",
             bind_handler(&rest_, &RestPublishEndpoint::handle_single));
  http_.Post(R"(/services/data/v(\d+\.\d+)/composite/sobjects/?)",
             bind_handler(&rest_, &RestPublishEndpoint::handle_composite));
  http_.Get(R"(/services/data/v(\d+\.\d+)/limits/?)",
            bind_handler(&rest_, &RestPublishEndpoint::handle_limits));
  http_.Post("/_emulator/inject", bind_handler(&admin_, &AdminEndpoint::inject));
  http_.Get("/_emulator/published", bind_handler(&admin_, &AdminEndpoint::published));
  http_.Post("/_emulator/faults", bind_handler(&admin_, &AdminEndpoint::faults));
  http_.Post("/_emulator/reset", bind_handler(&admin_, &AdminEndpoint::reset));
  http_.Get("/_emulator/stats", bind_handler(&admin_, &AdminEndpoint::stats));
  http_.Get("/_emulator/limits", bind_handler(&admin_, &AdminEndpoint::limits));
  http_.Post("/_emulator/limits", bind_handler(&admin_, &AdminEndpoint::limits));
}

std::string EmulatorServer::bind() {
  const Options& o = org_.options;
  int port = o.listen_port;
  if (port == 0) {
    port = http_.bind_to_any_port(o.listen_host);
    if (port <= 0) {
      throw std::runtime_error("cannot listen on " + o.listen_host + ":0");
    }
  } else if (!http_.bind_to_port(o.listen_host, port)) {
    throw std::runtime_error("cannot listen on " + o.listen_host + ":" + std::to_string(port));
  }
  org_.base_url = "http://" + o.listen_host + ":" + std::to_string(port);
  return org_.base_url;
}

std::string EmulatorServer::start_pubsub() {
  return org_.options.pubsub_enabled ? pubsub_.start() : std::string();
}

bool EmulatorServer::serve() {
  return http_.listen_after_bind();
}

void EmulatorServer::stop() {
  org_.shutdown();
  pubsub_.stop();
  http_.stop();
}

}  // namespace sfkb::emulator
