#include "daemon/kafka/client_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

#include "daemon/core/text.h"
#include "daemon/kafka/error.h"
#include "daemon/kafka/logging.h"
#include "daemon/ops/log.h"

namespace sfkb::kafka {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// One setting the bridge's guarantees rest on; `keys` are librdkafka's aliases for it.
struct Enforced {
  std::vector<std::string> keys;
  std::string value;
  std::set<std::string> equivalent;  // user values that mean the same (no warning)
  std::string why;
};

const std::vector<Enforced>& enforced_for(Role role) {
  static const std::vector<Enforced> producer = {
      {{"enable.idempotence"}, "true", {"true"}, "no duplicates or reordering on retries"},
      {{"acks", "request.required.acks"}, "all", {"all", "-1"}, "every in-sync replica has it"},
      {{"enable.gapless.guarantee"}, "true", {"true"}, "a partition never skips a record"},
      {{"message.timeout.ms", "delivery.timeout.ms"},
       "0",
       {"0"},
       "records wait for the broker as long as it takes (docs/ARCHITECTURE.md section 4)"},
  };
  static const std::vector<Enforced> consumer = {
      {{"enable.auto.commit"},
       "false",
       {"false"},
       "offsets are committed only for records Salesforce accepted"},
      {{"enable.auto.offset.store"},
       "false",
       {"false"},
       "offsets are committed only for records Salesforce accepted"},
      {{"isolation.level"},
       "read_committed",
       {"read_committed"},
       "records of aborted or open transactions are never read (docs/ARCHITECTURE.md section 4)"},
  };
  return role == Role::kProducer ? producer : consumer;
}

// Defaults a user may change.
Properties defaults_for(Role role) {
  if (role == Role::kProducer) {
    // murmur2_random: keyed records land where Java clients would put them; key-less records get
    // an explicit partition from the pipeline (partition_for_channel).
    return {{"client.id", "sf-kafka-bridge"},
            {"partitioner", "murmur2_random"},
            {"linger.ms", "5"},
            {"max.in.flight.requests.per.connection", "5"},
            {"socket.keepalive.enable", "true"}};
  }
  return {{"client.id", "sf-kafka-bridge"},
          {"partition.assignment.strategy", "cooperative-sticky"},
          {"auto.offset.reset", "earliest"},
          {"socket.keepalive.enable", "true"}};
}

const std::set<std::string> kMaxInFlightKeys = {"max.in.flight.requests.per.connection",
                                                "max.in.flight"};
constexpr int kMaxInFlightLimit = 5;  // the idempotent producer keeps order only up to 5

}  // namespace

core::Result<BootstrapServers> parse_bootstrap_servers(std::string_view text) {
  BootstrapServers out;
  std::vector<std::string> hosts;
  bool any_ssl = false;
  bool any_plain = false;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) {
      comma = text.size();
    }
    std::string_view item = core::trim(text.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) {
      if (comma == text.size() && !hosts.empty()) {
        break;  // a trailing comma
      }
      return core::Error{core::ErrorKind::kInvalidInput,
                         "kafka.bootstrap_servers: empty server in '" + std::string(text) + "'"};
    }
    const auto scheme_end = item.find("://");
    if (scheme_end != std::string_view::npos) {
      const std::string scheme = lower(item.substr(0, scheme_end));
      if (scheme == "kafka+ssl" || scheme == "ssl") {
        any_ssl = true;
      } else if (scheme == "kafka" || scheme == "plaintext") {
        any_plain = true;
      } else {
        return core::Error{core::ErrorKind::kInvalidInput,
                           "kafka.bootstrap_servers: unsupported scheme '" + scheme +
                               "://' (use host:port, kafka:// or kafka+ssl://)"};
      }
      item.remove_prefix(scheme_end + 3);
    } else {
      any_plain = true;
    }
    while (!item.empty() && item.back() == '/') {
      item.remove_suffix(1);
    }
    const auto colon = item.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == item.size() ||
        item.substr(colon + 1).find_first_not_of("0123456789") != std::string_view::npos) {
      return core::Error{core::ErrorKind::kInvalidInput,
                         "kafka.bootstrap_servers: '" + std::string(item) + "' is not host:port"};
    }
    hosts.emplace_back(item);
    if (comma == text.size()) {
      break;
    }
  }
  if (hosts.empty()) {
    return core::Error{core::ErrorKind::kInvalidInput, "kafka.bootstrap_servers: empty"};
  }
  if (any_ssl && any_plain) {
    return core::Error{core::ErrorKind::kInvalidInput,
                       "kafka.bootstrap_servers: mixes kafka+ssl:// with plaintext servers"};
  }
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    out.servers += (i == 0 ? "" : ",") + hosts[i];
  }
  out.ssl = any_ssl;
  return out;
}

