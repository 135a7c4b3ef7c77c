// How many injected events per second sf-emulator delivers to one long-polling CometD client.
//
//   bench_emulator [--events N] [--batch B] [--payload-bytes P]
//
// Two figures:
//   live:   an injector thread posts batches of B events to /_emulator/inject while one client
//           long-polls; time from the first inject to the last event received.
//   replay: N events are retained first; a new client subscribes with replay -2 and drains
//           them; time from subscribe to the last event received.
// The client counts events by scanning for `"replayId":` rather than parsing JSON, so that the
// figure is the emulator's, not the client's JSON parser's (both share the machine's cores).

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include <httplib.h>

#include "emulator/emulator_process.h"

namespace {

using sfkb::emulator::testing::EmulatorProcess;
using Clock = std::chrono::steady_clock;

constexpr const char* kChannel = "/event/Test_Event__e";

// A minimal HTTP/1.1 keep-alive client on a raw socket, reading with a 1 MiB buffer. httplib's
// client reads 4 KiB per recv (compiled into Debian's library), which made the *client* the
// bottleneck of this benchmark; this one costs a few syscalls per megabyte.
class RawHttp {
 public:
  RawHttp(const std::string& host, int port) : buffer_(1 << 20) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::perror("bench: connect");
      std::exit(1);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawHttp() { ::close(fd_); }
  RawHttp(const RawHttp&) = delete;
  RawHttp& operator=(const RawHttp&) = delete;

  struct Reply {
    int status = 0;
    std::string headers;
    std::string body;
  };

  Reply post(const std::string& path, const std::string& extra_headers, const std::string& body) {
    std::string req =
        "POST " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers +
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
    for (std::size_t sent = 0; sent < req.size();) {
      ssize_t n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        fail("send");
      }
      sent += static_cast<std::size_t>(n);
    }
    Reply reply;
    std::size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      fill();
    }
    reply.headers = pending_.substr(0, header_end + 2);
    reply.status = std::atoi(reply.headers.c_str() + 9);
    auto cl = reply.headers.find("Content-Length: ");
    if (cl == std::string::npos) {
      fail("no Content-Length");
    }
    std::size_t length = std::strtoull(reply.headers.c_str() + cl + 16, nullptr, 10);
    pending_.erase(0, header_end + 4);
    while (pending_.size() < length) {
      fill();
    }
    reply.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return reply;
  }

 private:
  void fill() {
    ssize_t n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
    if (n <= 0) {
      fail("recv");
    }
    pending_.append(buffer_.data(), static_cast<std::size_t>(n));
  }
  [[noreturn]] static void fail(const char* what) {
    std::fprintf(stderr, "bench: %s failed\n", what);
    std::exit(1);
  }

  int fd_;
  std::vector<char> buffer_;
  std::string pending_;
};

struct Client {
  RawHttp http;
  std::string token;
  std::string client_id;
  std::string cookie;

  explicit Client(const EmulatorProcess& sf)
      : http(sf.host(), sf.port()), token(sf.static_token()) {}

  std::string post(const std::string& body) {
    std::string headers = "Authorization: Bearer " + token + "\r\n";
    if (!cookie.empty()) {
      headers += "Cookie: " + cookie + "\r\n";
    }
    auto res = http.post("/cometd/62.0", headers, body);
    if (res.status != 200) {
      std::fprintf(stderr, "bench: CometD request failed: %d %s\n", res.status, res.body.c_str());
      std::exit(1);
    }
    if (cookie.empty()) {
      auto at = res.headers.find("Set-Cookie: ");
      if (at != std::string::npos) {
        cookie = res.headers.substr(at + 12, res.headers.find_first_of(";\r", at) - at - 12);
      }
    }
    return std::move(res.body);
  }

  void handshake_and_subscribe(long long replay) {
    auto hs = post(
        R"([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"id":"1"}])");
    auto at = hs.find("\"clientId\":\"");
    client_id = hs.substr(at + 12, hs.find('"', at + 12) - at - 12);
    post(R"([{"channel":"/meta/subscribe","clientId":")" + client_id + R"(","subscription":")" +
         kChannel + R"(","ext":{"replay":{")" + kChannel + "\":" + std::to_string(replay) +
         R"(}},"id":"2"}])");
  }

  // One long poll; returns the number of events in the reply and adds its size to `bytes`.
  std::size_t connect(std::size_t& bytes) {
    auto body = post(R"([{"channel":"/meta/connect","clientId":")" + client_id +
                     R"(","connectionType":"long-polling","id":"3"}])");
    bytes += body.size();
    std::size_t n = 0;
    for (auto pos = body.find("\"replayId\":"); pos != std::string::npos;
         pos = body.find("\"replayId\":", pos + 11)) {
      ++n;
    }
    return n;
  }
};

