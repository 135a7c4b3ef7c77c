#include "daemon/ops/health_server.h"

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
  metrics.gauge(Metric::kBuildInfo, {SFKB_VERSION, core::git_commit()}).set(1);
}

std::pair<bool, std::string> readiness_body(const std::vector<ReadinessState>& states) {
  bool all_ready = true;
  std::string pipelines;
  std::string reasons;
  std::string notes;
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
    } else if (!s.reason.empty()) {
      notes += (notes.empty() ? "\"" : ",\"") + json_escape(s.name) + "\":\"" +
               json_escape(s.reason) + "\"";
    }
  }
  std::string body = std::string("{\"status\":\"") + (all_ready ? "ready" : "not ready") +
                     "\",\"pipelines\":{" + pipelines + "}";
  if (!all_ready) {
    body += ",\"reasons\":{" + reasons + "}";
  }
  if (!notes.empty()) {
    body += ",\"notes\":{" + notes + "}";
  }
  return {all_ready, body + "}\n"};
}

HealthServer::HealthServer(Metrics& metrics, ReadinessProbe readiness,
                           PollHttpServerOptions options)
    : metrics_(metrics), readiness_(std::move(readiness)), options_(options) {}

HealthServer::~HealthServer() {
  stop();
}

core::Status HealthServer::start(const ListenAddress& address) {
  server_ = std::make_unique<PollHttpServer>(
      [this](std::string_view path) -> HttpReply {
        if (path == "/healthz") {
          return {200, "text/plain", "ok\n"};
        }
        if (path == "/readyz") {
          auto [ready, body] = readiness_body(readiness_());
          return {ready ? 200 : 503, "application/json", std::move(body)};
        }
        if (path == "/metrics") {
          return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render()};
        }
        return {404, "text/plain", "not found\n"};
      },
      options_);
  auto bound = server_->bind(address.host, address.port);
  if (!bound) {
    server_.reset();
    return bound.status();
  }
  port_ = bound.value();
  server_->start();
  const bool v6 = address.host.find(':') != std::string::npos;
  logger("health")->info("http listening on {}{}{}:{} (/healthz /readyz /metrics)", v6 ? "[" : "",
                         address.host, v6 ? "]" : "", port_);
  return core::Status::ok();
}

void HealthServer::stop() {
  if (server_) {
    server_->stop();
  }
  server_.reset();
}

}  // namespace sfkb::ops
