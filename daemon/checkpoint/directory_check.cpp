#include "daemon/checkpoint/directory_check.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace sfkb::checkpoint {
namespace {

std::string quoted(const std::string& path) {
  return "\"" + path + "\"";
}

// The problem with writing into the existing `path`, or an empty string.
std::string writable_directory_problem(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return "cannot check " + quoted(path) + ": " + std::strerror(errno);
  }
  if (!S_ISDIR(info.st_mode)) {
    return quoted(path) + " is not a directory";
  }
  if (::access(path.c_str(), W_OK | X_OK) != 0) {
    return quoted(path) + " is not writable by this user (uid " + std::to_string(::geteuid()) +
           "): " + std::strerror(errno);
  }
  return {};
}

std::string check_without_side_effects(const std::string& directory) {
  std::filesystem::path current(directory);
  while (true) {
    struct stat info {};
    if (::stat(current.c_str(), &info) == 0) {
      break;
    }
    if (errno != ENOENT && errno != ENOTDIR) {
      return "cannot check " + quoted(current.string()) + ": " + std::strerror(errno);
    }
    auto parent = current.parent_path();
    if (parent.empty() || parent == current) {
      parent = ".";
    }
    current = parent;
  }
  if (current == std::filesystem::path(directory)) {
    return writable_directory_problem(directory);
  }
  // Missing: it is created at the first checkpoint, inside its nearest existing ancestor.
  if (auto problem = writable_directory_problem(current.string()); !problem.empty()) {
    return "cannot create " + quoted(directory) + ": " + problem;
  }
  return {};
}

std::string probe(const std::string& directory) {
  // The same words as check-config first; then what only writing can tell.
  if (auto problem = check_without_side_effects(directory); !problem.empty()) {
    return problem;
  }
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return "cannot create " + quoted(directory) + ": " + error.message();
  }
  if (auto problem = writable_directory_problem(directory); !problem.empty()) {
    return problem;
  }
  std::string name = (std::filesystem::path(directory) / ".write-check-XXXXXX").string();
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    return "cannot write in " + quoted(directory) + ": " + std::strerror(errno);
  }
  ::close(fd);
  ::unlink(name.c_str());
  return {};
}

}  // namespace

std::string directory_problem(const std::string& directory, bool probe_by_writing) {
  return probe_by_writing ? probe(directory) : check_without_side_effects(directory);
}

}  // namespace sfkb::checkpoint
