#include "daemon/core/redact.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace sfkb::core {
namespace {

TEST(Redact, RecognisesSecretKeys) {
  EXPECT_TRUE(is_secret_key("access_token"));
  EXPECT_TRUE(is_secret_key("client_secret"));
  EXPECT_TRUE(is_secret_key("Password"));
  EXPECT_FALSE(is_secret_key("private_key_file")) << "a path, shown so it can be checked";
  EXPECT_TRUE(is_secret_key("Authorization"));
  EXPECT_FALSE(is_secret_key("client_id"));
  EXPECT_FALSE(is_secret_key("username"));
}

TEST(Redact, HidesBearerTokensJsonAndFormSecrets) {
  const std::string text =
      "Authorization: Bearer 00Dxx!AQ4AQ.secret "
      "{\"access_token\":\"abc123456\",\"instance_url\":\"https://x\"} "
      "grant_type=password&password=hunter22&client_id=abc";
  const std::string out = redact_text(text);
  EXPECT_EQ(out.find("00Dxx!AQ4AQ.secret"), std::string::npos) << out;
  EXPECT_EQ(out.find("abc123456"), std::string::npos) << out;
  EXPECT_EQ(out.find("hunter22"), std::string::npos) << out;
  EXPECT_NE(out.find("https://x"), std::string::npos) << out;
  EXPECT_NE(out.find("client_id=abc"), std::string::npos) << out;
}

TEST(Redact, HidesPemPrivateKeys) {
  const std::string out = redact_text(
      "key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY----- end");
  EXPECT_EQ(out.find("MIIEvQIBADANBg"), std::string::npos) << out;
  EXPECT_NE(out.find("end"), std::string::npos);
}

TEST(Redact, HidesRegisteredLiteralSecretsAnywhere) {
  register_secret("s3cr3t-token-value");
  const std::string out = redact_text("error while using s3cr3t-token-value in a URL");
  EXPECT_EQ(out, "error while using *** in a URL");
}

// Every property librdkafka flags sensitive (rdkafka_conf.c, _RK_SENSITIVE), whatever
// its name says, and every name that says password/secret/token/key/credential/pem/jaas/
// oauthbearer.
TEST(Redact, ShouldTreatEveryLibrdkafkaSensitivePropertyAsSecret) {
  for (const char* key :
       {"ssl.key.location", "ssl.key.password", "ssl.key.pem", "ssl_key", "ssl.ca.pem",
        "ssl.keystore.password", "sasl.username", "sasl.password", "sasl.oauthbearer.config",
        "sasl.oauthbearer.client.secret", "kafka.properties.sasl.username"}) {
    EXPECT_TRUE(is_secret_key(key)) << key;
  }
}

TEST(Redact, ShouldTreatEveryNameThatSaysSecretAsSecret) {
  for (const char* key :
       {"password", "db_passwd", "ssl.key.passphrase", "clientSecret", "API_TOKEN", "api.key",
        "aws_credentials", "ssl.certificate.pem", "sasl.jaas.config", "sasl.oauthbearer.extensions",
        "assertion", "Authorization", "sasl.oauthbearer.assertion.private.key.pem"}) {
    EXPECT_TRUE(is_secret_key(key)) << key;
  }
  for (const char* key : {"client_id", "username", "topic", "bootstrap.servers", "client.id",
                          "private_key_file", "key_field", "ca_file", "linger.ms"}) {
    EXPECT_FALSE(is_secret_key(key)) << key;
  }
}

TEST(Redact, ShouldHideAnyValueHoldingAPemBlockWhateverItsName) {
  const std::string pem =
      "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
  EXPECT_EQ(redact_value("Note__c", pem), "***");
  EXPECT_EQ(redact_value("Note__c", "prefix " + pem), "***");
  EXPECT_EQ(redact_value("client.id", "bridge-1"), "bridge-1");
  EXPECT_EQ(redact_value("sasl.password", ""), "") << "unset stays visibly unset";
  EXPECT_EQ(redact_value("sasl.password", "x"), "***");
}

TEST(Redact, ShouldHideSecretPairsInFreeTextByTheSameRule) {
  const std::string text =
      "kafka.properties.sasl.oauthbearer.config=principal=admin clientSecret=oidc-s3cr3t-1 "
      "sasl.username=kafka-user-42 {\"ssl.key.password\": \"json-pa55-2\"} "
      "sasl.jaas.config=\"jaas-secret-3\" api_key=apikey-4 topic=orders client.id=bridge-1";
  const std::string out = redact_text(text);
  for (const char* secret : {"principal=admin", "oidc-s3cr3t-1", "kafka-user-42", "json-pa55-2",
                             "jaas-secret-3", "apikey-4"}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << secret << " in " << out;
  }
  EXPECT_NE(out.find("topic=orders"), std::string::npos) << out;
  EXPECT_NE(out.find("client.id=bridge-1"), std::string::npos) << out;
}

TEST(Redact, ShouldHideEveryPemBlockEvenOneCutShort) {
  const std::string out = redact_text(
      "ssl.key.pem -----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHzBJ\n-----END ENCRYPTED PRIVATE "
      "KEY----- and -----BEGIN RSA PRIVATE KEY-----\nMIIEowIB");
  EXPECT_EQ(out.find("MIIFHzBJ"), std::string::npos) << out;
  EXPECT_EQ(out.find("MIIEowIB"), std::string::npos) << out;
  EXPECT_NE(out.find(" and "), std::string::npos) << out;
}

// Every log line goes through redact_text, whatever its length: a regex-based scan overflowed the
// stack on a 100 KB JSON value.
TEST(Redact, ShouldHandleMegabyteLinesInLinearTime) {
  const std::string big(1'000'000, 'z');
  const std::string out = redact_text("{\"access_token\":\"" + big + "\",\"x\":\"" + big +
                                      "\"} password=" + big + " Bearer " + big);
  EXPECT_EQ(std::count(out.begin(), out.end(), 'z'), 1'000'000) << "only the \"x\" value survives";
  EXPECT_NE(out.find("\"x\":\"zzzz"), std::string::npos);
}

TEST(Redact, ShouldLeaveOrdinaryTextAlone) {
  const std::string text = "produced channel=/event/A__e replay_id=42 topic=orders, partition=0";
  EXPECT_EQ(redact_text(text), text);
}

}  // namespace
}  // namespace sfkb::core
