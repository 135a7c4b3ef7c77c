#include "daemon/kafka/client_config.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <gtest/gtest.h>

#include "daemon/kafka/error.h"

namespace sfkb::kafka {
namespace {

std::optional<std::string> value_of(const Properties& properties, const std::string& key) {
  std::optional<std::string> out;  // the last one wins, as in librdkafka
  for (const auto& [k, v] : properties) {
    if (k == key) {
      out = v;
    }
  }
  return out;
}

CertificateFiles::Getenv env(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

// ---- bootstrap URL parsing

TEST(ParseBootstrapServers, AcceptsHerokuSslUrlList) {
  auto parsed = parse_bootstrap_servers(
      "kafka+ssl://ec2-1.compute.amazonaws.com:9096,kafka+ssl://ec2-2.compute.amazonaws.com:9096");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->servers, "ec2-1.compute.amazonaws.com:9096,ec2-2.compute.amazonaws.com:9096");
  EXPECT_TRUE(parsed->ssl);
}

TEST(ParseBootstrapServers, AcceptsPlainHostPortAndKafkaScheme) {
  auto plain = parse_bootstrap_servers("127.0.0.1:9092, broker2:9093");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->servers, "127.0.0.1:9092,broker2:9093");
  EXPECT_FALSE(plain->ssl);
  auto scheme = parse_bootstrap_servers("kafka://b1:9092,kafka://b2:9092/");
  ASSERT_TRUE(scheme);
  EXPECT_EQ(scheme->servers, "b1:9092,b2:9092");
  EXPECT_FALSE(scheme->ssl);
}

TEST(ParseBootstrapServers, RejectsWhatLibrdkafkaCouldNotUse) {
  for (const char* bad : {"", "  ", "host", "host:", ":9092", "a:1,,b:2", "http://h:1",
                          "kafka+sasl_ssl://h:1", "host:port", "kafka+ssl://a:1,b:2"}) {
    auto parsed = parse_bootstrap_servers(bad);
    EXPECT_FALSE(parsed) << "'" << bad << "' was accepted";
    if (!parsed) {
      EXPECT_NE(parsed.error().message.find("kafka.bootstrap_servers"), std::string::npos);
    }
  }
}

// ---- enforced producer/consumer properties

TEST(EnforcedProperties, ProducerGuaranteesCannotBeWeakened) {
  std::vector<std::string> warnings;
  const auto props = enforced_properties(Role::kProducer,
                                         {{"acks", "1"},
                                          {"enable.idempotence", "false"},
                                          {"enable.gapless.guarantee", "false"},
                                          {"delivery.timeout.ms", "30000"},
                                          {"linger.ms", "20"}},
                                         &warnings);
  EXPECT_EQ(value_of(props, "acks"), "all");
  EXPECT_EQ(value_of(props, "enable.idempotence"), "true");
  EXPECT_EQ(value_of(props, "enable.gapless.guarantee"), "true");
  EXPECT_EQ(value_of(props, "message.timeout.ms"), "0");
  EXPECT_FALSE(value_of(props, "delivery.timeout.ms").has_value());  // alias dropped, not applied
  EXPECT_EQ(value_of(props, "linger.ms"), "20");                     // a free choice stays
  ASSERT_EQ(warnings.size(), 4u);
  EXPECT_NE(warnings[0].find("kafka.properties."), std::string::npos);
  EXPECT_NE(
      std::find_if(warnings.begin(), warnings.end(),
                   [](const auto& w) { return w.find("acks=1 ignored") != std::string::npos; }),
      warnings.end());
}

TEST(EnforcedProperties, EquivalentUserValuesDoNotWarn) {
  std::vector<std::string> warnings;
  enforced_properties(Role::kProducer, {{"request.required.acks", "-1"}, {"acks", "all"}},
                      &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
}

TEST(EnforcedProperties, MaxInFlightIsCappedAtFive) {
  std::vector<std::string> warnings;
  auto props = enforced_properties(Role::kProducer, {{"max.in.flight", "20"}}, &warnings);
  EXPECT_EQ(value_of(props, "max.in.flight.requests.per.connection"), "5");
  EXPECT_FALSE(value_of(props, "max.in.flight").has_value());
  EXPECT_EQ(warnings.size(), 1u);
  warnings.clear();
  props = enforced_properties(Role::kProducer, {{"max.in.flight.requests.per.connection", "2"}},
                              &warnings);
  EXPECT_EQ(value_of(props, "max.in.flight.requests.per.connection"), "2");
  EXPECT_TRUE(warnings.empty());
}

TEST(EnforcedProperties, ConsumerNeverAutoCommits) {
  std::vector<std::string> warnings;
  auto props = enforced_properties(
      Role::kConsumer, {{"enable.auto.commit", "true"}, {"partition.assignment.strategy", "range"}},
      &warnings);
  EXPECT_EQ(value_of(props, "enable.auto.commit"), "false");
  EXPECT_EQ(value_of(props, "enable.auto.offset.store"), "false");
  EXPECT_EQ(value_of(props, "partition.assignment.strategy"), "range");  // user's choice
  EXPECT_EQ(warnings.size(), 1u);
  props = enforced_properties(Role::kConsumer, {}, nullptr);
  EXPECT_EQ(value_of(props, "partition.assignment.strategy"), "cooperative-sticky");
}

// ---- ClientConfig

TEST(ClientConfig, HerokuUrlSetsSslAndTheEnforcedSettings) {
  config::KafkaConfig kafka;
  kafka.bootstrap_servers = "kafka+ssl://h1:9096,kafka+ssl://h2:9096";
  kafka.properties = {{"acks", "0"}};
  ClientConfig config(kafka, Role::kProducer, env({}));
  EXPECT_EQ(config.bootstrap_servers(), "h1:9096,h2:9096");
  EXPECT_EQ(value_of(config.properties(), "security.protocol"), "ssl");
  EXPECT_EQ(value_of(config.properties(), "acks"), "all");
  EXPECT_EQ(config.warnings().size(), 1u);
  EXPECT_FALSE(value_of(config.properties(), "ssl.endpoint.identification.algorithm"));
}

TEST(ClientConfig, UserCanChooseSaslOverTheUrlScheme) {
  config::KafkaConfig kafka;
  kafka.bootstrap_servers = "kafka+ssl://h1:9096";
  kafka.properties = {{"security.protocol", "sasl_ssl"},
                      {"sasl.mechanisms", "PLAIN"},
                      {"sasl.username", "u"},
                      {"sasl.password", "p"}};
  ClientConfig config(kafka, Role::kConsumer, env({}));
  EXPECT_EQ(value_of(config.properties(), "security.protocol"), "sasl_ssl");
}

TEST(ClientConfig, LibrdkafkaRejectionsNameTheKeyButNotTheValue) {
  config::KafkaConfig kafka;
  kafka.bootstrap_servers = "127.0.0.1:9092";
  kafka.properties = {{"no.such.property", "s3cr3t-value"}};
  try {
    ClientConfig config(kafka, Role::kProducer, env({}));
    FAIL() << "an unknown property was accepted";
  } catch (const KafkaError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("no.such.property"), std::string::npos) << message;
    EXPECT_EQ(message.find("s3cr3t-value"), std::string::npos) << message;
  }
}

TEST(ClientConfig, BadUrlIsAStartUpError) {
  config::KafkaConfig kafka;
  kafka.bootstrap_servers = "http://nope:1";
  EXPECT_THROW(ClientConfig(kafka, Role::kProducer, env({})), KafkaError);
}

TEST(CheckProperties, ReportsEveryRejectedKey) {
  const auto problems =
      check_properties({{"linger.ms", "not-a-number"}, {"bogus.key", "1"}, {"acks", "all"}});
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("kafka.properties.bogus.key"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("kafka.properties.linger.ms"), std::string::npos) << problems[1];
}

// ---- Heroku certificates

TEST(CertificateFiles, NothingWhenNoVariableIsSet) {
  EXPECT_EQ(CertificateFiles::from_environment(env({})), nullptr);
}

TEST(CertificateFiles, WritesPrivateFilesAndRemovesThem) {
  std::string directory;
  std::vector<std::string> paths;
  {
    auto files = CertificateFiles::from_environment(
        env({{"KAFKA_TRUSTED_CERT", "-----BEGIN CERTIFICATE-----\nCA\n"},
             {"KAFKA_CLIENT_CERT", "-----BEGIN CERTIFICATE-----\nME\n"},
             {"KAFKA_CLIENT_CERT_KEY", "-----BEGIN RSA PRIVATE KEY-----\nKEY\n"}}));
    ASSERT_NE(files, nullptr);
    directory = files->directory();
    struct stat st {};
    ASSERT_EQ(::stat(directory.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(files->properties().size(), 3u);
    EXPECT_EQ(files->properties()[0].first, "ssl.ca.location");
    EXPECT_EQ(files->properties()[1].first, "ssl.certificate.location");
    EXPECT_EQ(files->properties()[2].first, "ssl.key.location");
    for (const auto& [key, path] : files->properties()) {
      paths.push_back(path);
      ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
      EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
    }
    std::ifstream key(files->properties()[2].second);
    std::stringstream content;
    content << key.rdbuf();
    EXPECT_EQ(content.str(), "-----BEGIN RSA PRIVATE KEY-----\nKEY\n");
  }
  for (const auto& path : paths) {
    EXPECT_FALSE(std::filesystem::exists(path)) << path;
  }
  EXPECT_FALSE(std::filesystem::exists(directory));
}

TEST(ClientConfig, HerokuCertificatesAreUsedUnlessPropertiesNameTheirOwn) {
  config::KafkaConfig kafka;
  kafka.bootstrap_servers = "kafka+ssl://h1:9096";
  kafka.properties = {{"ssl.ca.location", "/etc/ssl/certs"}};
  auto vars = env({{"KAFKA_TRUSTED_CERT", "CA"},
                   {"KAFKA_CLIENT_CERT", "CERT"},
                   {"KAFKA_CLIENT_CERT_KEY", "KEY"}});
  // librdkafka checks ssl.*.location files when the handle is made, not at conf time, so the
  // placeholder PEM content is fine here.
  ClientConfig config(kafka, Role::kProducer, vars);
  EXPECT_EQ(value_of(config.properties(), "ssl.ca.location"), "/etc/ssl/certs");
  const auto cert = value_of(config.properties(), "ssl.certificate.location");
  ASSERT_TRUE(cert);
  EXPECT_TRUE(std::filesystem::exists(*cert));
}

}  // namespace
}  // namespace sfkb::kafka
