#include "daemon/ops/health_server.h"

#include <httplib.h>

#include <sys/socket.h>

#include <charconv>

#include "daemon/core/build_info.h"
#include "daemon/ops/log.h"

namespace sfkb::ops {
namespace {

std::optional<int> parse_port(std::string_view text) {
  int port = -1;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, port);
  if (ec != std::errc() || ptr != end || port < 0 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

std::string json_escape(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

core::Result<std::optional<ListenAddress>> resolve_listen(const std::string& listen,
                                                          const char* port_env) {
  if (port_env != nullptr && *port_env != '\0') {
    auto port = parse_port(port_env);
    if (!port) {
      return core::fatal_error(std::string("$PORT: not a port number: '") + port_env + "'");
    }
    return std::optional<ListenAddress>(ListenAddress{"0.0.0.0", *port});
  }
  if (listen.empty()) {
    return std::optional<ListenAddress>();
  }
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return core::fatal_error("http.listen: expected host:port, got '" + listen + "'");
  }
  std::string host = listen.substr(0, colon);
  auto port = parse_port(std::string_view(listen).substr(colon + 1));
  if (!port) {
    return core::fatal_error("http.listen: not a port number in '" + listen + "'");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) {
    host = "0.0.0.0";
  }
  return std::optional<ListenAddress>(ListenAddress{host, *port});
}

void register_build_info(Metrics& metrics) {
  metrics
      .gauge("sfkb_build_info", "Version and git commit of the running sf-kafka-bridge",
             {{"version", SFKB_VERSION}, {"commit", core::git_commit()}})
      .set(1);
}

std::pair<bool, std::string> readiness_body(const std::vector<ReadinessState>& states) {
  bool all_ready = true;
  std::string pipelines;
  std::string reasons;
  for (const auto& s : states) {
    all_ready = all_ready && s.ready;
    if (!pipelines.empty()) {
      pipelines += ',';
    }
    pipelines += "\"" + json_escape(s.name) + "\":\"" + (s.ready ? "ready" : "not ready") + "\"";
    if (!s.ready) {
      if (!reasons.empty()) {
        reasons += ',';
      }
      reasons += "\"" + json_escape(s.name) + "\":\"" + json_escape(s.reason) + "\"";
    }
  }
  std::string body = std::string("{\"status\":\"") + (all_ready ? "ready" : "not ready") +
                     "\",\"pipelines\":{" + pipelines + "}";
  if (!all_ready) {
    body += ",\"reasons\":{" + reasons + "}";
  }
  return {all_ready, body + "}\n"};
}

HealthServer::HealthServer(Metrics& metrics, ReadinessProbe readiness)
    : metrics_(metrics), readiness_(std::move(readiness)) {}

HealthServer::~HealthServer() {
  stop();
}

core::Status HealthServer::start(const ListenAddress& address) {
  server_ = std::make_unique<httplib::Server>();
  // httplib's default is SO_REUSEPORT, which would let a second bridge bind the same port and
  // split the scrapes between the two; SO_REUSEADDR alone still allows a quick restart.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const auto [ready, body] = readiness_body(readiness_());
    res.status = ready ? 200 : 503;
    res.set_content(body, "application/json");
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (address.port == 0) {
    port_ = server_->bind_to_any_port(address.host);
  } else {
    port_ = server_->bind_to_port(address.host, address.port) ? address.port : -1;
  }
  if (port_ <= 0) {
    server_.reset();
    return core::fatal_error("http: cannot listen on " + address.host + ":" +
                             std::to_string(address.port) + " (address in use or not local?)");
  }
  finished_ = false;
  thread_ = std::thread([this, server = server_.get()] {
    server->listen_after_bind();
    finished_ = true;
  });
  const bool v6 = address.host.find(':') != std::string::npos;
  logger("health")->info("http listening on {}{}{}:{} (/healthz /readyz /metrics)", v6 ? "[" : "",
                         address.host, v6 ? "]" : "", port_);
  return core::Status::ok();
}

void HealthServer::stop() {
  if (server_) {
    // httplib's stop() does nothing until the listen loop has marked itself running, so a stop
    // right after start() must wait for that hand-off (microseconds) or the join would hang.
    while (thread_.joinable() && !server_->is_running() && !finished_) {
      std::this_thread::yield();
    }
    server_->stop();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  server_.reset();
}

}  // namespace sfkb::ops
