// CurlTransport against a real local HTTP server (cpp-httplib on an OS-chosen port).
#include "daemon/http/curl_transport.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

namespace sfkb::http {
namespace {

using namespace std::chrono_literals;

// A server whose slow handlers wait until the test ends (never a fixed sleep): the test releases
// them in its destructor so the server thread can be joined.
class LocalServer {
 public:
  LocalServer() {
    server_.Get("/hello", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello", "text/plain");
      res.set_header("X-Custom-Header", "Value");
    });
    server_.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 201;
      res.set_content(req.body + "|" + req.get_header_value("Content-Type") + "|" +
                          req.get_header_value("Authorization"),
                      "text/plain");
    });
    server_.Get("/set-cookie", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Set-Cookie", "BAYEUX_BROWSER=abc123; Path=/");
      res.set_content("ok", "text/plain");
    });
    server_.Get("/cookies", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.get_header_value("Cookie"), "text/plain");
    });
    server_.Get("/port", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(std::to_string(req.remote_port), "text/plain");
    });
    server_.Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock lock(mutex_);
      ++slow_started_;
      cv_.notify_all();
      cv_.wait_for(lock, 20s, [this] { return released_; });
      res.set_content("late", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] {
      server_.listen_after_bind();
      finished_ = true;
    });
    // bind_to_any_port already listens: connections queue in the backlog until the loop runs.
  }
  ~LocalServer() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    cv_.notify_all();
    // httplib's stop() is a no-op until the listen loop has marked itself running: a test that
    // never reaches the server (a TLS setup failure) would otherwise leave join() waiting forever.
    while (!server_.is_running() && !finished_) {
      std::this_thread::yield();
    }
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  bool wait_slow_started(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return slow_started_ > 0; });
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  int slow_started_ = 0;
  bool released_ = false;
};

Request get(const std::string& url) {
  Request request;
  request.url = url;
  return request;
}

TEST(CurlTransport, ShouldReturnBodyStatusAndLowerCaseHeadersOfGet) {
  LocalServer server;
  CurlTransport transport;
  auto response = transport.perform(get(server.url("/hello")), {});
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->header("x-custom-header"), "Value");
  EXPECT_EQ(response->header("X-Custom-Header"), "Value");
  bool lower_case = false;
  for (const auto& [name, value] : response->headers) {
    lower_case |= name == "x-custom-header";
  }
  EXPECT_TRUE(lower_case);
}

TEST(CurlTransport, ShouldSendPostBodyAndHeaders) {
  LocalServer server;
  CurlTransport transport;
  Request request;
  request.method = "POST";
  request.url = server.url("/echo");
  request.body = R"([{"channel":"/meta/handshake"}])";
  request.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer tok"}};
  auto response = transport.perform(request, {});
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, request.body + "|application/json|Bearer tok");
}

TEST(CurlTransport, ShouldReportHttpErrorStatusAsResponse) {
  LocalServer server;
  CurlTransport transport;
  auto response = transport.perform(get(server.url("/missing")), {});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
}

TEST(CurlTransport, ShouldKeepAndResendCookies) {
  LocalServer server;
  CurlTransport transport;
  ASSERT_TRUE(transport.perform(get(server.url("/set-cookie")), {}));
  auto response = transport.perform(get(server.url("/cookies")), {});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "BAYEUX_BROWSER=abc123");
}

TEST(CurlTransport, ShouldForgetCookiesWhenCleared) {
  LocalServer server;
  CurlTransport transport;
  ASSERT_TRUE(transport.perform(get(server.url("/set-cookie")), {}));
  transport.clear_cookies();
  auto response = transport.perform(get(server.url("/cookies")), {});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "");
}

TEST(CurlTransport, ShouldNotShareCookiesBetweenInstances) {
  LocalServer server;
  CurlTransport first;
  CurlTransport second;
  ASSERT_TRUE(first.perform(get(server.url("/set-cookie")), {}));
  auto response = second.perform(get(server.url("/cookies")), {});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "");
}

TEST(CurlTransport, ShouldReuseTheConnection) {
  LocalServer server;
  CurlTransport transport;
  auto first = transport.perform(get(server.url("/port")), {});
  auto second = transport.perform(get(server.url("/port")), {});
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(first->body, second->body) << "a new client port means a new connection";
}

TEST(CurlTransport, ShouldReturnRetryWithUrlWithoutQueryOnTimeout) {
  LocalServer server;
  CurlTransport transport;
  Request request = get(server.url("/slow?secret=x"));
  request.timeout = 300ms;
  auto response = transport.perform(request, {});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().kind, core::ErrorKind::kRetry);
  EXPECT_NE(response.error().message.find("/slow"), std::string::npos);
  EXPECT_EQ(response.error().message.find("secret"), std::string::npos);
}

TEST(CurlTransport, ShouldReturnRetryWhenNothingListens) {
  // A port the OS handed out and that nobody listens on: bound, never listened, then closed.
  int port = 0;
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    socklen_t length = sizeof(address);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port = ntohs(address.sin_port);
    ::close(fd);
  }
  CurlTransport transport;
  auto response = transport.perform(get("http://127.0.0.1:" + std::to_string(port) + "/"), {});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().kind, core::ErrorKind::kRetry);
}

TEST(CurlTransport, ShouldAbandonASlowResponseWithinASecondOfStop) {
  LocalServer server;
  CurlTransport transport;
  std::stop_source stop;
  Request request = get(server.url("/slow"));
  request.timeout = 60s;
  std::thread stopper([&] {
    if (server.wait_slow_started(10s)) {
      stop.request_stop();
    }
  });
  const auto started = std::chrono::steady_clock::now();
  auto response = transport.perform(request, stop.get_token());
  stopper.join();
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().kind, core::ErrorKind::kStopped);
  // The request reached the server before the stop; from then on at most a second.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST(CurlTransport, ShouldWorkAgainAfterAnAbandonedExchange) {
  LocalServer server;
  CurlTransport transport;
  std::stop_source stop;
  stop.request_stop();
  auto stopped = transport.perform(get(server.url("/hello")), stop.get_token());
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().kind, core::ErrorKind::kStopped);
  auto response = transport.perform(get(server.url("/hello")), {});
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->body, "hello");
}

TEST(CurlTransport, ShouldRefuseAResponseAboveTheLimit) {
  LocalServer server;
  CurlTransportOptions options;
  options.max_response_bytes = 3;
  CurlTransport transport(options);
  auto response = transport.perform(get(server.url("/hello")), {});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().kind, core::ErrorKind::kRetry);
}

TEST(CurlTransport, ShouldFailTlsAgainstAnUnverifiableCaFile) {
  // Verification is always on: a CA file that does not exist makes an https exchange fail
  // instead of silently trusting anything.
  CurlTransportOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  options.connect_timeout = 2s;
  CurlTransport transport(options);
  LocalServer server;
  std::string url = server.url("/hello");
  url.replace(0, 4, "https");
  auto response = transport.perform(get(url), {});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().kind, core::ErrorKind::kRetry);
}

}  // namespace
}  // namespace sfkb::http