Properties enforced_properties(Role role, const std::map<std::string, std::string>& user,
                               std::vector<std::string>* warnings) {
  Properties out = defaults_for(role);
  const auto& enforced = enforced_for(role);
  auto warn = [&](std::string line) {
    if (warnings != nullptr) {
      warnings->push_back(std::move(line));
    }
  };
  for (const auto& [key, value] : user) {
    // An init-capture: clang before 16 cannot capture a structured binding (P1091).
    const auto rule =
        std::find_if(enforced.begin(), enforced.end(), [&key = key](const Enforced& e) {
          return std::find(e.keys.begin(), e.keys.end(), key) != e.keys.end();
        });
    if (rule != enforced.end()) {
      if (rule->equivalent.count(lower(value)) == 0) {
        warn("kafka.properties." + key + "=" + value + " ignored: the bridge requires " +
             rule->keys.front() + "=" + rule->value + " (" + rule->why + ")");
      }
      continue;
    }
    if (role == Role::kProducer && kMaxInFlightKeys.count(key) != 0) {
      char* end = nullptr;
      const long n = std::strtol(value.c_str(), &end, 10);
      if (end != nullptr && *end == '\0' && n > kMaxInFlightLimit) {
        warn("kafka.properties." + key + "=" + value + " lowered to " +
             std::to_string(kMaxInFlightLimit) +
             " (the idempotent producer keeps order only up to 5 requests in flight)");
        out.emplace_back("max.in.flight.requests.per.connection",
                         std::to_string(kMaxInFlightLimit));
        continue;
      }
      out.emplace_back("max.in.flight.requests.per.connection", value);
      continue;
    }
    out.emplace_back(key, value);
  }
  for (const auto& rule : enforced) {
    out.emplace_back(rule.keys.front(), rule.value);
  }
  return out;
}

// ---- CertificateFiles

std::shared_ptr<CertificateFiles> CertificateFiles::from_environment(const Getenv& getenv) {
  struct Source {
    const char* variable;
    const char* file;
    const char* property;
  };
  static constexpr Source kSources[] = {
      {"KAFKA_TRUSTED_CERT", "ca.pem", "ssl.ca.location"},
      {"KAFKA_CLIENT_CERT", "client.pem", "ssl.certificate.location"},
      {"KAFKA_CLIENT_CERT_KEY", "client.key", "ssl.key.location"},
  };
  std::vector<std::pair<const Source*, std::string>> present;
  for (const auto& source : kSources) {
    if (auto value = getenv(source.variable); value && !value->empty()) {
      present.emplace_back(&source, std::move(*value));
    }
  }
  if (present.empty()) {
    return nullptr;
  }
  std::shared_ptr<CertificateFiles> files(new CertificateFiles());
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/sf-kafka-bridge-certs.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {  // mkdtemp creates it with mode 0700
    throw KafkaError("cannot create a private directory for the Kafka certificates (" + pattern +
                     "): " + std::strerror(errno));
  }
  files->directory_ = pattern;
  for (const auto& [source, pem] : present) {
    const std::string path = files->directory_ + "/" + source->file;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      throw KafkaError("cannot write " + path + ": " + std::strerror(errno));
    }
    files->files_.push_back(path);
    ::fchmod(fd, 0600);  // whatever the umask
    std::size_t written = 0;
    while (written < pem.size()) {
      const ssize_t n = ::write(fd, pem.data() + written, pem.size() - written);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        ::close(fd);
        throw KafkaError("cannot write " + path + ": " + std::strerror(errno));
      }
      written += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) {
      throw KafkaError("cannot write " + path + ": " + std::strerror(errno));
    }
    files->properties_.emplace_back(source->property, path);
  }
  return files;
}

CertificateFiles::~CertificateFiles() {
  for (const auto& file : files_) {
    ::unlink(file.c_str());
  }
  if (!directory_.empty()) {
    ::rmdir(directory_.c_str());
  }
}

// ---- EmbeddedCluster

