#pragma once
// librdkafka client configuration built from `kafka:` (config::KafkaConfig), for one role.
//
// Order of precedence (later wins): the bridge's defaults for the role -> `kafka.properties` ->
// the settings the bridge's guarantees rest on (enforced; a conflicting user value is logged as a
// warning and overridden, see enforced_properties()). Built at start-up: errors throw KafkaError
// with librdkafka's own message and the property's key.
//
// bootstrap_servers accepts `host:port[,host:port]`, `kafka://host:port` and Heroku's
// `kafka+ssl://host:port,kafka+ssl://host2:port` (scheme stripped, security.protocol=ssl).
// Heroku's certificates: when KAFKA_TRUSTED_CERT / KAFKA_CLIENT_CERT / KAFKA_CLIENT_CERT_KEY are
// set (PEM text), they are written (mode 0600) into a private directory (mode 0700, removed when
// the last client using it is gone) and ssl.ca.location / ssl.certificate.location /
// ssl.key.location point there, unless kafka.properties sets those keys itself. Hostname
// verification stays on (librdkafka's default `ssl.endpoint.identification.algorithm=https`);
// Heroku's brokers present certificates without the broker hostnames in some plans - operators of
// those plans set `ssl.endpoint.identification.algorithm: none` in kafka.properties knowingly, the
// bridge never does it for them.
//
// kafka.embedded: true runs librdkafka's in-process mock cluster (one per process, shared by
// every client) and points bootstrap.servers at it: the demo without a Kafka cluster.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/core/result.h"
#include "daemon/kafka/handles.h"

namespace sfkb::kafka {

enum class Role { kProducer, kConsumer };

using Properties = std::vector<std::pair<std::string, std::string>>;  // applied in order

struct BootstrapServers {
  std::string servers;  // host:port[,host:port...], schemes removed
  bool ssl = false;     // a kafka+ssl:// (or ssl://) scheme was given
};

// Parses bootstrap_servers (pure). Errors: empty list or element, an unknown scheme
// (kafka+sasl_ssl is not supported), a missing port.
core::Result<BootstrapServers> parse_bootstrap_servers(std::string_view text);

// The role's defaults, then `user` (kafka.properties), then the enforced settings. Aliases
// (acks/request.required.acks, max.in.flight/max.in.flight.requests.per.connection,
// message.timeout.ms/delivery.timeout.ms) are treated as one setting. `warnings` receives one
// line per user setting that was overridden. Pure.
Properties enforced_properties(Role role, const std::map<std::string, std::string>& user,
                               std::vector<std::string>* warnings);

// Writes Heroku's PEM environment variables into a private directory (0700, files 0600). The
// directory and the files are removed when the object is destroyed.
class CertificateFiles {
 public:
  using Getenv = std::function<std::optional<std::string>(const char*)>;
  // nullptr when none of the three variables is set. Throws KafkaError on I/O errors.
  static std::shared_ptr<CertificateFiles> from_environment(const Getenv& getenv);
  ~CertificateFiles();
  CertificateFiles(const CertificateFiles&) = delete;
  CertificateFiles& operator=(const CertificateFiles&) = delete;

  const std::string& directory() const { return directory_; }
  // librdkafka properties naming the written files (ssl.ca.location, ...).
  const Properties& properties() const { return properties_; }

 private:
  CertificateFiles() = default;
  std::string directory_;
  std::vector<std::string> files_;
  Properties properties_;
};

// The process's in-process mock cluster (kafka.embedded). Created on first use, lives until the
// last client config referring to it is gone.
class EmbeddedCluster {
 public:
  static std::shared_ptr<EmbeddedCluster> instance();
  ~EmbeddedCluster();
  const std::string& bootstrap_servers() const { return bootstrap_; }
  // Topics are auto-created with one partition; the demo creates its topics up front.
  core::Status create_topic(const std::string& topic, int partitions);

 private:
  EmbeddedCluster() = default;
  HandlePtr owner_;  // the mock cluster lives inside a handle of its own
  MockClusterPtr cluster_;
  std::string bootstrap_;
};

class ClientConfig {
 public:
  // Throws KafkaError (bad URL, unwritable certificates). Property values are checked by
  // librdkafka in make_conf(). `getenv` defaults to the process environment.
  ClientConfig(const config::KafkaConfig& kafka, Role role,
               CertificateFiles::Getenv getenv = nullptr);

  Role role() const { return role_; }
  const config::KafkaConfig& kafka() const { return kafka_; }
  const std::string& bootstrap_servers() const { return bootstrap_; }
  // Every property handed to librdkafka, in order (for tests and `check-config`; values of
  // sensitive keys such as sasl.password are not redacted here - never log this as is).
  const Properties& properties() const { return properties_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  // A fresh rd_kafka_conf_t with every property set; `extra` is applied last (the wrappers add
  // group.id and their own overrides). Throws KafkaError naming the key and librdkafka's errstr.
  ConfPtr make_conf(const Properties& extra = {}) const;

  // Resources the clients must keep alive (certificate files, the embedded cluster).
  std::shared_ptr<const void> keep_alive() const { return keep_alive_; }

 private:
  config::KafkaConfig kafka_;
  Role role_;
  std::string bootstrap_;
  Properties properties_;
  std::vector<std::string> warnings_;
  std::shared_ptr<const void> keep_alive_;
};

// Checks kafka.properties with librdkafka itself, for `check-config`: one message per rejected
// key ("kafka.properties.<key>: <librdkafka's message>").
std::vector<std::string> check_properties(const std::map<std::string, std::string>& properties);

// kafka.topic_prefix + group (Heroku's multi-tenant plans require prefixed group ids too).
inline std::string group_id_for(const config::KafkaConfig& kafka, const std::string& group) {
  return kafka.topic_prefix + group;
}

}  // namespace sfkb::kafka
