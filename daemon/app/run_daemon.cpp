// run_daemon: builds the shared TokenCache and, through the composition root (composition_root.h),
// the configured pipelines; then the operator endpoints; then hands the pipelines to supervise()
// (supervision.h).
//
// Start-up order: build info -> token cache -> first login -> pipelines -> /healthz+/metrics ->
// watchdog -> run. The first login happens before any pipeline so that a wrong credential is one
// clear log line and exit 78 instead of two pipelines failing in parallel.
#include "daemon/app/run_daemon.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>

#include "daemon/app/composition_root.h"
#include "daemon/app/supervision.h"
#include "daemon/core/backoff.h"
#include "daemon/core/stop.h"
#include "daemon/kafka/client_config.h"
#include "daemon/kafka/consumer.h"
#include "daemon/kafka/topic_creation.h"
#include "daemon/ops/health_server.h"
#include "daemon/ops/liveness.h"
#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"
#include "daemon/ops/metrics.h"
#include "daemon/ops/sd_notify.h"
#include "daemon/ownership/channel_partitions.h"

namespace sfkb::app {
namespace {

using namespace std::chrono_literals;

// How long the first login may keep failing for network reasons before the process gives up with
// 69 and lets systemd (Restart=on-failure) or the dyno manager try again from scratch.
constexpr auto kFirstLoginBudget = 2min;

// kafka.create_topics: the controller's answer to one CreateTopics request (it answers once the
// topics exist); a cluster that needs longer is unhealthy and the start fails with 69.
constexpr auto kCreateTopicsTimeout = 30s;

// A heartbeat older than this stops the watchdog pings. It must cover the longest healthy wait of
// a loop iteration: a quiet CometD long poll (~110 s) plus the longest backoff.
std::chrono::milliseconds liveness_limit(const config::Config& config) {
  return std::max({std::chrono::milliseconds(3min),
                   config.salesforce.retry.max_backoff + std::chrono::milliseconds(2min),
                   config.salesforce.retry.daily_limit_backoff + std::chrono::milliseconds(1min)});
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
      ops::info(log, "logged in to Salesforce: {} {}",
                ops::field("instance_url", session->instance_url),
                ops::field("org_id", session->org_id.empty() ? "unknown" : session->org_id));
      return std::nullopt;
    }
    const auto& error = session.error();
    if (error.kind == core::ErrorKind::kStopped) {
      return exit_code::kOk;
    }
    if (error.kind != core::ErrorKind::kRetry) {
      // invalid_grant, invalid_client, a rejected static token: restarting cannot fix it, and a
      // restart loop can lock the Salesforce user out. 78 is not restarted by the unit file.
      log->error("Salesforce login rejected: {}; fix salesforce.auth and start again",
                 error.message);
      return exit_code::kConfig;
    }
    const auto wait = backoff.next();
    if (std::chrono::steady_clock::now() + wait > deadline) {
      log->error("Salesforce login still failing after {} s: {}; exiting {}",
                 std::chrono::duration_cast<std::chrono::seconds>(kFirstLoginBudget).count(),
                 error.message, exit_code::kUnavailable);
      return exit_code::kUnavailable;
    }
    log->warn("Salesforce login failed, retrying in {} ms: {}", wait.count(), error.message);
    if (!core::interruptible_sleep(stop, wait)) {
      return exit_code::kOk;
    }
  }
}

// kafka.create_topics: the topics the bridge writes to - every subscribe destination and every
// dead-letter topic - are created when missing, before a pipeline looks them up (the subscribe side
// treats a missing topic as fatal). Publish source topics belong to other producers and are never
// created, as Kafka Connect creates only a source connector's topics. Returns an exit code when
// the start must stop: 69 when the cluster could not be reached, 78 when it refused (a policy or
// an ACL forbids it, an invalid topic config): a restart would be refused again.
std::optional<int> create_configured_topics(const config::Config& config) {
  auto log = ops::logger("supervisor");
  const auto& creation = config.kafka.create_topics;
  std::vector<kafka::TopicSpec> specs;
  const auto add = [&](const std::string& topic) {
    specs.push_back({config::full_topic(config.kafka, topic), creation.partitions,
                     creation.replication_factor, creation.configs});
  };
  for (const auto& s : config.subscribe) {
    add(s.topic);
  }
  for (const auto& p : config.publish) {
    if (!p.dead_letter_topic.empty()) {
      add(p.dead_letter_topic);
    }
  }
  if (specs.empty()) {
    return std::nullopt;
  }
  auto result = kafka::create_missing_topics(
      kafka::ClientConfig(config.kafka, kafka::Role::kProducer), specs, kCreateTopicsTimeout);
  if (!result.is_ok()) {
    log->error("{}", result.error().message);
    return result.error().kind == core::ErrorKind::kRetry ? exit_code::kUnavailable
                                                          : exit_code::kConfig;
  }
  for (const auto& topic : result->created) {
    log->info(
        "kafka.create_topics: created topic {} (partitions {}, replication factor {}, {} "
        "config(s))",
        topic, creation.partitions, creation.replication_factor, creation.configs.size());
  }
  if (!result->existing.empty()) {
    log->info("kafka.create_topics: {} topic(s) already existed and were left as they are",
              result->existing.size());
  }
  return std::nullopt;
}