void inject(const EmulatorProcess& sf, std::size_t count, const std::string& payload) {
  httplib::Client http(sf.host(), sf.port());
  http.set_read_timeout(std::chrono::seconds(60));
  std::string body = R"({"channel":")" + std::string(kChannel) + R"(","count":)" +
                     std::to_string(count) + R"(,"payload":)" + payload + "}";
  auto res = http.Post("/_emulator/inject", body, "application/json");
  if (!res || res->status != 200) {
    std::fprintf(stderr, "bench: inject failed\n");
    std::exit(1);
  }
}

// CPU seconds (user + system) the emulator process has used so far, from /proc/PID/stat. On a
// shared machine wall-clock rates depend on the neighbours; events per CPU-second do not.
double cpu_seconds(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) {
    return 0;
  }
  char buf[2048];
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) {
    return 0;
  }
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime);
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t total = 1'000'000;
  std::size_t batch = 10'000;
  std::size_t payload_bytes = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::size_t value = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--events") {
      total = value;
    } else if (flag == "--batch") {
      batch = value;
    } else if (flag == "--payload-bytes") {
      payload_bytes = value;
    } else {
      std::fprintf(stderr, "usage: bench_emulator [--events N] [--batch B] [--payload-bytes P]\n");
      return 2;
    }
  }
  // A realistic small event: a templated id, a number, a flag, a date and filler text.
  std::string payload = R"({"Text__c":"order-{n}","Number__c":42.5,"Flag__c":true,)"
                        R"("When__c":"2026-11-26T17:30:00.000Z","Filler__c":")" +
                        std::string(payload_bytes, 'x') + "\"}";

  EmulatorProcess::Options options;
  options.events_yaml =
      "events:\n  Test_Event__e:\n    Text__c: string\n    Number__c: number\n"
      "    Flag__c: boolean\n    When__c: datetime\n    Filler__c: string\n";
  options.extra_args = {"--connect-timeout-ms", "5000", "--retention", std::to_string(total * 2)};
  EmulatorProcess sf(options);
  std::printf("sf-emulator %s, %zu events, inject batch %zu, filler %zu bytes\n",
              sf.base_url().c_str(), total, batch, payload_bytes);

  // live
  {
    Client client(sf);
    client.handshake_and_subscribe(-1);
    double cpu_start = cpu_seconds(sf.pid());
    auto start = Clock::now();
    std::atomic<double> inject_seconds{0};
    std::thread injector([&] {
      for (std::size_t sent = 0; sent < total; sent += batch) {
        inject(sf, std::min(batch, total - sent), payload);
      }
      inject_seconds = seconds_since(start);
    });
    std::size_t received = 0;
    std::size_t bytes = 0;
    std::size_t connects = 0;
    while (received < total) {
      received += client.connect(bytes);
      ++connects;
    }
    double secs = seconds_since(start);
    injector.join();
    double cpu = cpu_seconds(sf.pid()) - cpu_start;
    std::printf(
        "live:   %zu events in %.3f s = %.0f events/s delivered (%.1f MB/s, %zu connects, "
        "avg %.0f events/connect; injects done after %.3f s); emulator CPU %.2f s = %.0f events "
        "per emulator CPU-second (inject + deliver)\n",
        received, secs, received / secs, bytes / secs / 1e6, connects,
        static_cast<double>(received) / connects, inject_seconds.load(), cpu, received / cpu);
  }
  // replay
  {
    Client client(sf);
    double cpu_start = cpu_seconds(sf.pid());
    auto start = Clock::now();
    client.handshake_and_subscribe(-2);
    std::size_t received = 0;
    std::size_t bytes = 0;
    std::size_t connects = 0;
    while (received < total) {
      received += client.connect(bytes);
      ++connects;
    }
    double secs = seconds_since(start);
    double cpu = cpu_seconds(sf.pid()) - cpu_start;
    std::printf(
        "replay: %zu events in %.3f s = %.0f events/s delivered (%.1f MB/s, %zu connects); "
        "emulator CPU %.2f s = %.0f events per emulator CPU-second (deliver only)\n",
        received, secs, received / secs, bytes / secs / 1e6, connects, cpu, received / cpu);
  }
  sf.stop();
  return 0;
}
