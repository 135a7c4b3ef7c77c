#include "daemon/config/addresses.h"

#include <charconv>
#include <regex>
#include <sstream>

#include "daemon/core/url.h"

namespace sfkb::config {

std::string url_problem(std::string_view url) {
  return core::web_url_problem(url);
}

std::string host_port_problem(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return "\"" + std::string(text) + "\" is not host:port";
  }
  auto port_text = text.substr(colon + 1);
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return "\"" + std::string(text) + "\" has no valid port (0-65535)";
  }
  return {};
}

std::vector<std::string> broker_list_problems(std::string_view list) {
  std::vector<std::string> problems;
  // Heroku's KAFKA_URL is a comma-separated list of kafka+ssl://host:port, taken as is.
  static const std::regex scheme(R"(^[A-Za-z][A-Za-z0-9+]*://)");
  std::stringstream brokers{std::string(list)};
  for (std::string broker; std::getline(brokers, broker, ',');) {
    broker = std::regex_replace(broker, scheme, "");
    broker.erase(0, broker.find_first_not_of(' '));
    broker.erase(broker.find_last_not_of(' ') + 1);
    if (auto problem = host_port_problem(broker); !problem.empty()) {
      problems.push_back("broker " + problem);
    }
  }
  return problems;
}

}  // namespace sfkb::config
