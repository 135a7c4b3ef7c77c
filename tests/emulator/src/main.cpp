// sf-emulator: a local Salesforce org for the bridge's tests and for development without an org.
// See tests/emulator/README.md for the endpoints, the admin API and the faults.

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <thread>

#include <CLI/CLI.hpp>

#include "server.h"

namespace {

using sfkb::emulator::Options;

bool parse_listen(const std::string& spec, Options& o) {
  auto colon = spec.rfind(':');
  if (colon == std::string::npos) {
    return false;
  }
  o.listen_host = spec.substr(0, colon);
  try {
    o.listen_port = std::stoi(spec.substr(colon + 1));
  } catch (const std::exception&) {
    return false;
  }
  return !o.listen_host.empty() && o.listen_port >= 0 && o.listen_port < 65536;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string listen = "127.0.0.1:0";
  CLI::App app{"sf-emulator: a local Salesforce org (OAuth, CometD platform events, REST publish)"};
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: chosen by the OS)");
  app.add_option("--events", o.events_file, "YAML file defining the event types")->required();
  app.add_option("--static-token", o.static_token, "a bearer token that is always valid");
  app.add_option("--jwt-public-key", o.jwt_public_key_file,
                 "PEM public key (or certificate) enabling the JWT bearer flow");
  app.add_option("--client-id", o.client_id, "connected app consumer key");
  app.add_option("--client-secret", o.client_secret, "connected app consumer secret");
  app.add_option("--username", o.username, "user for the JWT sub and password flows");
  app.add_option("--password", o.password, "password for the password flow");
  app.add_option("--refresh-token", o.refresh_token, "refresh token accepted by the refresh flow");
  app.add_option("--connect-timeout-ms", o.connect_timeout_ms,
                 "long-poll duration without events (Salesforce: 110000)");
  app.add_option("--reconnect-window-ms", o.reconnect_window_ms,
                 "forget a client that does not connect again within this (Salesforce: ~40000)");
  app.add_option("--retention", o.retention, "events retained per channel");
  app.add_option("--seed", o.seed, "random seed for ids and replay-id gaps (0: random)");
  app.add_option("--threads", o.threads, "HTTP worker threads (each long poll holds one)");
  app.add_option("--max-batch-events", o.max_batch_events, "events per connect reply at most");
  app.add_flag("--deliver-on-any-reply", o.deliver_on_any_reply,
               "queued events ride on every reply to a client, not only on connect replies "
               "(the deliver_on_any_reply fault)");
  std::vector<std::string> limits;
  app.add_option("--limit", limits,
                 "NAME=MAX: a small allocation for tests (DailyApiRequests, "
                 "HourlyPublishedPlatformEvents, DailyDeliveredPlatformEvents); repeatable");
  std::string pubsub_listen = "127.0.0.1:0";
  app.add_option("--pubsub-listen", pubsub_listen,
                 "HOST:PORT for the Pub/Sub API (gRPC; port 0: chosen by the OS), or `off`");
  app.add_option("--pubsub-tls-cert", o.pubsub_tls_cert_file,
                 "PEM certificate (chain) for the Pub/Sub API; with --pubsub-tls-key: TLS");
  app.add_option("--pubsub-tls-key", o.pubsub_tls_key_file, "PEM private key for the Pub/Sub API");
  app.add_option("--pubsub-keepalive-ms", o.pubsub_keepalive_ms,
                 "an empty FetchResponse after this long without events (Salesforce: 270000)");
  app.add_flag("--verbose", o.verbose, "log every request to stderr");
  bool exit_on_stdin_eof = false;
  app.add_flag("--exit-on-stdin-eof", exit_on_stdin_eof,
               "stop when stdin reaches end of file (the parent holding the pipe died)");
  CLI11_PARSE(app, argc, argv);
  if (!parse_listen(listen, o)) {
    std::cerr << "sf-emulator: --listen: expected HOST:PORT, got `" << listen << "`\n";
    return 2;
  }
  if (pubsub_listen == "off") {
    o.pubsub_enabled = false;
  } else {
    Options parsed;
    if (!parse_listen(pubsub_listen, parsed)) {
      std::cerr << "sf-emulator: --pubsub-listen: expected HOST:PORT or off, got `" << pubsub_listen
                << "`\n";
      return 2;
    }
    o.pubsub_host = parsed.listen_host;
    o.pubsub_port = parsed.listen_port;
  }
  if (o.pubsub_tls_cert_file.empty() != o.pubsub_tls_key_file.empty()) {
    std::cerr << "sf-emulator: --pubsub-tls-cert and --pubsub-tls-key go together\n";
    return 2;
  }
  for (const auto& spec : limits) {
    auto eq = spec.find('=');
    std::string name = spec.substr(0, eq);
    std::int64_t max = -1;
    try {
      max = eq == std::string::npos ? -1 : std::stoll(spec.substr(eq + 1));
    } catch (const std::exception&) {
    }
    if (!sfkb::emulator::Allocations::known(name) || max < 0) {
      std::cerr << "sf-emulator: --limit: expected NAME=MAX with NAME one of DailyApiRequests, "
                   "HourlyPublishedPlatformEvents, DailyDeliveredPlatformEvents, got `"
                << spec << "`\n";
      return 2;
    }
    o.limits[name] = max;
  }
  if (o.seed == 0) {
    o.seed = std::random_device{}() | (static_cast<std::uint64_t>(std::random_device{}()) << 32);
  }
  if (o.threads < 4) {
    o.threads = 4;
  }
  if (o.max_batch_events == 0) {
    o.max_batch_events = 1;
  }

