#include "daemon/config/rules.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include "daemon/config/files.h"
#include "daemon/config/names.h"
#include "daemon/config/scalars.h"

namespace sfkb::config::rules {

void retry_order(Reader& reader, const Map& m, RetryConfig& retry) {
  if (retry.initial_backoff > retry.max_backoff) {
    const Located at = reader.at(m, "initial_backoff");
    reader.error(at.path, at.mark,
                 "must not exceed max_backoff (" + format_duration(retry.max_backoff) + ")");
  }
}

void topic_creation_counts(Reader& reader, const Map& m, TopicCreationConfig& creation) {
  for (auto [key, value] : {std::pair<std::string_view, int*>{"partitions", &creation.partitions},
                            {"replication_factor", &creation.replication_factor}}) {
    if (*value == 0) {
      const Located at = reader.at(m, key);
      reader.error(at.path, at.mark, "must be -1 (the broker's default) or at least 1, got 0");
      *value = -1;
    }
  }
}

void auth_flow_requirements(Reader& reader, const Map& m, AuthConfig& auth) {
  // Which fields are required depends on the flow: none when it is missing or wrong.
  if (!reader.accepted(join(m.path, "flow"))) {
    return;
  }
  auto need = [&](std::string_view key, const std::string& value, std::string_view flow) {
    reader.require_non_empty(m, key, value, "for auth flow " + std::string(flow));
  };
  switch (auth.flow) {
    case AuthFlow::kJwtBearer:
      need("client_id", auth.client_id, "jwt_bearer");
      need("username", auth.username, "jwt_bearer");
      if (auth.private_key_file.empty() && auth.private_key.empty()) {
        reader.error(join(m.path, "private_key_file"), m.mark,
                     "is required for auth flow jwt_bearer (or private_key with the PEM itself)");
      } else if (!auth.private_key_file.empty() && !auth.private_key.empty()) {
        const Located at = reader.at(m, "private_key");
        reader.error(at.path, at.mark, "set either private_key_file or private_key, not both");
      } else if (!auth.private_key_file.empty()) {
        const Located at = reader.at(m, "private_key_file");
        if (reader.accepted(at.path)) {
          if (auto problem = readable_file_problem(auth.private_key_file, true); !problem.empty()) {
            reader.error(at.path, at.mark, problem);
          }
        }
      } else if (auth.private_key.find("PRIVATE KEY-----") == std::string::npos) {
        const Located at = reader.at(m, "private_key");
        reader.error(at.path, at.mark,
                     "does not hold a PEM private key (-----BEGIN ... PRIVATE KEY-----)");
      }
      break;
    case AuthFlow::kClientCredentials:
      need("client_id", auth.client_id, "client_credentials");
      need("client_secret", auth.client_secret, "client_credentials");
      break;
    case AuthFlow::kRefreshToken:
      need("client_id", auth.client_id, "refresh_token");
      need("refresh_token", auth.refresh_token, "refresh_token");
      break;
    case AuthFlow::kPassword:
      need("client_id", auth.client_id, "password");
      need("client_secret", auth.client_secret, "password");
      need("username", auth.username, "password");
      need("password", auth.password, "password");
      break;
    case AuthFlow::kAccessToken:
      need("access_token", auth.access_token, "access_token");
      need("instance_url", auth.instance_url, "access_token");
      break;
  }
}

void kafka_environment(Reader& reader, const Map& m, KafkaConfig& kafka) {
  // Heroku's Apache Kafka add-on (docs/ARCHITECTURE.md §6): with KAFKA_URL and KAFKA_PREFIX in
  // the environment, Kafka needs no YAML at all; values written in the file win. The certificates
  // (KAFKA_TRUSTED_CERT, KAFKA_CLIENT_CERT, KAFKA_CLIENT_CERT_KEY) rotate, so the Kafka module
  // reads them at start-up instead of this loader.
  if (!kafka.embedded && kafka.bootstrap_servers.empty()) {
    if (auto url = reader.env()("KAFKA_URL"); url && !url->empty()) {
      kafka.bootstrap_servers = *url;
    }
  }
  if (kafka.topic_prefix.empty()) {
    if (auto prefix = reader.env()("KAFKA_PREFIX"); prefix && !prefix->empty()) {
      kafka.topic_prefix = *prefix;
    }
  }
  if (!kafka.embedded) {
    reader.require_non_empty(m, "bootstrap_servers", kafka.bootstrap_servers,
                             "(unless kafka.embedded is true or $KAFKA_URL is set)");
  }
}

void coordination_names(Reader& reader, const Map& m, CoordinationConfig& coordination) {
  reader.require_non_empty(m, "group", coordination.group, "");
  reader.require_non_empty(m, "topic", coordination.topic, "");
  // The embedded mock cluster lives in one process: nothing to share, the topic is never made.
  if (!coordination.topic.empty() && !reader.config().kafka.embedded) {
    if (auto problem = topic_name_problem(coordination.topic, reader.config().kafka.topic_prefix);
        !problem.empty()) {
      const Located at = reader.at(m, "topic");
      reader.error(at.path, at.mark, problem);
    }
  }
}

void subscribe_mapping(Reader& reader, const Map& m, SubscribeMapping& mapping) {
  if (!mapping.channel.empty()) {
    const Located at = reader.at(m, "channel");
    reader.uses().channels.push_back({mapping.channel, at.path, at.mark});
  }
  if (!mapping.topic.empty()) {
    const Located at = reader.at(m, "topic");
    if (auto problem = topic_name_problem(mapping.topic, reader.config().kafka.topic_prefix);
        !problem.empty()) {
      reader.error(at.path, at.mark, problem);
    }
    reader.uses().destinations.push_back({mapping.topic, at.path, at.mark});
  }
  // A PushTopic notification names no user, so its own events cannot be told apart.
  if (mapping.skip_own_events && mapping.channel.starts_with("/topic/")) {
    const Located at = reader.at(m, "skip_own_events");
    reader.error(at.path, at.mark,
                 "is not available on /topic/ channels: a PushTopic notification names no user "
                 "(README.md \"Limits and loops\")");
  }
  // Only platform events carry an EventUuid (README.md "Channel kinds"): on the other kinds every
  // record would get a null key.
  if (mapping.key == KeyKind::kEventUuid) {
    const bool push_topic = mapping.channel.starts_with("/topic/");
    if (push_topic || mapping.channel.starts_with("/data/")) {
      const Located at = reader.at(m, "key");
      reader.error(at.path, at.mark,
                   std::string("event_uuid is not available on ") +
                       (push_topic ? "/topic/" : "/data/") +
                       " channels: Salesforce sends no EventUuid for " +
                       (push_topic ? "PushTopic" : "change") +
                       " events; use none, replay_id or payload.<Field>");
    }
  }
}

void publish_mapping(Reader& reader, const Map& m, PublishMapping& mapping) {
  if (!mapping.dead_letter_topic.empty()) {
    const Located at = reader.at(m, "dead_letter_topic");
    if (auto problem =
            topic_name_problem(mapping.dead_letter_topic, reader.config().kafka.topic_prefix);
        !problem.empty()) {
      reader.error(at.path, at.mark, problem);
    }
    reader.uses().dead_letters.push_back({mapping.dead_letter_topic, at.path, at.mark});
  }
  if (mapping.on_error == OnError::kDeadLetter && !reader.failed(join(m.path, "on_error"))) {
    reader.require_non_empty(m, "dead_letter_topic", mapping.dead_letter_topic,
                             "with on_error: dead_letter (or set on_error: fail)");
  }
}

void across_mappings(Reader& reader, const Map& top, Config& config) {
  if (config.subscribe.empty() && config.publish.empty() && reader.problem_count() == 0) {
    reader.error("", top.mark, "subscribe and publish are both empty: nothing to bridge");
  }
  // The org's allocations (README.md "Limits and loops").
  const auto& limits = config.limits;
  if (limits.poll_interval.count() > 0 && limits.poll_interval < std::chrono::seconds(1)) {
    reader.error("limits.poll_interval", top.mark,
                 "must be 0 (off) or at least 1s: every read of the limits resource is an API "
                 "request");
  }
  const bool live_budget = limits.budget > 0 || limits.api_budget > 0 ||
                           std::any_of(config.publish.begin(), config.publish.end(),
                                       [](const PublishMapping& p) { return p.budget > 0; });
  if (live_budget && limits.poll_interval.count() == 0) {
    reader.error("limits.poll_interval", top.mark,
                 "is 0 (off), but a budget (limits.budget, limits.api_budget or publish[].budget) "
                 "is a share of what the limits resource reports: turn polling on");
  }
  for (std::size_t i = 0; i < config.subscribe.size(); ++i) {
    if (config.subscribe[i].skip_own_events &&
        config.salesforce.auth.flow == AuthFlow::kAccessToken) {
      reader.error("subscribe[" + std::to_string(i) + "].skip_own_events", top.mark,
                   "needs the user the bridge authenticates as, which only a token response's "
                   "identity URL names: not available with auth.flow: access_token");
    }
  }
  const Uses& uses = reader.uses();
  auto first_use = [](const std::vector<TopicUse>& list, std::size_t before,
                      const std::string& topic) -> const TopicUse* {
    for (std::size_t i = 0; i < before && i < list.size(); ++i) {
      if (list[i].topic == topic) {
        return &list[i];
      }
    }
    return nullptr;
  };
  for (std::size_t i = 0; i < uses.channels.size(); ++i) {
    if (auto* earlier = first_use(uses.channels, i, uses.channels[i].topic)) {
      reader.error(uses.channels[i].path, uses.channels[i].mark,
                   "duplicate channel \"" + uses.channels[i].topic + "\" (already in " +
                       earlier->path + ")");
    }
  }
  for (const auto& source : uses.sources) {
    // A topic may be both a subscribe destination and a publish source (event A -> topic ->
    // event B is a legitimate round trip, and the demo's), but publishing a topic's records as
    // the very event whose channel fills that topic would loop forever.
    std::size_t publish_index = 0;
    if (std::sscanf(source.path.c_str(), "publish[%zu]", &publish_index) == 1 &&
        publish_index < config.publish.size()) {
      const auto& event = config.publish[publish_index].event;
      for (std::size_t i = 0; i < config.subscribe.size(); ++i) {
        const auto& sub = config.subscribe[i];
        if (sub.topic == source.topic && sub.channel == "/event/" + event) {
          reader.error(source.path, source.mark,
                       "topic \"" + source.topic + "\" is filled from " + sub.channel +
                           " (subscribe[" + std::to_string(i) + "]) and published back as " +
                           event + ": a loop");
        }
      }
    }
    if (auto* dlq = first_use(uses.dead_letters, uses.dead_letters.size(), source.topic)) {
      reader.error(
          source.path, source.mark,
          "topic \"" + source.topic + "\" is also a dead-letter topic (" + dlq->path + ")");
    }
  }
  for (const auto& dlq : uses.dead_letters) {
    if (auto* dest = first_use(uses.destinations, uses.destinations.size(), dlq.topic)) {
      reader.error(
          dlq.path, dlq.mark,
          "topic \"" + dlq.topic + "\" is also a subscribe destination (" + dest->path + ")");
    }
  }
}

}  // namespace sfkb::config::rules
