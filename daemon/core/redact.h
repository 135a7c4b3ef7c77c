#pragma once
// The one redaction rule (docs/ARCHITECTURE.md §1: secrets never reach a log line). Every output
// that may carry a secret goes through it: the effective configuration (`check-config`,
// config::to_yaml), config problems, log lines (ops/log.cpp applies redact_text to every message),
// error messages and metric label values (ops/metrics.cpp).
//
// The rule, in one place:
//   - a setting is secret when librdkafka flags it sensitive (ssl.key.pem, sasl.password, ...) or
//     when its name says password, passwd, passphrase, secret, token, key, credential, pem, jaas,
//     oauthbearer, assertion or authorization (case-insensitive, anywhere in the name). Two
//     suffixes name something that is not a secret and stay visible: `_file` (a path the operator
//     needs to see, e.g. private_key_file) and `_field` (a payload field name, e.g. key_field);
//   - any value that contains a PEM block (-----BEGIN ...-----) is secret, whatever its name;
//   - a secret value is shown as kRedacted; an empty one stays empty (nothing to hide, and "unset"
//     is worth seeing).

#include <string>
#include <string_view>

namespace sfkb::core {

inline constexpr std::string_view kRedacted = "***";

// True for setting and field names that hold secrets (the rule above).
bool is_secret_key(std::string_view key);

// True when `value` contains a PEM block (or the start of one).
bool contains_pem(std::string_view value);

// `value` as it may be shown for the setting `key`: kRedacted when the rule says secret.
std::string redact_value(std::string_view key, std::string_view value);

// Replaces secrets in free text: `Bearer <tok>`, `key=value` / `key="value"` / `"key":"value"`
// pairs whose key is secret by is_secret_key, PEM blocks, and every registered secret value.
// Cheap for text without any of those (one lower-casing scan), so every log line can afford it.
std::string redact_text(std::string_view text);

// Registers a literal secret value (e.g. a token just obtained) so that redact_text also hides it
// wherever it appears. Thread-safe; values shorter than 6 characters are ignored.
void register_secret(std::string_view value);

}  // namespace sfkb::core
