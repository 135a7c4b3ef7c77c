#pragma once
// A private temporary directory, removed with everything in it when the owner goes away
// (kept when SFKB_KEEP_TEST_DIRS=1, to look at logs after a failure).

#include <filesystem>
#include <string>

namespace sfkb::it {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "sfkb-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  // path() / name, as a string.
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Writes `content` to path()/name and returns the full path.
  std::string write_file(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace sfkb::it
