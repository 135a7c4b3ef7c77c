#pragma once
// Helpers shared by the config tests: a fake environment, a temporary directory, problem text.

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config/loader.h"

namespace sfkb::config::testing {

inline EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

inline std::vector<std::string> problem_lines(const LoadResult& result) {
  std::vector<std::string> lines;
  for (const auto& problem : result.problems()) {
    lines.push_back(problem.to_string());
  }
  return lines;
}

// A directory under $TMPDIR removed with its content at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sfkb-config-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string write(const std::string& name, const std::string& content) const {
    auto file = std::filesystem::path(path_) / name;
    std::ofstream(file) << content;
    return file.string();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline constexpr const char* kFakePem =
    "-----BEGIN PRIVATE KEY-----\nMIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEA\n"
    "-----END PRIVATE KEY-----\n";

}  // namespace sfkb::config::testing
