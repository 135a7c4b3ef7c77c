#pragma once
// The one redaction helper (DESIGN.md §1: secrets never reach a log line). Everything that may
// carry a secret - a config value, an HTTP header, a form body, an error message that echoes a
// request - goes through these before it is logged or printed.

#include <string>
#include <string_view>

namespace sfkb::core {

inline constexpr std::string_view kRedacted = "***";

// True for key names that hold secrets: access_token, refresh_token, client_secret, password,
// private_key, assertion, authorization, ... (case-insensitive, substring match).
bool is_secret_key(std::string_view key);

// Replaces secret values in free text: `Bearer <tok>`, `key=value` / `"key":"value"` pairs whose
// key is secret, and PEM private key blocks.
std::string redact_text(std::string_view text);

// Registers a literal secret value (e.g. a token just obtained) so that redact_text also hides it
// wherever it appears. Thread-safe; values shorter than 6 characters are ignored.
void register_secret(std::string_view value);

}  // namespace sfkb::core
