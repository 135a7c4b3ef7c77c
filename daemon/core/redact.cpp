#include "daemon/core/redact.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <regex>
#include <set>

namespace sfkb::core {
namespace {

constexpr std::array<std::string_view, 10> kSecretKeyParts = {
    "token",     "secret",        "password", "private_key", "privatekey",
    "assertion", "authorization", "cert_key", "passphrase",  "sasl.password"};

std::mutex& secrets_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::set<std::string, std::less<>>& secrets() {
  static std::set<std::string, std::less<>> values;
  return values;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool is_secret_key(std::string_view key) {
  const std::string lowered = lower(key);
  return std::any_of(kSecretKeyParts.begin(), kSecretKeyParts.end(), [&](std::string_view part) {
    return lowered.find(part) != std::string::npos;
  });
}

std::string redact_text(std::string_view text) {
  // Compiled once; std::regex is slow, but redaction runs on log and error paths only.
  static const std::regex bearer(R"((Bearer|OAuth)\s+[^\s",;]+)", std::regex::icase);
  static const std::regex json_pair(
      R"re("([A-Za-z0-9_.\-]*(token|secret|password|private_key|assertion|authorization)[A-Za-z0-9_.\-]*)"\s*:\s*"[^"]*")re",
      std::regex::icase);
  static const std::regex form_pair(
      R"(\b([A-Za-z0-9_.\-]*(token|secret|password|private_key|assertion)[A-Za-z0-9_.\-]*)=[^&\s"]*)",
      std::regex::icase);
  static const std::regex pem(
      R"(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----)");

  std::string out(text);
  {
    std::lock_guard lock(secrets_mutex());
    for (const auto& secret : secrets()) {
      for (auto pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
        out.replace(pos, secret.size(), kRedacted);
        pos += kRedacted.size();
      }
    }
  }
  out = std::regex_replace(out, pem, "-----PRIVATE KEY " + std::string(kRedacted) + "-----");
  out = std::regex_replace(out, bearer, "$1 " + std::string(kRedacted));
  out = std::regex_replace(out, json_pair, "\"$1\":\"" + std::string(kRedacted) + "\"");
  out = std::regex_replace(out, form_pair, "$1=" + std::string(kRedacted));
  return out;
}

void register_secret(std::string_view value) {
  if (value.size() < 6) {
    return;
  }
  std::lock_guard lock(secrets_mutex());
  secrets().emplace(value);
}

}  // namespace sfkb::core
