#pragma once
// A tiny HTTP/1.1 GET server for the operator endpoints, on one thread with poll(2).
//
// Why not a thread-per-connection library (cpp-httplib served these before): a health endpoint
// must answer exactly when something else misbehaves. With a fixed pool of worker threads, each
// worker blocked in a read, 15 idle TCP connections (or 16 clients that send one header line
// every 2 s, each line resetting a per-read timeout) occupied every worker and /healthz timed out,
// so a container orchestrator would restart a healthy bridge. Here no connection can hold the
// server: sockets are non-blocking, one thread waits on all of them, a request is answered as
// soon as its head is complete, and
//   - a connection must deliver its request head within `request_timeout` of being accepted
//     (a deadline for the whole head, not per read, so trickling header lines does not help);
//   - at most `max_connections` are open: a new one closes the oldest that has not sent a
//     complete request yet, so a flood of idle sockets cannot lock out the health check;
//   - every reply is `Connection: close`, written without blocking, within `write_timeout`.
// The handler runs on the server thread and must be quick (the endpoints read atomics and render
// the metrics registry).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "daemon/core/result.h"

namespace sfkb::ops {

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

struct PollHttpServerOptions {
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds write_timeout{10000};
  std::size_t max_connections = 64;
  std::size_t max_request_head = 8192;  // bytes; larger heads get 431
};

class PollHttpServer {
 public:
  // Called with the path of a GET or HEAD request (without the query string).
  using Handler = std::function<HttpReply(std::string_view path)>;

  explicit PollHttpServer(Handler handler, PollHttpServerOptions options = {});
  ~PollHttpServer();  // stops and joins
  PollHttpServer(const PollHttpServer&) = delete;
  PollHttpServer& operator=(const PollHttpServer&) = delete;

  // Binds `host:port` (port 0: the OS picks) and returns the bound port; kFatal if it cannot.
  core::Result<int> bind(const std::string& host, int port);
  // Serves on a background thread until stop().
  void start();
  void stop();

 private:
  void loop();

  Handler handler_;
  PollHttpServerOptions options_;
  int listen_fd_ = -1;
  int wake_read_fd_ = -1;  // a pipe: stop() writes, the poll loop wakes and returns
  int wake_write_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace sfkb::ops
