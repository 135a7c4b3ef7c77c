#pragma once
// A scripted Transport, one layer below the Salesforce clients: every request is recorded and
// answered by the test's handler (or by the next canned reply). Thread-safe, so it can sit under
// a TokenCache used from several threads.

#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "daemon/http/transport.h"

namespace sfkb::testing {

class FakeTransport final : public http::Transport {
 public:
  using Handler = std::function<core::Result<http::Response>(const http::Request&)>;

  explicit FakeTransport(Handler handler = {}) : handler_(std::move(handler)) {}

  core::Result<http::Response> perform(const http::Request& request,
                                       std::stop_token stop) override {
    Handler handler;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      if (stop.stop_requested()) {
        return core::Error{core::ErrorKind::kStopped, "stopped"};
      }
      if (!replies_.empty()) {
        auto reply = std::move(replies_.front());
        replies_.pop_front();
        return reply;
      }
      handler = handler_;
    }
    if (!handler) {
      throw std::logic_error("FakeTransport: unexpected request to " + request.url);
    }
    return handler(request);
  }

  void clear_cookies() override {
    std::lock_guard lock(mutex_);
    ++cookie_clears_;
  }

  void push_reply(core::Result<http::Response> reply) {
    std::lock_guard lock(mutex_);
    replies_.push_back(std::move(reply));
  }
  void set_handler(Handler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }
  std::vector<http::Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int cookie_clears() const {
    std::lock_guard lock(mutex_);
    return cookie_clears_;
  }

 private:
  mutable std::mutex mutex_;
  Handler handler_;
  std::deque<core::Result<http::Response>> replies_;
  std::vector<http::Request> requests_;
  int cookie_clears_ = 0;
};

inline http::Response json_response(long status, std::string body) {
  http::Response response;
  response.status = status;
  response.headers = {{"content-type", "application/json"}};
  response.body = std::move(body);
  return response;
}

}  // namespace sfkb::testing
