// The configuration schema: one declaration per setting (schema.h). To add a setting, add its
// member to config.h (its initializer is the default) and one declaration here, then regenerate
// README.md's tables: build/daemon/config/sfkb-config-reference --update README.md

#include <cctype>
#include <cstdint>

#include "daemon/config/addresses.h"
#include "daemon/config/files.h"
#include "daemon/config/loader.h"
#include "daemon/config/names.h"
#include "daemon/config/rdkafka_properties.h"
#include "daemon/config/rules.h"
#include "daemon/config/schema.h"
#include "daemon/core/redact.h"

namespace sfkb::config::schema {
namespace {

using Problems = std::vector<std::string>;

Problems one(std::string problem) {
  return problem.empty() ? Problems{} : Problems{std::move(problem)};
}

// --- checks of single values -------------------------------------------------------------------

Problems web_url(std::string_view value) {
  return one(url_problem(value));
}
Problems optional_web_url(std::string_view value) {
  return value.empty() ? Problems{} : web_url(value);
}
Problems api_version(std::string_view value) {
  return one(api_version_problem(value));
}
Problems optional_readable_file(std::string_view value) {
  return value.empty() ? Problems{} : one(readable_file_problem(std::string(value), false));
}
Problems brokers(std::string_view value) {
  return broker_list_problems(value);
}
Problems topic_prefix(std::string_view value) {
  return one(topic_prefix_problem(value));
}
Problems optional_host_port(std::string_view value) {
  return value.empty() ? Problems{} : one(host_port_problem(value));
}
Problems log_level(std::string_view value) {
  if (is_log_level(value)) {
    return {};
  }
  return {"\"" + std::string(value) + "\" is not a log level; valid: " +
          list_of({"trace", "debug", "info", "warn", "error", "critical", "off"})};
}
Problems channel(std::string_view value) {
  return one(channel_problem(value));
}
Problems event(std::string_view value) {
  return one(event_name_problem(value));
}

// --- names of choices ------------------------------------------------------------------------

const Names<AuthFlow> kFlows = {{"jwt_bearer", AuthFlow::kJwtBearer},
                                {"client_credentials", AuthFlow::kClientCredentials},
                                {"refresh_token", AuthFlow::kRefreshToken},
                                {"password", AuthFlow::kPassword},
                                {"access_token", AuthFlow::kAccessToken}};
const Names<KeyKind> kKeys = {{"none", KeyKind::kNone},
                              {"event_uuid", KeyKind::kEventUuid},
                              {"replay_id", KeyKind::kReplayId}};
const Names<ValueKind> kValues = {{"payload", ValueKind::kPayload},
                                  {"envelope", ValueKind::kEnvelope}};
const Names<InvalidReplayPolicy> kInvalidReplay = {{"earliest", InvalidReplayPolicy::kEarliest},
                                                   {"latest", InvalidReplayPolicy::kLatest},
                                                   {"fail", InvalidReplayPolicy::kFail}};
const Names<OnError> kOnError = {{"dead_letter", OnError::kDeadLetter}, {"fail", OnError::kFail}};
const Names<CheckpointStoreKind> kCheckpointStores = {{"file", CheckpointStoreKind::kFile},
                                                      {"kafka", CheckpointStoreKind::kKafka}};
const Names<LogFormat> kLogFormats = {{"text", LogFormat::kText}, {"json", LogFormat::kJson}};

// --- salesforce --------------------------------------------------------------------------------

const Schema<AuthConfig>& auth_schema() {
  using A = AuthConfig;
  static const Schema<AuthConfig> schema{
      {
          choice(&A::flow, kFlows,
                 {.key = "flow",
                  .doc = "`jwt_bearer`, `client_credentials`, `refresh_token`, `password` or "
                         "`access_token`",
                  .required = true}),
          text(&A::client_id,
               {.key = "client_id",
                .doc = "connected app consumer key; required by every flow but `access_token`"}),
          text(&A::client_secret,
               {.key = "client_secret",
                .doc = "consumer secret; required by `client_credentials` and `password`",
                .secret = true}),
          text(&A::username, {.key = "username",
                              .doc = "integration user; required by `jwt_bearer` and `password`"}),
          text(&A::password, {.key = "password",
                              .doc = "password + security token; required by `password`",
                              .secret = true}),
          text(&A::refresh_token,
               {.key = "refresh_token", .doc = "required by `refresh_token`", .secret = true}),
          path(&A::private_key_file,
               {.key = "private_key_file",
                .doc = "`jwt_bearer`: PEM private key file, must be readable at load time"}),
          text(&A::private_key, {.key = "private_key",
                                 .doc = "`jwt_bearer`: the PEM itself (instead of the file)",
                                 .secret = true}),
          text(&A::audience,
               {.key = "audience", .doc = "JWT `aud` claim", .default_note = "(= `login_url`)"}),
          text(&A::access_token, {.key = "access_token",
                                  .doc = "`access_token` flow: a session ID / access token",
                                  .secret = true}),
          text(&A::instance_url, {.key = "instance_url",
                                  .doc = "`access_token` flow: the org's instance URL; `https://` "
                                         "(`http://` as for `login_url`)",
                                  .check = optional_web_url}),
      },
      rules::auth_flow_requirements};
  return schema;
}

const Schema<RetryConfig>& retry_schema() {
  using R = RetryConfig;
  static const Schema<RetryConfig> schema{
      {
          duration(&R::initial_backoff, bounds::kBackoff,
                   {.key = "initial_backoff",
                    .doc = "first backoff ceiling (exponential, full jitter)"}),
          duration(&R::max_backoff, bounds::kBackoff,
                   {.key = "max_backoff", .doc = "largest backoff ceiling; ≥ `initial_backoff`"}),
          duration(&R::daily_limit_backoff, bounds::kDailyLimitBackoff,
                   {.key = "daily_limit_backoff",
                    .doc = "wait after \"Organization total events daily limit exceeded\""}),
      },
      rules::retry_order};
  return schema;
}

const Schema<SalesforceConfig>& salesforce_schema() {
  using S = SalesforceConfig;
  static const Schema<SalesforceConfig> schema{{
      text(&S::login_url,
           {.key = "login_url",
            .doc = "OAuth endpoint host: `https://test.salesforce.com` for sandboxes, or a My "
                   "Domain URL. `http://` only for `localhost`, 127.0.0.0/8 and `[::1]` literals "
                   "(the emulator; see [Security notes](#security-notes))",
            .check = web_url}),
      text(&S::api_version, {.key = "api_version",
                             .doc = "REST and CometD API version, `NN.0`, at least 37.0",
                             .check = api_version}),
      section("auth", &S::auth, auth_schema()),
      path(&S::ca_file, {.key = "ca_file",
                         .doc = "PEM CA bundle for Salesforce's TLS; verification is never off",
                         .default_note = "(system CAs)",
                         .check = optional_readable_file}),
      duration(&S::connect_timeout, bounds::kConnectTimeout,
               {.key = "connect_timeout", .doc = "TCP + TLS connect timeout"}),
      duration(
          &S::request_timeout, bounds::kRequestTimeout,
          {.key = "request_timeout", .doc = "timeout of every request but the CometD long poll"}),
      section("retry", &S::retry, retry_schema()),
  }};
  return schema;
}

// --- kafka -----------------------------------------------------------------------------------

Field<KafkaConfig> properties_field() {
  static const std::string doc = [] {
    std::string text =
        "librdkafka properties, passed unchanged, checked by librdkafka at load time. Refused "
        "(the bridge sets them): ";
    for (const auto name : reserved_rdkafka_properties()) {
      text += (text.back() == ' ' ? "`" : ", `") + std::string(name) + "`";
    }
    return text;
  }();
  auto field = custom<KafkaConfig>(
      {.key = "properties", .doc = doc}, "map", "`{}`",
      [](Reader& r, const Map& m, KafkaConfig& out) {
        for (auto& [entry, value] : r.scalar_map(m, "properties")) {
          if (auto problem = rdkafka_property_problem(entry.key, value.text); !problem.empty()) {
            r.error(value.path, entry.key_node.Mark(), problem);
            continue;
          }
          out.properties[entry.key] = value.text;
        }
      },
      [](YAML::Emitter& out, const KafkaConfig& kafka) {
        out << YAML::Key << "properties" << YAML::Value << YAML::BeginMap;
        // Secret by the property's name or a PEM value: the one rule of core/redact.h.
        for (const auto& [key, value] : kafka.properties) {
          emit_text(out, key, value, core::is_secret_key(key));
        }
        out << YAML::EndMap;
      });
  field.secrets = [](const KafkaConfig& kafka, std::vector<std::string>& out) {
    for (const auto& [key, value] : kafka.properties) {
      if (core::redact_value(key, value) != value) {
        out.push_back(value);
      }
    }
  };
  return field;
}

// kafka.create_topics.configs: topic configs, checked by the broker when it creates the topic (an
// unknown key or a bad value refuses the creation, naming both); only their shape is checked here.
Field<TopicCreationConfig> topic_configs_field() {
  return custom<TopicCreationConfig>(
      {.key = "configs",
       .doc = "topic configs of a created topic (`retention.ms`, `cleanup.policy`, "
              "`min.insync.replicas`, ...), checked by the broker when it creates the topic"},
      "map", "`{}`",
      [](Reader& r, const Map& m, TopicCreationConfig& out) {
        for (auto& [entry, value] : r.scalar_map(m, "configs")) {
          out.configs[entry.key] = value.text;
        }
      },
      [](YAML::Emitter& out, const TopicCreationConfig& creation) {
        out << YAML::Key << "configs" << YAML::Value << YAML::BeginMap;
        for (const auto& [key, value] : creation.configs) {
          emit_text(out, key, value, false);
        }
        out << YAML::EndMap;
      });
}

const Schema<TopicCreationConfig>& topic_creation_schema() {
  using T = TopicCreationConfig;
  static const Schema<TopicCreationConfig> schema{
      {
          boolean(&T::enabled,
                  {.key = "enabled",
                   .doc = "create the topics the bridge writes to (every `subscribe[].topic` and "
                          "`publish[].dead_letter_topic`, with `topic_prefix`) at start-up when "
                          "they are missing, like Kafka Connect's `topic.creation.*`. Existing "
                          "topics are left as they are; publish source topics are never created. "
                          "Off by default: managed Kafka often forbids it. A refusal (policy, ACL, "
                          "an invalid topic config) names each topic and the broker's reason and "
                          "exits 78; an unreachable cluster exits 69"}),
          integer(&T::partitions, bounds::kTopicPartitions,
                  {.key = "partitions",
                   .doc = "partitions of a created topic; `-1` is the broker's `num.partitions`, "
                          "`0` is refused"}),
          integer(&T::replication_factor, bounds::kReplicationFactor,
                  {.key = "replication_factor",
                   .doc = "replication factor of a created topic; `-1` is the broker's "
                          "`default.replication.factor`, `0` is refused"}),
          topic_configs_field(),
      },
      rules::topic_creation_counts};
  return schema;
}

const Schema<KafkaConfig>& kafka_schema() {
  using K = KafkaConfig;
  static const Schema<KafkaConfig> schema{
      {
          text(&K::bootstrap_servers,
               {.key = "bootstrap_servers",
                .doc = "`host:port[,host:port]`; Heroku's `kafka+ssl://host:port,...` accepted as "
                       "is; required unless `embedded`",
                .default_note = "(`$KAFKA_URL` when set)",
                .check = brokers}),
          text(&K::topic_prefix, {.key = "topic_prefix",
                                  .doc = "prefixes every topic and consumer group",
                                  .default_note = "(`$KAFKA_PREFIX` when set)",
                                  .check = topic_prefix}),
          properties_field(),
          boolean(&K::embedded, {.key = "embedded",
                                 .doc = "use librdkafka's in-process mock cluster (demo only)"}),
          duration(&K::flush_timeout, bounds::kFlushTimeout,
                   {.key = "flush_timeout",
                    .doc = "how long shutdown waits for outstanding deliveries"}),
          section("create_topics", &K::create_topics, topic_creation_schema()),
      },
      rules::kafka_environment};
  return schema;
}

// --- coordination ------------------------------------------------------------------------------

const Schema<CoordinationConfig>& coordination_schema() {
  using C = CoordinationConfig;
  static const Schema<CoordinationConfig> schema{
      {
          boolean(&C::enabled,
                  {.key = "enabled",
                   .doc = "instances with the same config (and the same Kafka) share the "
                          "`subscribe` channels through a Kafka consumer group, each channel "
                          "owned by one instance at a time; a single instance owns them all. "
                          "`false`: this instance subscribes every channel whatever else runs. "
                          "Not used with `kafka.embedded`. See [Several "
                          "instances](#several-instances)"}),
          text(&C::group, {.key = "group",
                           .doc = "consumer group of the owners (before `topic_prefix`); also "
                                  "the stem of the subscribe side's transactional IDs"}),
          text(&C::topic,
               {.key = "topic",
                .doc = "coordination topic (before `topic_prefix`), one partition per channel; "
                       "created at start-up when missing (no records are ever written to it)"}),
          duration(&C::session_timeout, bounds::kSessionTimeout,
                   {.key = "session_timeout",
                    .doc = "how long the group waits for a silent instance before its channels "
                           "move (the failover time after a crash); within the broker's "
                           "`group.min.session.timeout.ms`..`group.max.session.timeout.ms`"}),
      },
      rules::coordination_names};
  return schema;
}

// --- checkpoint, limits ------------------------------------------------------------------------

const Schema<CheckpointConfig>& checkpoint_schema() {
  using C = CheckpointConfig;
  static const Schema<CheckpointConfig> schema{{
      path(&C::directory,
           {.key = "directory",
            .doc = "where the checkpoint file lives; created when missing. With `subscribe` "
                   "mappings, `run` exits 78 naming it when it cannot write there (checked before "
                   "anything connects), and `check-config` warns",
            .required = true}),
      duration(&C::interval, bounds::kCheckpointInterval,
               {.key = "interval",
                .doc = "how often acknowledged progress is written (and at shutdown)"}),
      choice(&C::store, kCheckpointStores,
             {.key = "store",
              .doc = "`file` (the checkpoint file in `directory`) or `kafka`: each channel's "
                     "position lives in the compacted topic `topic`, written in the same Kafka "
                     "transaction as the channel's records (see [Positions in "
                     "Kafka](#positions-in-kafka-checkpointstore-kafka))"}),
      text(&C::topic, {.key = "topic",
                       .doc = "`store: kafka`: the compacted topic of the positions (after "
                              "`kafka.topic_prefix`); created when missing"}),
  }};
  return schema;
}

const Schema<LimitsConfig>& limits_schema() {
  static const Schema<LimitsConfig> schema{{
      integer(&LimitsConfig::max_in_flight_events, bounds::kMaxInFlightEvents,
              {.key = "max_in_flight_events",
               .doc = "events produced to Kafka but not yet acknowledged, an exact bound "
                      "(`sfkb_in_flight_events` never exceeds it): at it the bridge stops "
                      "producing and pulling; the rest of a CometD reply waits in memory, unsent, "
                      "so memory holds at most this many plus one reply"}),
      duration(&LimitsConfig::poll_interval, bounds::kLimitsPollInterval,
               {.key = "poll_interval",
                .doc = "how often the REST `limits` resource is read (each read is an API "
                       "request; Salesforce refreshes it every few minutes); `0` turns polling "
                       "off. Below 1 s is refused. See [Limits and loops](#limits-and-loops)"}),
      percent(&LimitsConfig::warn_at, 1,
              {.key = "warn_at",
               .doc = "log a warning when an allocation is this much used, once per crossing"}),
      integer(&LimitsConfig::max_events_per_hour, bounds::kAllocationBudget,
              {.key = "max_events_per_hour",
               .doc = "events all publish mappings together may publish per hour (a token "
                      "bucket); `0`: no limit"}),
      percent(&LimitsConfig::budget, 0,
              {.key = "budget",
               .doc = "all publish mappings together publish at most this share of what remained "
                      "of `HourlyPublishedPlatformEvents` when the hour began; `0%`: off. Needs "
                      "`poll_interval`"}),
      integer(&LimitsConfig::max_api_requests_per_day, bounds::kAllocationBudget,
              {.key = "max_api_requests_per_day",
               .doc = "composite publish requests per day (a token bucket, one per request "
                      "whatever its records); `0`: no limit"}),
      percent(&LimitsConfig::api_budget, 0,
              {.key = "api_budget",
               .doc = "publish requests spend at most this share of what remained of "
                      "`DailyApiRequests` when the day began; `0%`: off. Needs `poll_interval`"}),
  }};
  return schema;
}

// --- subscribe[] -------------------------------------------------------------------------------

Field<SubscribeMapping> start_field() {
  return custom<SubscribeMapping>(
      {.key = "start",
       .doc = "with no checkpoint: `latest`, `earliest` or a replay ID. `latest` applies to the "
              "channel's first subscription only: when the session is lost (or a reply is) before "
              "any event of the channel is acknowledged, it resubscribes from `earliest`, since "
              "subscribing from \"new events only\" again would skip the events of the gap; the "
              "duplicate filter drops what was already produced"},
      "replay position", "`latest`",
      [](Reader& r, const Map& m, SubscribeMapping& out) {
        auto s = r.scalar(m, "start");
        if (!s) {
          return;
        }
        if (s->text == "latest") {
          out.start = core::kCometdLatest;
        } else if (s->text == "earliest") {
          out.start = core::kCometdEarliest;
        } else if (s->text.empty() ||
                   !(std::isdigit(static_cast<unsigned char>(s->text[0])) || s->text[0] == '-')) {
          r.error(s->path, s->mark,
                  "expected latest, earliest or a replay ID, got \"" + s->text + "\"");
        } else if (auto value = r.parse_integer(*s, core::kCometdEarliest, INT64_MAX)) {
          out.start = *value;
        }
      },
      [](YAML::Emitter& out, const SubscribeMapping& s) {
        out << YAML::Key << "start" << YAML::Value;
        if (s.start == core::kCometdLatest) {
          out << "latest";
        } else if (s.start == core::kCometdEarliest) {
          out << "earliest";
        } else {
          out << s.start;
        }
      });
}

Field<SubscribeMapping> key_field() {
  return custom<SubscribeMapping>(
      {.key = "key",
       .doc = "record key: `none` (one partition per channel, order kept), `event_uuid` "
              "(`/event/` only), `replay_id`, `payload.<Field>` (see [Channel "
              "kinds](#channel-kinds))"},
      "choice", "`none`",
      [](Reader& r, const Map& m, SubscribeMapping& out) {
        auto s = r.scalar(m, "key");
        if (!s) {
          return;
        }
        for (const auto& [name, kind] : kKeys) {
          if (s->text == name) {
            out.key = kind;
            return;
          }
        }
        if (s->text.rfind("payload.", 0) == 0 && s->text.size() > 8) {
          out.key = KeyKind::kPayloadField;
          out.key_field = s->text.substr(8);
        } else {
          r.error(s->path, s->mark,
                  "\"" + s->text +
                      "\" is not a key; expected none, event_uuid, replay_id or payload.<Field>");
        }
      },
      [](YAML::Emitter& out, const SubscribeMapping& s) {
        out << YAML::Key << "key" << YAML::Value
            << (s.key == KeyKind::kPayloadField ? "payload." + s.key_field : name_of(s.key, kKeys));
      });
}

const Schema<SubscribeMapping>& subscribe_schema() {
  using M = SubscribeMapping;
  static const Schema<SubscribeMapping> schema{
      {
          text(&M::channel,
               {.key = "channel",
                .doc = "`/event/<Name>__e`, `/data/<Name>` or `/topic/<Name>`; each at most once",
                .required = true,
                .check = channel}),
          text(&M::topic, {.key = "topic",
                           .doc = "destination topic (before `topic_prefix`): `[A-Za-z0-9._-]`, "
                                  "≤ 249 characters with the prefix",
                           .required = true}),
          start_field(),
          key_field(),
          choice(&M::value, kValues,
                 {.key = "value",
                  .doc = "`payload` (the event's record object: `payload`, or a PushTopic's "
                         "`sobject`) or `envelope` (the whole `data` object), byte for byte as "
                         "Salesforce sent them (`12.50` stays `12.50`)"}),
          boolean(&M::headers,
                  {.key = "headers",
                   .doc = "add the `sf.*` headers of the channel's kind (see [Channel "
                          "kinds](#channel-kinds)), plus `sf.org_id` (when the org is known) and "
                          "`sf.replay_epoch` (after a restart from the fallback; see [A void "
                          "resume "
                          "point](#a-void-resume-point-sandbox-refresh-another-orgs-checkpoint))"}),
          choice(&M::on_invalid_replay_id, kInvalidReplay,
                 {.key = "on_invalid_replay_id",
                  .doc = "when the stored replay ID is void (Salesforce rejects it, or it belongs "
                         "to another org): `earliest`, `latest` or `fail`"}),
          boolean(&M::skip_own_events,
                  {.key = "skip_own_events",
                   .doc = "drop the events the bridge's own user caused (`CreatedById`; a change "
                          "event's `commitUser`), i.e. its echo when the event is also published; "
                          "counted in `sfkb_events_skipped_own_total`. Not on `/topic/` channels; "
                          "not with `auth.flow: access_token`. See [Limits and "
                          "loops](#limits-and-loops)"}),
      },
      rules::subscribe_mapping};
  return schema;
}

// --- publish[] -------------------------------------------------------------------------------

Field<PublishMapping> topics_field() {
  return custom<PublishMapping>(
      {.key = "topics", .doc = "list of source topics (before `topic_prefix`)"}, "list",
      "— (required)",
      [](Reader& r, const Map& m, PublishMapping& out) {
        const std::size_t problems_before = r.problem_count();
        for (auto& s : r.string_list(m, "topics")) {
          if (auto problem = topic_name_problem(s.text, r.config().kafka.topic_prefix);
              !problem.empty()) {
            r.error(s.path, s.mark, problem);
          } else {
            r.uses().sources.push_back({s.text, s.path, s.mark});
          }
          out.topics.push_back(std::move(s.text));
        }
        // One problem per cause: a list that is not a list, or whose entries failed (e.g. an
        // unset variable), was reported already and is not "empty" as well.
        if (out.topics.empty() && r.problem_count() == problems_before) {
          const Entry* topics = m.find("topics");
          r.error(join(m.path, "topics"), topics ? topics->value.Mark() : m.mark,
                  topics ? "must list at least one topic" : "is required");
        }
      },
      [](YAML::Emitter& out, const PublishMapping& p) {
        out << YAML::Key << "topics" << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const auto& topic : p.topics) {
          out << YAML::DoubleQuoted << escape_interpolation(topic);
        }
        out << YAML::EndSeq;
      });
}

Field<PublishMapping> rename_field() {
  return custom<PublishMapping>(
      {.key = "rename", .doc = "record field → event field"}, "map", "`{}`",
      [](Reader& r, const Map& m, PublishMapping& out) {
        for (auto& [e, value] : r.scalar_map(m, "rename")) {
          if (value.text.empty()) {
            r.error(value.path, value.mark, "must name the event field");
            continue;
          }
          out.rename[e.key] = value.text;
        }
      },
      [](YAML::Emitter& out, const PublishMapping& p) {
        out << YAML::Key << "rename" << YAML::Value << YAML::BeginMap;
        // Names of record and event fields, never secrets, whatever they are called.
        for (const auto& [from, to] : p.rename) {
          out << YAML::Key << from << YAML::Value << YAML::DoubleQuoted << escape_interpolation(to);
        }
        out << YAML::EndMap;
      });
}

Field<PublishMapping> static_fields_field() {
  return custom<PublishMapping>(
      {.key = "static_fields",
       .doc = "event field → constant (string, number, boolean) set on every record"},
      "map", "`{}`",
      [](Reader& r, const Map& m, PublishMapping& out) {
        for (auto& [e, value] : r.scalar_map(m, "static_fields")) {
          out.static_fields[e.key] =
              value.plain ? plain_scalar_as_json(value.text) : json_escape(value.text);
        }
      },
      [](YAML::Emitter& out, const PublishMapping& p) {
        out << YAML::Key << "static_fields" << YAML::Value << YAML::BeginMap;
        for (const auto& [field, json] : p.static_fields) {
          out << YAML::Key << field << YAML::Value;
          if (!json.empty() && json.front() == '"') {
            // A constant sent with every event may be a credential: the same rule as settings.
            const std::string text = json_unescape(json);
            if (core::redact_value(field, text) != text) {
              out << std::string(core::kRedacted);
            } else {
              out << YAML::DoubleQuoted << escape_interpolation(text);
            }
          } else {
            out << json;
          }
        }
        out << YAML::EndMap;
      });
}

const Schema<PublishMapping>& publish_schema() {
  using P = PublishMapping;
  static const Schema<PublishMapping> schema{
      {
          topics_field(),
          text(&P::event, {.key = "event",
                           .doc = "platform event API name, `<Name>__e`",
                           .required = true,
                           .check = event}),
          rename_field(),
          static_fields_field(),
          text(&P::key_field,
               {.key = "key_field", .doc = "event field that receives the Kafka record key"}),
          text(&P::dead_letter_topic,
               {.key = "dead_letter_topic",
                .doc = "where permanently rejected records go (error in `sf.*` headers); "
                       "required with `on_error: dead_letter`"}),
          integer(&P::batch_size, bounds::kBatchSize,
                  {.key = "batch_size", .doc = "records per composite request"}),
          milliseconds(
              &P::linger, bounds::kLingerMs,
              {.key = "linger_ms", .doc = "milliseconds (integer) to wait for a batch to fill"}),
          choice(&P::on_error, kOnError,
                 {.key = "on_error",
                  .doc = "a permanently rejected record: `dead_letter` or `fail` (stop the "
                         "pipeline)"}),
          text(&P::group_id, {.key = "group_id",
                              .doc = "consumer group (before `topic_prefix`)",
                              .required = true}),
          integer(&P::max_events_per_hour, bounds::kAllocationBudget,
                  {.key = "max_events_per_hour",
                   .doc = "events this mapping may publish per hour (a token bucket); records past "
                          "it wait in Kafka; `0`: no limit"}),
          percent(&P::budget, 0,
                  {.key = "budget",
                   .doc = "this mapping publishes at most this share of what remained of "
                          "`HourlyPublishedPlatformEvents` when the hour began; `0%`: off. Needs "
                          "`limits.poll_interval`"}),
      },
      rules::publish_mapping};
  return schema;
}

// --- http, logging, shutdown -------------------------------------------------------------------

const Schema<HttpConfig>& http_schema() {
  static const Schema<HttpConfig> schema{{
      text(&HttpConfig::listen,
           {.key = "listen",
            .doc = "`/healthz`, `/readyz`, `/metrics`; `host:port`, empty = off, port 0 = any; "
                   "`$PORT` wins when set",
            .check = optional_host_port}),
  }};
  return schema;
}

const Schema<LoggingConfig>& logging_schema() {
  static const Schema<LoggingConfig> schema{{
      text(&LoggingConfig::level,
           {.key = "level",
            .doc = "`trace`, `debug`, `info`, `warn`, `error`, `critical`, `off`. `debug` adds the "
                   "publish side step by step: each batch formed (size, bytes, reason `full` / "
                   "`bytes` / `linger`), each composite request's outcome (published / "
                   "dead-letter / retry counts), each resolved batch, every offset commit (topic, "
                   "partition, offset) and the consumer's assignment; never a record's payload or "
                   "a secret. A warning that can repeat per event or request (backpressure, a "
                   "failing poll or commit, dead-lettering) is logged at most once per 10 s; the "
                   "next line says how many it stands for: `… (x412 in the last 10 s)`",
            .check = log_level}),
      choice(&LoggingConfig::format, kLogFormats,
             {.key = "format",
              .doc = "`text` or `json` (one object per line: time, level, logger, message)"}),
  }};
  return schema;
}

const Schema<ShutdownConfig>& shutdown_schema() {
  static const Schema<ShutdownConfig> schema{{
      duration(&ShutdownConfig::timeout, bounds::kShutdownTimeout,
               {.key = "timeout", .doc = "bound of the graceful stop"}),
  }};
  return schema;
}

}  // namespace

const Schema<Config>& config_schema() {
  static const Schema<Config> schema{
      {
          section("salesforce", &Config::salesforce, salesforce_schema()),
          section("kafka", &Config::kafka, kafka_schema()),
          section("coordination", &Config::coordination, coordination_schema()),
          section("checkpoint", &Config::checkpoint, checkpoint_schema()),
          section("limits", &Config::limits, limits_schema()),
          list("subscribe", &Config::subscribe, subscribe_schema(),
               "is empty; needs at least channel and topic"),
          list("publish", &Config::publish, publish_schema(),
               "is empty; needs at least topics and event"),
          section("http", &Config::http, http_schema()),
          section("logging", &Config::logging, logging_schema()),
          section("shutdown", &Config::shutdown, shutdown_schema()),
      },
      rules::across_mappings};
  return schema;
}

}  // namespace sfkb::config::schema