std::shared_ptr<EmbeddedCluster> EmbeddedCluster::instance() {
  static std::mutex mutex;
  static std::weak_ptr<EmbeddedCluster> current;
  std::lock_guard lock(mutex);
  if (auto existing = current.lock()) {
    return existing;
  }
  std::shared_ptr<EmbeddedCluster> cluster(new EmbeddedCluster());
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  // Names the owner handle, whose missing bootstrap.servers notice is expected (logging.h).
  if (rd_kafka_conf_set(conf.get(), "client.id", kEmbeddedOwnerClientId, errstr, sizeof errstr) !=
      RD_KAFKA_CONF_OK) {
    throw KafkaError(std::string("embedded Kafka: ") + errstr);
  }
  install_logging(conf.get());
  cluster->owner_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr));
  if (!cluster->owner_) {
    throw KafkaError(std::string("embedded Kafka: ") + errstr);
  }
  conf.release();  // owned by the handle now
  cluster->cluster_.reset(rd_kafka_mock_cluster_new(cluster->owner_.get(), 1));
  if (!cluster->cluster_) {
    throw KafkaError("embedded Kafka: librdkafka could not create its mock cluster");
  }
  cluster->bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster->cluster_.get());
  ops::logger("kafka")->warn(
      "kafka.embedded: using librdkafka's in-process mock cluster at {} - records live in memory "
      "only (demo mode)",
      cluster->bootstrap_);
  current = cluster;
  return cluster;
}

core::Status EmbeddedCluster::create_topic(const std::string& topic, int partitions) {
  return check(rd_kafka_mock_topic_create(cluster_.get(), topic.c_str(), partitions, 1),
               "embedded Kafka: create topic " + topic);
}

EmbeddedCluster::~EmbeddedCluster() = default;

// ---- ClientConfig

ClientConfig::ClientConfig(const config::KafkaConfig& kafka, Role role,
                           CertificateFiles::Getenv getenv)
    : kafka_(kafka), role_(role) {
  if (!getenv) {
    getenv = [](const char* name) -> std::optional<std::string> {
      const char* v = std::getenv(name);
      return v == nullptr ? std::nullopt : std::optional<std::string>(v);
    };
  }
  Properties base;
  std::vector<std::shared_ptr<const void>> resources;
  if (kafka.embedded) {
    auto cluster = EmbeddedCluster::instance();
    bootstrap_ = cluster->bootstrap_servers();
    resources.push_back(cluster);
  } else {
    auto parsed = parse_bootstrap_servers(kafka.bootstrap_servers);
    if (!parsed) {
      throw KafkaError(parsed.error().message);
    }
    bootstrap_ = parsed->servers;
    if (parsed->ssl) {
      base.emplace_back("security.protocol", "ssl");
    }
    if (auto certs = CertificateFiles::from_environment(getenv)) {
      for (const auto& [key, value] : certs->properties()) {
        if (kafka.properties.count(key) == 0) {
          base.emplace_back(key, value);
        }
      }
      resources.push_back(certs);
    }
  }
  properties_.emplace_back("bootstrap.servers", bootstrap_);
  properties_.insert(properties_.end(), base.begin(), base.end());
  const Properties rest = enforced_properties(role, kafka.properties, &warnings_);
  properties_.insert(properties_.end(), rest.begin(), rest.end());
  for (const auto& warning : warnings_) {
    ops::logger("kafka")->warn("{}", warning);
  }
  keep_alive_ = std::make_shared<std::vector<std::shared_ptr<const void>>>(std::move(resources));
  make_conf();  // every property is checked by librdkafka now, at start-up
}

ConfPtr ClientConfig::make_conf(const Properties& extra) const {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  auto apply = [&](const std::string& key, const std::string& value) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      // The value is left out on purpose: it may be a password (sasl.password, ssl.key.password).
      throw KafkaError("kafka property '" + key + "': " + errstr);
    }
  };
  for (const auto& [key, value] : properties_) {
    apply(key, value);
  }
  for (const auto& [key, value] : extra) {
    apply(key, value);
  }
  install_logging(conf.get());
  return conf;
}

std::vector<std::string> check_properties(const std::map<std::string, std::string>& properties) {
  std::vector<std::string> problems;
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      problems.push_back("kafka.properties." + key + ": " + errstr);
    }
  }
  return problems;
}

}  // namespace sfkb::kafka
