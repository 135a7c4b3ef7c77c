#pragma once
// The text forms of configuration values: durations ("20s"), JSON scalars (publish[].static_fields)
// and the `${` escape that keeps a dumped value literal when it is loaded again. parse_duration and
// is_log_level are declared in loader.h.

#include <chrono>
#include <string>
#include <string_view>

namespace sfkb::config {

// The shortest exact form: "1h", "15m", "20s" or "250ms".
std::string format_duration(std::chrono::milliseconds value);

// `text` as a quoted JSON string.
std::string json_escape(std::string_view text);

// Inverse of json_escape for the escapes it produces (and the other short JSON escapes).
std::string json_unescape(std::string_view quoted);

// A plain (unquoted) YAML scalar as a JSON scalar: numbers, booleans and null stay raw.
std::string plain_scalar_as_json(const std::string& text);

// Keeps `${` literal when the dump is loaded again: `$${`.
std::string escape_interpolation(const std::string& text);

}  // namespace sfkb::config
