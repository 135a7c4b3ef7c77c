// run_daemon: builds the shared collaborators (one TokenCache for both directions), the configured
// pipelines and the operator endpoints, then hands the pipelines to supervise() (wiring.h).
//
// Start-up order: build info -> token cache -> first login -> pipelines -> /healthz+/metrics ->
// watchdog -> run. The first login happens before any pipeline so that a wrong credential is one
// clear log line and exit 78 instead of two pipelines failing in parallel.
#include "daemon/app/supervisor.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>

#include "daemon/app/wiring.h"
#include "daemon/core/backoff.h"
#include "daemon/core/stop.h"
#include "daemon/http/curl_transport.h"
#include "daemon/kafka/client_config.h"
#include "daemon/ops/health_server.h"
#include "daemon/ops/liveness.h"
#include "daemon/ops/log.h"
#include "daemon/ops/metrics.h"
#include "daemon/ops/sd_notify.h"
#include "daemon/pipeline/publish_budget.h"
#include "daemon/pipeline/publish_kafka.h"
#include "daemon/pipeline/publish_pipeline.h"
#include "daemon/pipeline/subscribe_service.h"
#include "daemon/salesforce/limits.h"
#include "daemon/salesforce/limits_poller.h"
#include "daemon/salesforce/token_cache.h"

