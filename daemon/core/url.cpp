#include "daemon/core/url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace sfkb::core {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// RFC 1123 host name: dot-separated labels of letters, digits and '-', no empty label, no label
// starting or ending with '-'.
bool is_dns_name(std::string_view host) {
  if (host.empty() || host.size() > 253) {
    return false;
  }
  std::size_t start = 0;
  while (start <= host.size()) {
    auto dot = host.find('.', start);
    if (dot == std::string_view::npos) {
      dot = host.size();
    }
    const std::string_view label = host.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-'; })) {
      return false;
    }
    start = dot + 1;
  }
  return true;
}

std::optional<in_addr> ipv4_literal(std::string_view host) {
  in_addr address{};
  // inet_pton accepts exactly four decimal parts, unlike inet_aton (no 127.1, no 0x7f.0.0.1).
  if (inet_pton(AF_INET, std::string(host).c_str(), &address) != 1) {
    return std::nullopt;
  }
  return address;
}

std::optional<in6_addr> ipv6_literal(std::string_view host) {
  if (host.size() < 3 || host.front() != '[' || host.back() != ']') {
    return std::nullopt;
  }
  in6_addr address{};
  if (inet_pton(AF_INET6, std::string(host.substr(1, host.size() - 2)).c_str(), &address) != 1) {
    return std::nullopt;
  }
  return address;
}

std::string quoted(std::string_view text) {
  // A URL comes from a file or a server reply: bound it and keep it on one line.
  std::string out = "\"";
  for (char c : text.substr(0, 200)) {
    out += std::iscntrl(static_cast<unsigned char>(c)) ? '?' : c;
  }
  return out + (text.size() > 200 ? "...\"" : "\"");
}

}  // namespace

std::optional<Url> parse_url(std::string_view text) {
  const auto separator = text.find("://");
  if (separator == std::string_view::npos) {
    return std::nullopt;
  }
  Url url;
  url.scheme = lower(text.substr(0, separator));
  if (url.scheme != "http" && url.scheme != "https") {
    return std::nullopt;
  }
  std::string_view rest = text.substr(separator + 3);
  const auto path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  if (path_start != std::string_view::npos) {
    url.path = std::string(rest.substr(path_start));
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = authority.substr(0, close + 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return std::nullopt;
      }
      port = after.substr(1);
    }
    if (!ipv6_literal(host)) {
      return std::nullopt;
    }
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    // Covers user info ('@'), queries and fragments without a path ('?', '#'), and spaces.
    if (!is_dns_name(host)) {
      return std::nullopt;
    }
  }
  if (authority.size() != host.size()) {
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
        value > 65535) {
      return std::nullopt;
    }
    url.port = value;
  }
  url.host = lower(host);
  return url;
}

bool is_loopback_host(std::string_view host) {
  if (lower(host) == "localhost") {
    return true;
  }
  if (auto v4 = ipv4_literal(host)) {
    return (ntohl(v4->s_addr) >> 24) == 127;
  }
  if (auto v6 = ipv6_literal(host)) {
    return std::memcmp(&*v6, &in6addr_loopback, sizeof(in6_addr)) == 0;
  }
  return false;
}

std::string web_url_problem(std::string_view url) {
  auto parsed = parse_url(url);
  if (!parsed) {
    return quoted(url) + " is not an https:// URL";
  }
  if (parsed->scheme == "http" && !is_loopback_host(parsed->host)) {
    return quoted(url) +
           " uses plain http, which is allowed only for localhost, 127.0.0.0/8 or [::1] (a local "
           "emulator)";
  }
  return {};
}

std::string instance_url_problem(std::string_view instance_url, std::string_view login_url) {
  auto instance = parse_url(instance_url);
  if (!instance) {
    return "the token endpoint returned instance_url " + quoted(instance_url) +
           ", which is not an https:// URL";
  }
  if (instance->scheme == "https") {
    return {};
  }
  auto login = parse_url(login_url);
  const bool login_loopback = login && login->scheme == "http" && is_loopback_host(login->host);
  if (login_loopback && is_loopback_host(instance->host)) {
    return {};
  }
  return "the token endpoint returned instance_url " + quoted(instance_url) +
         ", which uses plain http; only https:// is accepted (plain http only for a loopback "
         "instance of a loopback login_url, i.e. a local emulator)";
}

std::optional<GrpcEndpoint> parse_grpc_endpoint(std::string_view text) {
  const bool has_scheme = text.find("://") != std::string_view::npos;
  auto url = parse_url(has_scheme ? std::string(text) : "https://" + std::string(text));
  if (!url || !url->path.empty()) {
    return std::nullopt;
  }
  if (!has_scheme && url->port == 0) {
    return std::nullopt;  // a bare host names no port: host:port is the documented form
  }
  if (url->scheme == "http" && !is_loopback_host(url->host)) {
    return std::nullopt;
  }
  const int port = url->port != 0 ? url->port : (url->scheme == "https" ? 443 : 80);
  return GrpcEndpoint{url->host + ":" + std::to_string(port), url->scheme == "https"};
}

std::string grpc_endpoint_problem(std::string_view text) {
  if (parse_grpc_endpoint(text)) {
    return {};
  }
  const auto url = parse_url(text);
  if (url && url->scheme == "http" && url->path.empty() && !is_loopback_host(url->host)) {
    return quoted(text) +
           " uses plain http, which is allowed only for localhost, 127.0.0.0/8 or [::1] (a local "
           "emulator)";
  }
  return quoted(text) + " is not host:port, https://host[:port] or http://<loopback>:port";
}

}  // namespace sfkb::core