  // Injected batches and connect replies are megabytes that are freed right after use; by
  // default glibc returns such memory to the kernel and the next batch pays page faults for it
  // again (measured as the top cost of inject). Keep freed memory in the process instead.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);

  // A client that disconnects mid-reply must not kill the server.
  signal(SIGPIPE, SIG_IGN);
  // Block the stop signals in every thread; one thread waits for them with sigwait, so no
  // handler has to be async-signal-safe.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    auto types = sfkb::emulator::EventTypes::load_file(o.events_file);
    std::optional<sfkb::emulator::JwtVerifier> jwt;
    if (!o.jwt_public_key_file.empty()) {
      jwt = sfkb::emulator::JwtVerifier::from_pem_file(o.jwt_public_key_file);
    }
    sfkb::emulator::EmulatorServer server(o, std::move(types), std::move(jwt));
    std::string url = server.bind();
    std::string pubsub = server.start_pubsub();

    std::thread signal_waiter([&server, stop_signals] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      server.stop();
      // Idle keep-alive connections keep httplib's workers busy until the keep-alive timeout;
      // do not let a test or a supervisor wait for that.
      std::this_thread::sleep_for(std::chrono::seconds(2));
      std::fflush(nullptr);
      _exit(0);
    });
    signal_waiter.detach();
    if (exit_on_stdin_eof) {
      // A test harness keeps our stdin pipe open; if it dies without stopping us, the pipe
      // closes and we stop the normal way instead of lingering as an orphan.
      std::thread([] {
        char buf[256];
        while (true) {
          ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
          if (n == 0 || (n < 0 && errno != EINTR)) {
            break;
          }
        }
        ::kill(::getpid(), SIGTERM);
      }).detach();
    }

    // The HTTP line first: readers that know only it take the first line.
    std::printf("listening on %s\n", url.c_str());
    if (!pubsub.empty()) {
      std::printf("pubsub listening on %s (%s)\n", pubsub.c_str(),
                  server.pubsub_tls() ? "tls" : "plaintext");
    }
    std::fflush(stdout);
    server.serve();
    std::fflush(nullptr);
    _exit(0);
  } catch (const std::exception& e) {
    std::cerr << "sf-emulator: " << e.what() << "\n";
    return 1;
  }
}
