#include "daemon/core/redact.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <regex>
#include <set>

namespace sfkb::core {
namespace {

// The properties librdkafka's rdkafka_conf.c flags _RK_SENSITIVE (its own dumps hide them), kept
// here by name because some say nothing in their name (sasl.username, ssl.key.location).
// sasl.oauthbearer.client.secret is flagged from librdkafka 2.x on; newer sensitive properties
// (e.g. sasl.oauthbearer.assertion.private.key.pem) are caught by the words below anyway.
constexpr std::array<std::string_view, 10> kLibrdkafkaSensitive = {
    "ssl.key.location",
    "ssl.key.password",
    "ssl.key.pem",
    "ssl_key",
    "ssl.ca.pem",
    "ssl.keystore.password",
    "sasl.username",
    "sasl.password",
    "sasl.oauthbearer.config",
    "sasl.oauthbearer.client.secret"};

// A name containing one of these holds a secret. "key" is broad on purpose (api_key, ssl.key.pem,
// private_key, ...): hiding a harmless value costs little, showing a key costs a rotation.
constexpr std::array<std::string_view, 12> kSecretWords = {
    "password",   "passwd", "passphrase", "secret",      "token",     "key",
    "credential", "pem",    "jaas",       "oauthbearer", "assertion", "authorization"};

// Names ending so hold no secret: a path (shown so that an operator can check it) or the name of
// a payload field.
constexpr std::array<std::string_view, 2> kVisibleSuffixes = {"_file", "_field"};

constexpr std::string_view kPemBegin = "-----BEGIN ";
constexpr std::string_view kPemEnd = "-----END ";

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

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool contains_any(std::string_view lowered, std::string_view extra) {
  return lowered.find(extra) != std::string_view::npos ||
         std::any_of(kSecretWords.begin(), kSecretWords.end(), [&](std::string_view word) {
           return lowered.find(word) != std::string_view::npos;
         });
}

// Replaces every PEM block, and a block cut off before its END line up to the end of the text.
std::string redact_pem(std::string text) {
  std::size_t from = 0;
  while ((from = text.find(kPemBegin, from)) != std::string::npos) {
    std::size_t stop = text.size();
    if (auto end = text.find(kPemEnd, from); end != std::string::npos) {
      auto close = text.find("-----", end + kPemEnd.size());
      stop = close == std::string::npos ? text.size() : close + 5;
    }
    const std::string replacement = "-----PEM " + std::string(kRedacted) + "-----";
    text.replace(from, stop - from, replacement);
    from += replacement.size();
  }
  return text;
}

// Rebuilds `text` with each match of `pattern` replaced by replace(match).
template <typename Replace>
std::string replace_matches(const std::string& text, const std::regex& pattern, Replace replace) {
  std::string out;
  auto last = text.cbegin();
  for (std::sregex_iterator it(text.begin(), text.end(), pattern), end; it != end; ++it) {
    out.append(last, (*it)[0].first);
    out += replace(*it);
    last = (*it)[0].second;
  }
  out.append(last, text.cend());
  return out;
}

}  // namespace

bool is_secret_key(std::string_view key) {
  const std::string lowered = lower(key);
  for (std::string_view name : kLibrdkafkaSensitive) {
    // Also as the end of a dotted path, e.g. kafka.properties.sasl.username.
    if (lowered == name || ends_with(lowered, "." + std::string(name))) {
      return true;
    }
  }
  if (std::any_of(kVisibleSuffixes.begin(), kVisibleSuffixes.end(),
                  [&](std::string_view suffix) { return ends_with(lowered, suffix); })) {
    return false;
  }
  return std::any_of(kSecretWords.begin(), kSecretWords.end(), [&](std::string_view word) {
    return lowered.find(word) != std::string::npos;
  });
}

bool contains_pem(std::string_view value) {
  return value.find(kPemBegin) != std::string_view::npos;
}

std::string redact_value(std::string_view key, std::string_view value) {
  if (!value.empty() && (is_secret_key(key) || contains_pem(value))) {
    return std::string(kRedacted);
  }
  return std::string(value);
}

std::string redact_text(std::string_view text) {
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
  // The fast path: nothing below can match text that names no secret, holds no PEM block and no
  // Bearer/OAuth credential (sasl.username is the one sensitive name without a secret word).
  const std::string lowered = lower(out);
  if (!contains_any(lowered, "-----begin ") && lowered.find("bearer") == std::string::npos &&
      lowered.find("oauth") == std::string::npos &&
      lowered.find("sasl.username") == std::string::npos) {
    return out;
  }
  // Compiled once; std::regex is slow, but only text that passed the check above gets here.
  static const std::regex bearer(R"((Bearer|OAuth)\s+[^\s",;]+)", std::regex::icase);
  static const std::regex json_pair(R"re("([^"\\]{1,200})"(\s*:\s*)"(?:[^"\\]|\\.)*")re");
  static const std::regex form_pair(R"re(([A-Za-z0-9_.\-]+)=("[^"]*"|[^&\s"]*))re");

  out = redact_pem(std::move(out));
  out = std::regex_replace(out, bearer, "$1 " + std::string(kRedacted));
  out = replace_matches(out, json_pair, [](const std::smatch& m) {
    if (!is_secret_key(m[1].str())) {
      return m[0].str();
    }
    return "\"" + m[1].str() + "\"" + m[2].str() + "\"" + std::string(kRedacted) + "\"";
  });
  out = replace_matches(out, form_pair, [](const std::smatch& m) {
    if (m[2].length() == 0 || !is_secret_key(m[1].str())) {
      return m[0].str();
    }
    return m[1].str() + "=" + std::string(kRedacted);
  });
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
