#include "org.h"

#include <algorithm>
#include <cctype>

namespace sfkb::emulator {

Org::Org(Options opts, EventTypes event_types)
    : options(std::move(opts)),
      types(std::move(event_types)),
      ids(options.seed),
      bus(options.retention, options.seed ^ 0x9E3779B97F4A7C15ULL),
      allocations(options.limits) {
  faults.deliver_on_any_reply = options.deliver_on_any_reply;
}

bool Org::token_valid(const std::string& token) const {
  if (token.empty()) {
    return false;
  }
  return (!options.static_token.empty() && token == options.static_token) ||
         issued_tokens.count(token) != 0;
}

std::shared_ptr<Session> Org::find_session(const std::string& client_id, Clock::time_point now) {
  auto it = sessions.find(client_id);
  if (it == sessions.end()) {
    return nullptr;
  }
  if (it->second->connect_in_flight == 0 && now > it->second->forget_at) {
    it->second->dropped = true;
    sessions.erase(it);
    ++stats.sessions_forgotten;
    return nullptr;
  }
  return it->second;
}

void Org::drop_all_sessions() {
  for (auto& [id, session] : sessions) {
    session->dropped = true;
  }
  stats.sessions_forgotten += sessions.size();
  sessions.clear();
}

void Org::refresh() {
  ++org_refreshes;
  // 18 characters with the org key prefix 00D, distinct per refresh and the same in every run.
  std::string serial = std::to_string(org_refreshes);
  org_id =
      "00Dxx" + std::string(7 - std::min<std::size_t>(serial.size(), 7), '0') + serial + "REFRSH";
  drop_all_sessions();
  issued_tokens.clear();
  bus.clear();
  ++pubsub_generation;
}

void Org::shutdown() {
  {
    std::lock_guard lock(mutex);
    stopping = true;
  }
  changed.notify_all();
}

std::string bearer_token(const std::string& header) {
  auto space = header.find(' ');
  if (space == std::string::npos) {
    return {};
  }
  auto lower = [](unsigned char c) { return static_cast<char>(std::tolower(c)); };
  std::string scheme = header.substr(0, space);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), lower);
  if (scheme != "bearer" && scheme != "oauth") {
    return {};
  }
  auto start = header.find_first_not_of(' ', space);
  return start == std::string::npos ? std::string() : header.substr(start);
}

}  // namespace sfkb::emulator
