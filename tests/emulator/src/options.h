#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace sfkb::emulator {

// Everything the command line configures. Defaults mirror Salesforce's production timing so
// that a daemon tuned against the emulator behaves the same against an org; tests shorten them.
struct Options {
  std::string listen_host = "127.0.0.1";
  int listen_port = 0;
  std::string events_file;
  std::string static_token;  // empty: none
  std::string jwt_public_key_file;
  std::string client_id;
  std::string client_secret;
  std::string username;
  std::string password;
  std::string refresh_token;
  std::int64_t connect_timeout_ms = 110000;  // Salesforce's long-poll length
  std::int64_t reconnect_window_ms = 40000;  // Salesforce forgets a client after ~40 s
  std::size_t retention = 1000000;           // events kept per channel
  std::uint64_t seed = 0;                    // 0: random
  std::size_t threads = 64;                  // HTTP worker threads (each long poll holds one)
  std::size_t max_batch_events = 10000;      // events per connect reply
  std::size_t max_batch_bytes = 8 * 1024 * 1024;
  bool deliver_on_any_reply = false;  // initial value of the deliver_on_any_reply fault
  // --limit NAME=MAX: small allocations for tests (see allocations.h); the rest stay very large.
  std::map<std::string, std::int64_t> limits;
  bool verbose = false;

  // The Pub/Sub API (gRPC) server, on its own port (pubsub_server.h). Off when pubsub_enabled is
  // false. Without a certificate it speaks plaintext, which only a loopback host may do.
  bool pubsub_enabled = true;
  std::string pubsub_host = "127.0.0.1";
  int pubsub_port = 0;
  std::string pubsub_tls_cert_file;  // PEM certificate chain; with the key: TLS
  std::string pubsub_tls_key_file;
  std::int64_t pubsub_keepalive_ms = 270000;  // Salesforce: an empty FetchResponse within 270 s
};

}  // namespace sfkb::emulator
