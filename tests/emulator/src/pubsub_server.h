#pragma once
// Salesforce's Pub/Sub API (gRPC, package eventbus.v1 from proto/eventbus/v1/pubsub_api.proto)
// over the org's event bus: what CometD delivers, Subscribe delivers too (same replay IDs, same
// order), and what Publish accepts, CometD subscribers see. tests/emulator/README.md
// "Pub/Sub API" has the behaviour, the error codes and the faults.

#include <memory>
#include <string>

#include "org.h"

namespace grpc {
class Server;
}

namespace sfkb::emulator {

class PubSubService;

class PubSubServer {
 public:
  explicit PubSubServer(Org& org);
  ~PubSubServer();
  PubSubServer(const PubSubServer&) = delete;
  PubSubServer& operator=(const PubSubServer&) = delete;

  // Listens on the configured host and port (0: chosen by the OS), TLS when a certificate is
  // configured; returns "host:port". Throws std::runtime_error when it cannot listen or when
  // plaintext is asked for on a host that is not loopback.
  std::string start();
  // Ends every open stream (UNAVAILABLE) and stops the server; callable from any thread, once
  // Org::shutdown() has been called. Idempotent.
  void stop();
  bool tls() const;

 private:
  Org& org_;
  std::unique_ptr<PubSubService> service_;
  std::unique_ptr<grpc::Server> server_;
};

// The 8-byte big-endian form of a bus replay ID that Pub/Sub clients see (opaque bytes to them;
// clients such as the npm salesforce-pubsub-api-client decode them as an unsigned 64-bit number).
std::string encode_replay_id(std::int64_t replay_id);

}  // namespace sfkb::emulator
