#include "daemon/config/files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace sfkb::config {
namespace {

// Config files and the files they name (keys, CA bundles) are small; the bound keeps a wrong
// path such as /dev/zero or /dev/urandom from reading forever. Pipes (--config <(...)) still work.
constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;

}  // namespace

std::optional<std::string> read_bounded(const std::string& path, std::string& content) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return std::strerror(errno);
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> owner(file, &std::fclose);
  content.clear();
  char buffer[8192];
  while (std::size_t n = std::fread(buffer, 1, sizeof(buffer), file)) {
    content.append(buffer, n);
    if (content.size() > kMaxFileBytes) {
      return "larger than " + std::to_string(kMaxFileBytes / (1024 * 1024)) +
             " MiB; is it the right file?";
    }
  }
  if (std::ferror(file)) {
    return std::strerror(errno);
  }
  return std::nullopt;
}

std::string readable_file_problem(const std::string& path, bool private_key) {
  std::string content;
  if (auto failure = read_bounded(path, content)) {
    return "cannot read \"" + path + "\": " + *failure;
  }
  if (private_key && content.find("PRIVATE KEY-----") == std::string::npos) {
    return "\"" + path + "\" does not hold a PEM private key (-----BEGIN ... PRIVATE KEY-----)";
  }
  return {};
}

}  // namespace sfkb::config
