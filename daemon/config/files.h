#pragma once
// Reading the files a configuration names (the YAML itself, key files, CA bundles), bounded in
// size.

#include <optional>
#include <string>

namespace sfkb::config {

// Reads all of `path` into `content`; on failure returns the reason (without the path).
std::optional<std::string> read_bounded(const std::string& path, std::string& content);

// What is wrong with a file named in the config, or an empty string: it must be readable now, not
// at the first reconnect hours later, and hold a PEM private key when `private_key` is set.
std::string readable_file_problem(const std::string& path, bool private_key);

}  // namespace sfkb::config
