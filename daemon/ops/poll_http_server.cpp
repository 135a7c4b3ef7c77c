#include "daemon/ops/poll_http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <list>
#include <vector>

#include "daemon/ops/log.h"

namespace sfkb::ops {
namespace {

using Clock = std::chrono::steady_clock;

void set_non_blocking(int fd) {
  const int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

std::string serialize(const HttpReply& reply, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason_phrase(reply.status) +
                    "\r\nContent-Type: " + reply.content_type +
                    "\r\nContent-Length: " + std::to_string(reply.body.size()) +
                    "\r\nConnection: close\r\n\r\n";
  if (!head_only) {
    out += reply.body;
  }
  return out;
}

struct Connection {
  int fd = -1;
  Clock::time_point deadline;
  bool writing = false;  // the request is answered; `out` is being sent
  std::string in;
  std::string out;
  std::size_t written = 0;
};

}  // namespace

PollHttpServer::PollHttpServer(Handler handler, PollHttpServerOptions options)
    : handler_(std::move(handler)), options_(options) {}

PollHttpServer::~PollHttpServer() {
  stop();
}

core::Result<int> PollHttpServer::bind(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr) {
    return core::fatal_error("http: cannot resolve listen host '" + host + "'");
  }
  int fd = -1;
  for (auto* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      continue;
    }
    // SO_REUSEADDR (a quick restart), never SO_REUSEPORT: that would let a second bridge bind the
    // same port and split the scrapes between the two.
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    return core::fatal_error("http: cannot listen on " + host + ":" + service +
                             " (address in use or not local?)");
  }
  set_non_blocking(fd);
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  const int bound_port = bound.ss_family == AF_INET6
                             ? ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port)
                             : ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    close(fd);
    return core::fatal_error(std::string("http: pipe: ") + std::strerror(errno));
  }
  set_non_blocking(pipe_fds[0]);
  set_non_blocking(pipe_fds[1]);
  listen_fd_ = fd;
  wake_read_fd_ = pipe_fds[0];
  wake_write_fd_ = pipe_fds[1];
  return bound_port;
}

void PollHttpServer::start() {
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void PollHttpServer::stop() {
  stopping_ = true;
  if (wake_write_fd_ >= 0) {
    const char byte = 1;
    [[maybe_unused]] auto n = write(wake_write_fd_, &byte, 1);
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  for (int* fd : {&listen_fd_, &wake_read_fd_, &wake_write_fd_}) {
    if (*fd >= 0) {
      close(*fd);
      *fd = -1;
    }
  }
}

void PollHttpServer::loop() {
  // Oldest first: shedding takes the first connection still reading its request.
  std::list<Connection> connections;
  std::vector<pollfd> fds;
  std::vector<std::list<Connection>::iterator> order;
  // After an accept() failure other than "none pending" (EMFILE: out of descriptors) the listening
  // socket stays readable; it is left out of poll() for a moment instead of spinning on it.
  Clock::time_point accept_paused_until{};
  auto close_connection = [&](std::list<Connection>::iterator it) {
    close(it->fd);
    return connections.erase(it);
  };
  while (!stopping_) {
    fds.clear();
    order.clear();
    fds.push_back({wake_read_fd_, POLLIN, 0});
    auto now = Clock::now();
    auto next_deadline = now + std::chrono::seconds(60);
    const bool accepting = now >= accept_paused_until;
    fds.push_back({listen_fd_, static_cast<short>(accepting ? POLLIN : 0), 0});
    if (!accepting) {
      next_deadline = std::min(next_deadline, accept_paused_until);
    }
    for (auto it = connections.begin(); it != connections.end(); ++it) {
      fds.push_back({it->fd, static_cast<short>(it->writing ? POLLOUT : POLLIN), 0});
      order.push_back(it);
      next_deadline = std::min(next_deadline, it->deadline);
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline - now);
    const int ready =
        poll(fds.data(), fds.size(), static_cast<int>(std::max<std::int64_t>(0, wait.count()) + 1));
    if (ready < 0 && errno != EINTR) {
      logger("health")->error("http: poll failed: {}; the endpoint stops", std::strerror(errno));
      break;
    }
    if (stopping_) {
      break;
    }
    now = Clock::now();
    for (std::size_t i = 0; i < order.size(); ++i) {
      auto it = order[i];
      const short revents = fds[i + 2].revents;
      if (revents == 0) {
        if (now >= it->deadline) {
          close_connection(it);  // too slow to send its request or to read its reply
        }
        continue;
      }
      if (it->writing) {
        const ssize_t n =
            send(it->fd, it->out.data() + it->written, it->out.size() - it->written, MSG_NOSIGNAL);
        if (n > 0) {
          it->written += static_cast<std::size_t>(n);
        }
        if ((n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || it->written == it->out.size()) {
          shutdown(it->fd, SHUT_WR);
          close_connection(it);
        }
        continue;
      }
      char buffer[4096];
      const ssize_t n = recv(it->fd, buffer, sizeof(buffer), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        close_connection(it);
        continue;
      }
      if (n < 0) {
        continue;
      }
      it->in.append(buffer, static_cast<std::size_t>(n));
      const auto head_end = it->in.find("\r\n\r\n");
      if (head_end == std::string::npos) {
        if (it->in.size() > options_.max_request_head) {
          it->out = serialize({431, "text/plain", "request head too large\n"}, false);
          it->writing = true;
          it->deadline = now + options_.write_timeout;
        }
        continue;
      }
      // Request line: METHOD SP target SP version. Anything after the head (a body) is ignored.
      const std::string_view line(it->in.data(), it->in.find("\r\n"));
      const auto sp1 = line.find(' ');
      const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
      HttpReply reply;
      bool head_only = false;
      if (sp2 == std::string_view::npos) {
        reply = {400, "text/plain", "bad request line\n"};
      } else {
        const auto method = line.substr(0, sp1);
        auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        target = target.substr(0, target.find('?'));
        head_only = method == "HEAD";
        if (method != "GET" && !head_only) {
          reply = {405, "text/plain", "only GET and HEAD\n"};
        } else {
          try {
            reply = handler_(target);
          } catch (const std::exception& e) {  // e.g. bad_alloc rendering /metrics
            reply = {500, "text/plain", std::string("internal error: ") + e.what() + "\n"};
          }
        }
      }
      it->out = serialize(reply, head_only);
      it->in.clear();
      it->writing = true;
      it->deadline = now + options_.write_timeout;
    }
    if (fds[1].revents != 0) {
      while (true) {
        const int fd = accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
            accept_paused_until = now + std::chrono::milliseconds(100);
          }
          break;
        }
        set_non_blocking(fd);
        if (connections.size() >= options_.max_connections) {
          auto victim = std::find_if(connections.begin(), connections.end(),
                                     [](const Connection& c) { return !c.writing; });
          if (victim == connections.end()) {
            close(fd);  // every slot is sending a reply: this one can try again
            continue;
          }
          close_connection(victim);
        }
        connections.push_back({fd, now + options_.request_timeout, false, {}, {}, 0});
      }
    }
  }
  for (auto& c : connections) {
    close(c.fd);
  }
}

}  // namespace sfkb::ops
