#include "daemon/core/redact.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
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

// The scanners below are hand-written and linear: redact_text runs on every log line, of any
// length, and std::regex (recursive in libstdc++) overflows the stack on long matches.

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
}

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// `Bearer <credential>` and `OAuth <credential>` (any case): the credential becomes kRedacted.
std::string redact_bearer(const std::string& text) {
  const std::string lowered = lower(text);
  std::string out;
  std::size_t copied = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::size_t word = 0;
    if (lowered.compare(i, 6, "bearer") == 0) {
      word = 6;
    } else if (lowered.compare(i, 5, "oauth") == 0) {
      word = 5;
    } else {
      continue;
    }
    std::size_t start = i + word;
    if (start >= text.size() || !is_space(text[start])) {
      continue;
    }
    while (start < text.size() && is_space(text[start])) {
      ++start;
    }
    std::size_t stop = start;
    while (stop < text.size() && !is_space(text[stop]) && text[stop] != '"' && text[stop] != ',' &&
           text[stop] != ';') {
      ++stop;
    }
    if (stop == start) {
      continue;
    }
    out.append(text, copied, start - copied);
    out += kRedacted;
    copied = stop;
    i = stop - 1;
  }
  out.append(text, copied, std::string::npos);
  return out;
}

// The end of the JSON string starting at the quote `open` (the index of its closing quote), or
// npos when it is not closed.
std::size_t json_string_end(const std::string& text, std::size_t open) {
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i;
    }
  }
  return std::string::npos;
}

// `"name": "value"` with a secret name: the value becomes kRedacted.
std::string redact_json_pairs(const std::string& text) {
  std::string out;
  std::size_t copied = 0;
  std::size_t i = text.find('"');
  while (i != std::string::npos) {
    const std::size_t key_end = json_string_end(text, i);
    if (key_end == std::string::npos) {
      break;
    }
    std::size_t j = key_end + 1;
    while (j < text.size() && is_space(text[j])) {
      ++j;
    }
    if (j >= text.size() || text[j] != ':') {
      i = text.find('"', key_end + 1);
      continue;
    }
    ++j;
    while (j < text.size() && is_space(text[j])) {
      ++j;
    }
    if (j >= text.size() || text[j] != '"') {
      i = text.find('"', j);
      continue;
    }
    const std::size_t value_end = json_string_end(text, j);
    const std::size_t stop = value_end == std::string::npos ? text.size() : value_end;
    if (is_secret_key(std::string_view(text).substr(i + 1, key_end - i - 1))) {
      out.append(text, copied, j + 1 - copied);
      out += kRedacted;
      copied = stop;
    }
    if (value_end == std::string::npos) {
      break;
    }
    i = text.find('"', value_end + 1);
  }
  out.append(text, copied, std::string::npos);
  return out;
}

// `name=value` and `name="value"` with a secret name (form bodies, URLs, key=value log fields,
// librdkafka-style configuration strings): the value becomes kRedacted.
std::string redact_form_pairs(const std::string& text) {
  std::string out;
  std::size_t copied = 0;
  std::size_t eq = text.find('=');
  while (eq != std::string::npos) {
    std::size_t key_start = eq;
    while (key_start > copied && is_name_char(text[key_start - 1])) {
      --key_start;
    }
    std::size_t stop = eq + 1;
    if (stop < text.size() && text[stop] == '"') {
      const auto close = text.find('"', stop + 1);
      stop = close == std::string::npos ? text.size() : close + 1;
    } else {
      while (stop < text.size() && text[stop] != '&' && !is_space(text[stop]) &&
             text[stop] != '"') {
        ++stop;
      }
    }
    if (key_start < eq && stop > eq + 1 &&
        is_secret_key(std::string_view(text).substr(key_start, eq - key_start))) {
      out.append(text, copied, eq + 1 - copied);
      out += kRedacted;
      copied = stop;
      eq = text.find('=', stop);
    } else {
      eq = text.find('=', eq + 1);
    }
  }
  out.append(text, copied, std::string::npos);
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
  out = redact_pem(std::move(out));
  out = redact_bearer(out);
  out = redact_json_pairs(out);
  out = redact_form_pairs(out);
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
