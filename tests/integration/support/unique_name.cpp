#include "tests/integration/support/unique_name.h"

#include <unistd.h>

#include <atomic>
#include <random>

#include <gtest/gtest.h>

namespace sfkb::it {

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::string name = prefix;
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    name += std::string(".") + info->test_suite_name() + "." + info->name();
  }
  std::random_device rd;
  name += "." + std::to_string(::getpid()) + "." + std::to_string(counter++) + "." +
          std::to_string(rd() % 100000);
  for (char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      c = '_';
    }
  }
  if (name.size() > 200) {
    name.erase(0, name.size() - 200);
  }
  return name;
}

}  // namespace sfkb::it
