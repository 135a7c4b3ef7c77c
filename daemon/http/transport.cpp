#include "daemon/http/transport.h"

#include <algorithm>
#include <cctype>

namespace sfkb::http {

std::string Response::header(std::string_view name) const {
  // Names are stored lower-case by the transport; the lookup folds case so callers may write
  // "Content-Type" as in the RFCs.
  const auto equals = [&](const std::string& stored) {
    return stored.size() == name.size() &&
           std::equal(stored.begin(), stored.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  };
  for (const auto& [key, value] : headers) {
    if (equals(key)) {
      return value;
    }
  }
  return {};
}

}  // namespace sfkb::http
