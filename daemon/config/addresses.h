#pragma once
// Where the bridge connects and listens: Salesforce URLs, host:port pairs, Kafka broker lists.
// Each function returns what is wrong with its input (one problem per line), or nothing.

#include <string>
#include <string_view>
#include <vector>

namespace sfkb::config {

// A login or instance URL. TLS is never off, so plain http is accepted only for loopback hosts
// (the emulator on this machine): core/url.h.
std::string url_problem(std::string_view url);

// A "host:port" (listen address or broker).
std::string host_port_problem(std::string_view text);

// A comma-separated broker list; Heroku's kafka+ssl://host:port entries are taken as is. One
// problem per bad broker.
std::vector<std::string> broker_list_problems(std::string_view list);

}  // namespace sfkb::config
