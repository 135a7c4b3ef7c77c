#pragma once
// README.md's configuration reference, generated from the schema (fields.cpp). Each table sits
// between marker comments naming the sections it shows:
//
//   <!-- config-reference: checkpoint limits -->
//   | key | default | meaning |
//   ...
//   <!-- /config-reference -->
//
// A table of one section names its keys relative to it (`login_url`); a table of several names
// them in full (`checkpoint.interval`). Lists of mappings are named with `[]` (`subscribe[]`).
// Regenerate with: build/daemon/config/sfkb-config-reference --update README.md

#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/schema.h"

namespace sfkb::config {

inline constexpr std::string_view kReferenceBegin = "<!-- config-reference: ";
inline constexpr std::string_view kReferenceEnd = "<!-- /config-reference -->";
inline constexpr std::string_view kRegenerateCommand =
    "build/daemon/config/sfkb-config-reference --update README.md";

// Every setting, in schema order, its key the full YAML path.
std::vector<schema::Row> reference_rows();

// The Markdown table of `sections` (e.g. {"checkpoint", "limits"} or {"subscribe[]"}).
std::string reference_table(const std::vector<std::string>& sections);

// `readme` with every marked table regenerated.
std::string update_reference(std::string_view readme);

// What differs between `readme` and the schema, one line each; empty when they agree.
std::vector<std::string> reference_problems(std::string_view readme);

}  // namespace sfkb::config