// Several instances (README "Several instances"): the coordination topic is created when missing
// with one partition per channel, and grown to one per channel when the config gained channels
// (it holds no records, so nothing moves). Returns an exit code when the start must stop: 69 when
// the cluster could not be reached, 78 when the topic cannot serve (creation or growth refused).
std::optional<int> prepare_coordination_topic(const config::Config& config, std::stop_token stop) {
  auto log = ops::logger("ownership");
  const std::string topic = config::full_topic(config.kafka, config.coordination.topic);
  const auto channels = static_cast<int>(config.subscribe.size());
  const auto exit_for = [](const core::Error& error) {
    return error.kind == core::ErrorKind::kRetry ? exit_code::kUnavailable : exit_code::kConfig;
  };
  auto created = kafka::create_missing_topics(
      kafka::ClientConfig(config.kafka, kafka::Role::kProducer),
      {{topic, channels, config.kafka.create_topics.replication_factor, {}}}, kCreateTopicsTimeout);
  if (!created.is_ok()) {
    log->error("coordination topic {}: {}", topic, created.error().message);
    return exit_for(created.error());
  }
  if (!created->created.empty()) {
    log->info("created coordination topic {} with {} partition(s)", topic, channels);
  }
  // Metadata may lag the creation (or the growth) by a moment on a multi-broker cluster.
  kafka::TailReader reader(kafka::ClientConfig(config.kafka, kafka::Role::kConsumer));
  const auto deadline = std::chrono::steady_clock::now() + kCreateTopicsTimeout;
  bool grown = false;
  while (true) {
    auto count = reader.partition_count(topic, 5s);
    if (count.is_ok()) {
      const auto problem =
          ownership::partition_count_problem(topic, count.value(), config.subscribe.size());
      if (problem.empty()) {
        return std::nullopt;
      }
      if (!grown) {
        grown = true;
        ops::info(log, "coordination topic {} has {} partition(s) for {} channel(s): adding {}",
                  ops::field("topic", topic), count.value(), channels, channels - count.value());
        if (auto status =
                kafka::add_partitions(kafka::ClientConfig(config.kafka, kafka::Role::kProducer),
                                      topic, channels, kCreateTopicsTimeout);
            !status) {
          log->error("{}; {}", problem, status.message());
          return exit_for(status.error());
        }
        continue;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        log->error("{}", problem);
        return exit_code::kConfig;
      }
    } else if (std::chrono::steady_clock::now() >= deadline) {
      log->error("coordination topic {}: {}", topic, count.error().message);
      return exit_code::kUnavailable;
    }
    core::interruptible_sleep(stop, 200ms);
    if (stop.stop_requested()) {
      return exit_code::kOk;
    }
  }
}

// checkpoint.store: kafka - the checkpoint topic is the bridge's own (as Kafka Connect creates
// its offsets topic): created when missing, compacted, one partition, whatever
// kafka.create_topics says. 69 when the cluster could not be reached, 78 when it refused (create
// it by hand then).
std::optional<int> create_checkpoint_topic(const config::Config& config) {
  auto log = ops::logger("supervisor");
  const kafka::TopicSpec spec{checkpoint_topic(config),
                              1,
                              config.kafka.create_topics.replication_factor,
                              {{"cleanup.policy", "compact"}}};
  auto result = kafka::create_missing_topics(
      kafka::ClientConfig(config.kafka, kafka::Role::kProducer), {spec}, kCreateTopicsTimeout);
  if (!result.is_ok()) {
    log->error(
        "checkpoint.store: kafka needs the compacted topic {}: {}; create it "
        "(cleanup.policy=compact) or allow the bridge to",
        spec.name, result.error().message);
    return result.error().kind == core::ErrorKind::kRetry ? exit_code::kUnavailable
                                                          : exit_code::kConfig;
  }
  for (const auto& topic : result->created) {
    log->info("checkpoint.store: kafka: created the compacted topic {}", topic);
  }
  return std::nullopt;
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
    return exit_code::kConfig;
  }

  std::unique_ptr<salesforce::TokenCache> tokens;
  try {
    tokens = make_token_source(config, metrics);
  } catch (const std::exception& e) {
    log->error("cannot set up Salesforce authentication: {}", e.what());
    return exit_code::kConfig;
  }
  if (auto code = first_login(*tokens, config, stop)) {
    return *code;
  }

  // Before the root: the subscribe side looks its topics up while it is built.
  if (!config.kafka.embedded && config.kafka.create_topics.enabled) {
    if (auto code = create_configured_topics(config)) {
      return *code;
    }
  }
  if (!config.kafka.embedded && !config.subscribe.empty() &&
      config.checkpoint.store == config::CheckpointStoreKind::kKafka) {
    if (auto code = create_checkpoint_topic(config)) {
      return *code;
    }
  }

  if (shares_channels(config)) {
    if (auto code = prepare_coordination_topic(config, stop)) {
      return *code;
    }
  }

  // Declared before everything that refers to its slots, so that it outlives the pipeline threads.
  std::unique_ptr<CompositionRoot> root;
  try {
    root = std::make_unique<CompositionRoot>(config, *tokens, metrics, ops::Liveness::global());
  } catch (const std::exception& e) {
    // Start-up only: a Kafka client that cannot be configured, an unreadable certificate, ...
    log->error("cannot build the pipelines: {}", e.what());
    return exit_code::kSoftware;
  }
  const auto& slots = root->slots();
  if (slots.empty()) {
    log->error("no pipeline could be built for {} subscribe and {} publish mapping(s)",
               config.subscribe.size(), config.publish.size());
    return exit_code::kSoftware;
  }

  std::optional<ops::HealthServer> health;
  if (listen.value()) {
    health.emplace(metrics, [&slots, stop] { return readiness_of(slots, stop.stop_requested()); });
    if (auto started = health->start(*listen.value()); !started.is_ok()) {
      log->error("{}", started.message());
      return exit_code::kUnavailable;
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