namespace sfkb::app {
namespace {

using namespace std::chrono_literals;

// How long the first login may keep failing for network reasons before the process gives up with
// 69 and lets systemd (Restart=on-failure) or the dyno manager try again from scratch.
constexpr auto kFirstLoginBudget = 2min;

// A heartbeat older than this stops the watchdog pings. It must cover the longest healthy wait of
// a loop iteration: a quiet CometD long poll (~110 s) plus the longest backoff.
std::chrono::milliseconds liveness_limit(const config::Config& config) {
  return std::max({std::chrono::milliseconds(3min),
                   config.salesforce.retry.max_backoff + std::chrono::milliseconds(2min),
                   config.salesforce.retry.daily_limit_backoff + std::chrono::milliseconds(1min)});
}

http::CurlTransportOptions transport_options(const config::SalesforceConfig& sf) {
  http::CurlTransportOptions options;
  options.ca_file = sf.ca_file;
  options.connect_timeout = sf.connect_timeout;
  return options;
}

// The first login, retried with backoff on network trouble. Returns the exit code to stop with,
// or nullopt to go on.
std::optional<int> first_login(salesforce::TokenSource& tokens, const config::Config& config,
                               std::stop_token stop) {
  auto log = ops::logger("supervisor");
  core::Backoff backoff(core::BackoffPolicy{config.salesforce.retry.initial_backoff,
                                            config.salesforce.retry.max_backoff});
  const auto deadline = std::chrono::steady_clock::now() + kFirstLoginBudget;
  while (true) {
    auto session = tokens.session(stop);
    if (session.is_ok()) {
      log->info("logged in to Salesforce: instance_url={} org_id={}", session->instance_url,
                session->org_id.empty() ? "unknown" : session->org_id);
      return std::nullopt;
    }
    const auto& error = session.error();
    if (error.kind == core::ErrorKind::kStopped) {
      return kExitOk;
    }
    if (error.kind != core::ErrorKind::kRetry) {
      // invalid_grant, invalid_client, a rejected static token: restarting cannot fix it, and a
      // restart loop can lock the Salesforce user out. 78 is not restarted by the unit file.
      log->error("Salesforce login rejected: {}; fix salesforce.auth and start again",
                 error.message);
      return kExitConfig;
    }
    const auto wait = backoff.next();
    if (std::chrono::steady_clock::now() + wait > deadline) {
      log->error("Salesforce login still failing after {} s: {}; exiting {}",
                 std::chrono::duration_cast<std::chrono::seconds>(kFirstLoginBudget).count(),
                 error.message, kExitUnavailable);
      return kExitUnavailable;
    }
    log->warn("Salesforce login failed, retrying in {} ms: {}", wait.count(), error.message);
    if (!core::interruptible_sleep(stop, wait)) {
      return kExitOk;
    }
  }
}

// With kafka.embedded the mock cluster would auto-create topics with one partition on first use,
// but the subscribe side asks for a topic's partition count before producing (and treats a
// missing topic as fatal, as it must against a real cluster), so every mapped topic is created
// up front.
core::Status create_embedded_topics(const config::Config& config, kafka::EmbeddedCluster& cluster) {
  std::vector<std::string> topics;
  for (const auto& s : config.subscribe) {
    topics.push_back(config::full_topic(config.kafka, s.topic));
  }
  for (const auto& p : config.publish) {
    for (const auto& t : p.topics) {
      topics.push_back(config::full_topic(config.kafka, t));
    }
    if (!p.dead_letter_topic.empty()) {
      topics.push_back(config::full_topic(config.kafka, p.dead_letter_topic));
    }
  }
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  for (const auto& topic : topics) {
    if (auto status = cluster.create_topic(topic, 1); !status.is_ok()) {
      return status;
    }
  }
  ops::logger("supervisor")
      ->info("kafka.embedded: created {} topic(s) in the mock cluster", topics.size());
  return core::Status::ok();
}

// What the pipelines are made of; declared before the slots that refer to them so that they
// outlive the pipeline threads.
struct Components {
  // The org's allocations (README "Limits and loops"): readings from every REST reply and from
  // the limits poller, the budgets' shared allowances.
  std::shared_ptr<salesforce::OrgLimits> org_limits;
  pipeline::SharedAllowances allowances;
  std::shared_ptr<kafka::EmbeddedCluster> embedded;
  std::unique_ptr<pipeline::SubscribeService> subscribe;
  std::vector<std::unique_ptr<pipeline::PublishPipeline>> publish;
};

// One subscribe pipeline for every channel (one CometD session). Its CometD transport beats the
// heartbeat: every long poll (quiet ones return after ~110 s) and every failed attempt before a
// backoff is a turn of its loop.
void add_subscribe_pipeline(const config::Config& config, salesforce::TokenSource& tokens,
                            ops::Metrics& metrics, Components& components,
                            std::vector<PipelineSlot>& slots) {
  if (config.subscribe.empty()) {
    return;
  }
  auto transport = std::make_unique<HeartbeatTransport>(
      std::make_unique<http::CurlTransport>(transport_options(config.salesforce)),
      ops::Liveness::global().heartbeat("subscribe"));
  components.subscribe =
      std::make_unique<pipeline::SubscribeService>(config, tokens, std::move(transport), metrics);
  auto& built = *components.subscribe;
  slots.push_back({"subscribe", [&built](std::stop_token stop) { return built.run(stop); },
                   [&built] { return built.ready(); },
                   [&built] { return built.not_ready_reason(); }});
}

// A publish pipeline per mapping, built like pipeline::make_publish_pipeline but with the consumer
// and the HTTP transport wrapped so that they beat the pipeline's heartbeat.
void add_publish_pipelines(const config::Config& config, salesforce::TokenSource& tokens,
                           ops::Metrics& metrics, Components& components,
                           std::vector<PipelineSlot>& slots) {
  for (std::size_t i = 0; i < config.publish.size(); ++i) {
    const auto& mapping = config.publish[i];
    const std::string name = "publish[" + std::to_string(i) + "]";
    auto& heartbeat = ops::Liveness::global().heartbeat(name);
    auto settings = pipeline::publish_settings_from(config, mapping);
    settings.rest.org_limits = components.org_limits;
    settings.budget = pipeline::publish_budget(mapping, components.allowances);
    auto consumer = std::make_unique<HeartbeatConsumer>(
        std::make_unique<pipeline::KafkaPublishConsumer>(config.kafka, settings.mapping.group_id,
                                                         settings.mapping.topics),
        heartbeat);
    std::unique_ptr<pipeline::DeadLetterSink> dead_letters;
    if (!settings.mapping.dead_letter_topic.empty()) {
      dead_letters = std::make_unique<pipeline::KafkaDeadLetterSink>(
          config.kafka, settings.mapping.dead_letter_topic);
    }
    auto transport = std::make_unique<HeartbeatTransport>(
        std::make_unique<http::CurlTransport>(transport_options(config.salesforce)), heartbeat);
    auto& built = *components.publish.emplace_back(std::make_unique<pipeline::PublishPipeline>(
        std::move(settings), std::move(consumer), std::move(dead_letters), std::move(transport),
        tokens, metrics));
    slots.push_back({name, [&built](std::stop_token stop) { return built.run(stop); },
                     [&built] { return built.ready(); },
                     [] { return std::string("consumer has not joined its group yet"); }});
  }
}

}  // namespace

int run_daemon(const config::Config& config, std::stop_token stop) {
  auto log = ops::logger("supervisor");
  auto& metrics = ops::Metrics::global();
  ops::register_build_info(metrics);
  ops::SystemdNotifier notifier;

  const auto listen = ops::resolve_listen(config.http.listen, std::getenv("PORT"));
  if (!listen.is_ok()) {
    log->error("{}", listen.error().message);
    return kExitConfig;
  }

  std::unique_ptr<salesforce::TokenCache> tokens;
  try {
    tokens = std::make_unique<salesforce::TokenCache>(
        config.salesforce,
        std::make_unique<http::CurlTransport>(transport_options(config.salesforce)), metrics);
  } catch (const std::exception& e) {
    log->error("cannot set up Salesforce authentication: {}", e.what());
    return kExitConfig;
  }
  if (auto code = first_login(*tokens, config, stop)) {
    return *code;
  }

  Components components;
  components.org_limits = std::make_shared<salesforce::OrgLimits>(config.limits.warn_at, metrics);
  components.allowances = pipeline::shared_allowances(config.limits);
  std::vector<PipelineSlot> slots;
  try {
    if (config.kafka.embedded) {
      components.embedded = kafka::EmbeddedCluster::instance();
      if (auto created = create_embedded_topics(config, *components.embedded); !created.is_ok()) {
        log->error("kafka.embedded: cannot create topics: {}", created.message());
        return kExitSoftware;
      }
    }
    add_subscribe_pipeline(config, *tokens, metrics, components, slots);
    add_publish_pipelines(config, *tokens, metrics, components, slots);
  } catch (const std::exception& e) {
    // Start-up only: a Kafka client that cannot be configured, an unreadable certificate, ...
    log->error("cannot build the pipelines: {}", e.what());
    return kExitSoftware;
  }
  if (slots.empty()) {
    log->error("no pipeline could be built for {} subscribe and {} publish mapping(s)",
               config.subscribe.size(), config.publish.size());
    return kExitSoftware;
  }

  // Every live share hears the readings of its allocation.
  components.org_limits->listen([shares = components.allowances.shares](
                                    const std::string& name, const salesforce::Usage& usage) {
    for (const auto& share : shares) {
      if (share->allocation() == name) {
        share->observe(usage.remaining());
      }
    }
  });
  std::jthread limits_thread;  // stopped and joined before `components` goes
  if (config.limits.poll_interval.count() > 0) {
    auto poller = std::make_shared<salesforce::LimitsPoller>(
        std::make_unique<http::CurlTransport>(transport_options(config.salesforce)), *tokens,
        components.org_limits,
        salesforce::LimitsPollerOptions{config.salesforce.api_version, config.limits.poll_interval,
                                        config.salesforce.request_timeout});
    limits_thread = std::jthread([poller](std::stop_token own) { poller->run(own); });
  } else {
    log->info("limits.poll_interval is 0: the limits resource is not read");
  }

  std::optional<ops::HealthServer> health;
  if (listen.value()) {
    health.emplace(metrics, [&slots, stop] { return readiness_of(slots, stop.stop_requested()); });
    if (auto started = health->start(*listen.value()); !started.is_ok()) {
      log->error("{}", started.message());
      return kExitUnavailable;
    }
  } else {
    log->info("http endpoint off (http.listen is empty and $PORT is not set)");
  }

  std::optional<ops::Watchdog> watchdog;
  if (auto period = ops::watchdog_period()) {
    const auto limit = liveness_limit(config);
    log->info("systemd watchdog: period {} ms, pings stop when a pipeline is stuck for {} s",
              std::chrono::duration_cast<std::chrono::milliseconds>(*period).count(),
              std::chrono::duration_cast<std::chrono::seconds>(limit).count());
    watchdog.emplace(notifier, ops::Liveness::global(), *period, limit);
  }

  const auto result = supervise(slots, notifier, {config.shutdown.timeout}, stop);
  if (result.shutdown_timed_out) {
    // Pipeline threads still run and use the objects of this frame: unwinding would destroy them
    // under their feet. The checkpoint file is replaced atomically, so leaving now loses nothing
    // that a restart does not replay.
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
    std::_Exit(result.exit_code);
  }
  watchdog.reset();
  if (health) {
    health->stop();
  }
  return result.exit_code;
}

}  // namespace sfkb::app
