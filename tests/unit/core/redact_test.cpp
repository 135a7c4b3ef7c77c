#include "daemon/core/redact.h"

#include <gtest/gtest.h>

namespace sfkb::core {
namespace {

TEST(Redact, RecognisesSecretKeys) {
  EXPECT_TRUE(is_secret_key("access_token"));
  EXPECT_TRUE(is_secret_key("client_secret"));
  EXPECT_TRUE(is_secret_key("Password"));
  EXPECT_TRUE(is_secret_key("private_key_file"));
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

}  // namespace
}  // namespace sfkb::core
