#pragma once
// URLs of Salesforce endpoints (login_url, instance_url), parsed rather than prefix-matched: TLS is
// never off (docs/ARCHITECTURE.md §1), so plain http is accepted only where no network is crossed -
// a loopback IP literal (127.0.0.0/8, [::1]) or `localhost`, i.e. the emulator on this machine.

#include <optional>
#include <string>
#include <string_view>

namespace sfkb::core {

struct Url {
  std::string scheme;  // "http" or "https", lower-cased
  std::string host;    // a DNS name, a dotted-quad IPv4 literal or a bracketed IPv6 literal
  int port = 0;        // 0: the scheme's default
  std::string path;    // from the first '/', may be empty
};

// Parses scheme://host[:port][/path]; nullopt for anything else (other schemes, user info,
// empty or malformed hosts, ports outside 1-65535, a query without a path).
std::optional<Url> parse_url(std::string_view text);

// localhost, an IPv4 literal in 127.0.0.0/8, or [::1]. Names that merely look like one
// (127.0.0.1.nip.io, 127.attacker.example) are not loopback.
bool is_loopback_host(std::string_view host);

// What is wrong with a configured Salesforce URL, or an empty string: it must be https://, or
// http:// to a loopback host.
std::string web_url_problem(std::string_view url);

// What is wrong with the instance_url an OAuth token endpoint returned, or an empty string: it
// must be https://, or http:// to a loopback host when `login_url` is itself http:// to a loopback
// host (the emulator). Anything else would send the access token in clear text or elsewhere.
std::string instance_url_problem(std::string_view instance_url, std::string_view login_url);

// A gRPC endpoint (salesforce.pubsub_endpoint, the Pub/Sub API): `host:port` or
// `https://host[:port]` over TLS, `http://host:port` in plain text only to a loopback host (the
// emulator), as for the REST URLs above.
struct GrpcEndpoint {
  std::string target;  // host:port as gRPC takes it ([::1]:port for IPv6)
  bool tls = true;
};
// nullopt when `text` is none of those forms (a path, a bad port, plain http elsewhere).
std::optional<GrpcEndpoint> parse_grpc_endpoint(std::string_view text);
// What is wrong with a configured gRPC endpoint, or an empty string.
std::string grpc_endpoint_problem(std::string_view text);

}  // namespace sfkb::core
