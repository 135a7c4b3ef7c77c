#include "cometd.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <regex>
#include <thread>

#include "json_util.h"

namespace sfkb::emulator {
namespace {

constexpr std::size_t kMaxRequestBytes = 32768;  // Salesforce's CometD request size limit
constexpr const char* kJsonType = "application/json;charset=UTF-8";
constexpr const char* kCookieName = "BAYEUX_BROWSER";

struct Advice {
  std::string reconnect;
  std::int64_t interval = 0;
  std::optional<std::int64_t> timeout;
};

// One Bayeux reply message; empty strings are left out of the JSON.
struct Reply {
  std::string channel;
  std::string id_json;  // the request's id, echoed verbatim (string or number)
  std::string client_id;
  bool successful = false;
  std::string error;
  std::optional<Advice> advice;
  std::string failure_reason;     // ext.sfdc.failureReason
  std::string subscription_json;  // the request's subscription (a channel or an array), verbatim
  bool handshake_fields = false;
};

std::string serialize(const Reply& r) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  if (r.handshake_fields) {
    w.Key("ext");
    w.StartObject();
    w.Key("replay");
    w.Bool(true);
    w.Key("payload.format");
    w.Bool(true);
    w.EndObject();
    w.Key("minimumVersion");
    w.String("1.0");
  }
  if (!r.client_id.empty()) {
    w.Key("clientId");
    write_string(w, r.client_id);
  }
  if (r.handshake_fields) {
    w.Key("supportedConnectionTypes");
    w.StartArray();
    w.String("long-polling");
    w.EndArray();
  }
  if (r.advice) {
    w.Key("advice");
    w.StartObject();
    w.Key("interval");
    w.Int64(r.advice->interval);
    if (r.advice->timeout) {
      w.Key("timeout");
      w.Int64(*r.advice->timeout);
    }
    w.Key("reconnect");
    write_string(w, r.advice->reconnect);
    w.EndObject();
  }
  if (!r.failure_reason.empty()) {
    w.Key("ext");
    w.StartObject();
    w.Key("sfdc");
    w.StartObject();
    w.Key("failureReason");
    write_string(w, r.failure_reason);
    w.EndObject();
    w.EndObject();
  }
  w.Key("channel");
  write_string(w, r.channel);
  if (!r.id_json.empty()) {
    w.Key("id");
    w.RawValue(r.id_json.data(), r.id_json.size(), rapidjson::kStringType);
  }
  if (!r.subscription_json.empty()) {
    w.Key("subscription");
    w.RawValue(r.subscription_json.data(), r.subscription_json.size(), rapidjson::kStringType);
  }
  if (r.handshake_fields) {
    w.Key("version");
    w.String("1.0");
  }
  if (!r.error.empty()) {
    w.Key("error");
    write_string(w, r.error);
  }
  w.Key("successful");
  w.Bool(r.successful);
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

void send_http_error(httplib::Response& res, int status, const std::string& error,
                     const std::string& channel = "") {
  Reply r;
  r.channel = channel;
  r.error = error;
  std::string body = "[" + serialize(r) + "]";
  res.status = status;
  res.set_content(body, kJsonType);
}

std::string browser_cookie(const httplib::Request& req) {
  auto range = req.headers.equal_range("Cookie");
  for (auto it = range.first; it != range.second; ++it) {
    const std::string& h = it->second;
    std::size_t pos = 0;
    while (pos < h.size()) {
      auto end = h.find(';', pos);
      if (end == std::string::npos) {
        end = h.size();
      }
      auto item = h.substr(pos, end - pos);
      auto start = item.find_first_not_of(' ');
      if (start != std::string::npos) {
        item = item.substr(start);
      }
      std::string prefix = std::string(kCookieName) + "=";
      if (item.rfind(prefix, 0) == 0) {
        return item.substr(prefix.size());
      }
      pos = end + 1;
    }
  }
  return {};
}

Reply base_reply(const rapidjson::Value& msg, const std::string& channel) {
  Reply r;
  r.channel = channel;
  if (msg.IsObject()) {
    auto id = msg.FindMember("id");
    if (id != msg.MemberEnd()) {
      r.id_json = to_json(id->value);
    }
  }
  return r;
}

Reply auth_invalid(Reply r) {
  r.error = "401::Authentication invalid";
  r.advice = Advice{"none", 0, std::nullopt};
  return r;
}

Reply unknown_client(Reply r) {
  r.error = "403::Unknown client";
  r.advice = Advice{"handshake", 0, std::nullopt};
  return r;
}

// A request-level failure discovered while handling a message: the whole HTTP reply becomes it.
struct HttpFailure {
  int status;
  std::string error;
  std::string channel;
};

constexpr const char* kDailyLimitError = "403::Organization total events daily limit exceeded";

// The same error shape on /meta/connect and /meta/subscribe (both carry it on Salesforce).
Reply daily_limit(Reply r) {
  r.error = kDailyLimitError;
  r.failure_reason = kDailyLimitError;
  r.advice = Advice{"retry", 0, std::nullopt};
  return r;
}

// The `subscription` of a subscribe or unsubscribe: one channel, or (Bayeux 1.0) an array of
// them. nullopt when absent, empty or not strings.
std::optional<std::vector<std::string>> subscriptions_of(const rapidjson::Value& msg) {
  auto it = msg.FindMember("subscription");
  if (it == msg.MemberEnd()) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  if (it->value.IsString()) {
    out.emplace_back(it->value.GetString());
  } else if (it->value.IsArray()) {
    for (const auto& c : it->value.GetArray()) {
      if (!c.IsString()) {
        return std::nullopt;
      }
      out.emplace_back(c.GetString());
    }
  }
  for (const auto& c : out) {
    if (c.empty()) {
      return std::nullopt;
    }
  }
  if (out.empty()) {
    return std::nullopt;
  }
  return out;
}

// `advice.timeout` of a connect, when the client sent one (CometD clients send 0 on their first
// connect to ask for an immediate reply).
std::optional<std::int64_t> advised_timeout(const rapidjson::Value& msg) {
  auto advice = msg.FindMember("advice");
  if (advice == msg.MemberEnd() || !advice->value.IsObject()) {
    return std::nullopt;
  }
  auto timeout = advice->value.FindMember("timeout");
  if (timeout == advice->value.MemberEnd() || !timeout->value.IsNumber()) {
    return std::nullopt;
  }
  // Clamped before the conversion: a huge value must not overflow; the server's own timeout
  // caps the hold anyway.
  double ms = std::clamp(timeout->value.GetDouble(), 0.0, 1e12);
  return static_cast<std::int64_t>(ms);
}

// Caller holds org.mutex. Moves the session's queued events (up to one reply's caps) into
// `batch`: events written into a reply are gone from the client's queue. Returns the count.
std::size_t take_queued(Org& org, Session& session, std::vector<StoredEvent>& batch) {
  std::size_t budget = org.options.max_batch_bytes;
  // DailyDeliveredPlatformEvents caps a reply too: a spent allocation delivers nothing and the
  // next connect fails with the daily limit error.
  std::size_t room = std::min<std::size_t>(
      org.options.max_batch_events,
      static_cast<std::size_t>(org.allocations.remaining(Allocations::kDailyDelivered)));
  const std::size_t before = batch.size();
  for (auto& [ch, cursor] : session.cursors) {
    room -= org.bus.collect(ch, cursor, room, budget, batch);
    if (room == 0 || budget == 0) {
      break;
    }
  }
  org.allocations.add_delivered(static_cast<std::int64_t>(batch.size() - before));
  return batch.size() - before;
}

// Caller holds org.mutex. /meta/subscribe for every channel of the message, all or none: the
// first failing channel's error is the reply's and no cursor changes.
void subscribe(Org& org, Session& session, const rapidjson::Value& msg,
               const std::vector<std::string>& channels, Reply& reply) {
  if (org.faults.daily_limit_next_subscribes > 0 || org.allocations.delivery_spent()) {
    if (org.faults.daily_limit_next_subscribes > 0) {
      --org.faults.daily_limit_next_subscribes;
    }
    reply = daily_limit(std::move(reply));
    return;
  }
  const rapidjson::Value* map = nullptr;
  auto ext = msg.FindMember("ext");
  if (ext != msg.MemberEnd() && ext->value.IsObject()) {
    auto replay = ext->value.FindMember("replay");
    if (replay != ext->value.MemberEnd() && replay->value.IsObject() &&
        replay->value.MemberCount() > 0) {
      map = &replay->value;
    }
  }
  std::vector<std::pair<std::string, std::int64_t>> cursors;
  for (const auto& channel : channels) {
    bool known = org.types.find_by_channel(channel) != nullptr || channel.rfind("/data/", 0) == 0 ||
                 org.bus.exists(channel);
    if (!known) {
      reply.error =
          "400::The channel you requested to subscribe to does not exist {" + channel + "}";
      return;
    }
    std::int64_t replay = -1;
    std::string replay_text = "-1";
    bool replay_ok = true;
    if (map != nullptr) {
      auto entry = map->FindMember(channel.c_str());
      if (entry == map->MemberEnd()) {
        reply.error = "400::The replayId for channel {" + channel +
                      "} wasn't found using the provided replay ID map";
        return;
      }
      replay_text = entry->value.IsString() ? entry->value.GetString() : to_json(entry->value);
      if (entry->value.IsInt64()) {
        replay = entry->value.GetInt64();
      } else {
        replay_ok = false;
      }
    }
    auto cursor = replay_ok ? org.bus.cursor_for(channel, replay) : std::nullopt;
    if (!cursor) {
      reply.error = invalid_replay_error(replay_text);
      return;
    }
    cursors.emplace_back(channel, *cursor);
  }
  for (auto& [channel, cursor] : cursors) {
    session.cursors[channel] = cursor;
  }
  reply.successful = true;
}

// Caller holds org.mutex. /meta/unsubscribe, all or none like subscribe.
void unsubscribe(Session& session, const std::vector<std::string>& channels, Reply& reply) {
  for (const auto& channel : channels) {
    if (session.cursors.count(channel) == 0) {
      reply.error = "400::Not subscribed to " + channel;
      return;
    }
  }
  for (const auto& channel : channels) {
    session.cursors.erase(channel);
  }
  reply.successful = true;
}

}  // namespace

std::string invalid_replay_error(const std::string& replay) {
  return "400::The replayId {" + replay +
         "} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 "
         "to replay only new events.";
}

void CometdEndpoint::handle(const httplib::Request& req, httplib::Response& res) {
  // The version is the first path segment; CometD clients may append /handshake, /connect, …
  std::string rest = req.matches.size() > 1 ? req.matches[1].str() : std::string();
  std::string version = rest.substr(0, rest.find('/'));
  if (version.empty()) {
    send_http_error(res, 400, "400::API version in the URI is mandatory");
    return;
  }
  static const std::regex version_re(R"(^(\d+)\.(\d+)$)");
  std::smatch vm;
  if (!std::regex_match(version, vm, version_re) || std::stoi(vm[1].str()) < 37) {
    send_http_error(res, 400,
                    "400::API version " + version +
                        " is not supported; platform events need version 37.0 or later");
    return;
  }
  if (req.body.size() > kMaxRequestBytes) {
    send_http_error(res, 413, "413::Maximum Request Size Exceeded");
    return;
  }
  std::string token = bearer_token(req.get_header_value("Authorization"));
  if (token.empty()) {
    send_http_error(res, 401, "401::Request requires authentication");
    return;
  }
  rapidjson::Document doc;
  doc.Parse(req.body.c_str(), req.body.size());
  if (doc.HasParseError() || !doc.IsArray()) {
    send_http_error(res, 400, "400::Bad request: the body must be a JSON array of Bayeux messages");
    return;
  }

  bool has_connect = false;
  for (const auto& msg : doc.GetArray()) {
    if (member_string(msg, "channel") == "/meta/connect") {
      has_connect = true;
    }
  }
  if (!has_connect) {
    std::int64_t latency;
    {
      std::lock_guard lock(org_.mutex);
      latency = org_.faults.latency_ms;
    }
    if (latency > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(latency));
    }
  }

  std::string cookie = browser_cookie(req);
  // The response is built as a CometD server flushes one: the events taken for the request's
  // clients first, then the Bayeux replies in request order.
  std::vector<std::string> replies;
  std::vector<StoredEvent> events;
  std::vector<std::string> extra;  // connect_reply_extra, after the events
  // Clients whose queued events this response carries, taken once every message is handled (so
  // that `[connect, subscribe -2]` answers with the replayed events). A held connect takes its
  // own while it waits and is never listed.
  std::vector<std::shared_ptr<Session>> deliver_to;
  auto deliver_later = [&](const std::shared_ptr<Session>& s) {
    if (std::find(deliver_to.begin(), deliver_to.end(), s) == deliver_to.end()) {
      deliver_to.push_back(s);
    }
  };
  // A CometD server holds a /meta/connect only when it is alone in its request.
  const bool alone = doc.Size() == 1;
  std::optional<HttpFailure> failure;
  std::string set_cookie;
  bool garbage = false;

  for (const auto& msg : doc.GetArray()) {
    std::string channel = member_string(msg, "channel");
    Reply reply = base_reply(msg, channel);
    std::string client_id = member_string(msg, "clientId");
    auto now = Clock::now();

    if (channel == "/meta/handshake") {
      bool long_polling = false;
      auto types = msg.FindMember("supportedConnectionTypes");
      if (types != msg.MemberEnd() && types->value.IsArray()) {
        for (const auto& t : types->value.GetArray()) {
          long_polling =
              long_polling || (t.IsString() && std::string(t.GetString()) == "long-polling");
        }
      } else {
        long_polling = true;  // absent: the client accepts what the server offers
      }
      std::lock_guard lock(org_.mutex);
      ++org_.stats.bayeux[channel];
      if (!org_.token_valid(token)) {
        reply.error = "403::Handshake denied";
        reply.failure_reason = "401::Authentication invalid";
        reply.advice = Advice{"none", 0, std::nullopt};
      } else if (!long_polling) {
        reply.error = "400::Invalid connection type";
      } else {
        auto session = std::make_shared<Session>();
        session->client_id = org_.ids.client_id();
        session->browser_id = cookie.empty() ? org_.ids.browser_id() : cookie;
        session->forget_at = now + std::chrono::milliseconds(org_.options.reconnect_window_ms);
        org_.sessions[session->client_id] = session;
        ++org_.stats.sessions_created;
        set_cookie = session->browser_id;
        reply.client_id = session->client_id;
        reply.successful = true;
        reply.handshake_fields = true;
      }
      replies.push_back(serialize(reply));
      continue;
    }

    if (channel != "/meta/subscribe" && channel != "/meta/unsubscribe" &&
        channel != "/meta/connect" && channel != "/meta/disconnect") {
      reply.error =
          channel.rfind("/meta/", 0) == 0 ? "400::Unknown meta channel" : "403::Publish denied";
      replies.push_back(serialize(reply));
      continue;
    }

    reply.client_id = client_id;
    std::unique_lock lock(org_.mutex);
    ++org_.stats.bayeux[channel];
    if (!org_.token_valid(token)) {
      replies.push_back(serialize(auth_invalid(reply)));
      continue;
    }
    auto session = org_.find_session(client_id, now);
    if (!session) {
      replies.push_back(serialize(unknown_client(reply)));
      continue;
    }
    if (cookie != session->browser_id) {
      failure = HttpFailure{400,
                            "400::Client " + client_id + " has established a session, but no " +
                                kCookieName + " cookie present",
                            channel};
      break;
    }

    if (channel == "/meta/subscribe" || channel == "/meta/unsubscribe") {
      auto subscription = msg.FindMember("subscription");
      if (subscription != msg.MemberEnd()) {
        reply.subscription_json = to_json(subscription->value);
      }
      auto channels = subscriptions_of(msg);
      if (!channels) {
        reply.error = "400::subscription is missing";
      } else if (channel == "/meta/unsubscribe") {
        unsubscribe(*session, *channels, reply);
      } else {
        subscribe(org_, *session, msg, *channels, reply);
      }
      if (org_.faults.deliver_on_any_reply) {
        deliver_later(session);
      }
      lock.unlock();
      if (reply.successful && channel == "/meta/subscribe") {
        // A long poll of this client may be waiting: let it pick up replayed events now.
        org_.changed.notify_all();
      }
      replies.push_back(serialize(reply));
      continue;
    }

    if (channel == "/meta/disconnect") {
      session->dropped = true;
      session->disconnected = true;
      org_.sessions.erase(client_id);
      reply.successful = true;
      lock.unlock();
      org_.changed.notify_all();
      replies.push_back(serialize(reply));
      continue;
    }

    // /meta/connect.
    if (member_string(msg, "connectionType") != "long-polling") {
      failure = HttpFailure{400, "400::Invalid connection type", channel};
      break;
    }
    const auto window = std::chrono::milliseconds(org_.options.reconnect_window_ms);
    auto& faults = org_.faults;
    if (faults.garbage_next_connects > 0) {
      --faults.garbage_next_connects;
      session->forget_at = now + window;
      garbage = true;
      break;
    }
    const bool delivery_spent = org_.allocations.delivery_spent();
    if (faults.busy_next_connects > 0 || faults.daily_limit_next_connects > 0 || delivery_spent) {
      if (faults.busy_next_connects > 0) {
        --faults.busy_next_connects;
        reply.error = "403::Server is too busy";
        reply.failure_reason = "503::Server is too busy";
        reply.advice = Advice{"retry", 0, std::nullopt};
      } else {
        if (faults.daily_limit_next_connects > 0) {
          --faults.daily_limit_next_connects;
        }
        reply = daily_limit(std::move(reply));
      }
      session->forget_at = now + window;
      if (faults.deliver_on_any_reply) {
        deliver_later(session);
      }
      replies.push_back(serialize(reply));
      continue;
    }
    std::vector<std::string> connect_extra;
    connect_extra.swap(faults.connect_reply_extra);
    // Held (the long poll) only when alone in its request, not the client's first connect after
    // its handshake, and not asked for an immediate reply with advice.timeout 0; the client may
    // also ask for a shorter hold than the server's.
    std::int64_t hold_ms = org_.options.connect_timeout_ms;
    if (auto advised = advised_timeout(msg)) {
      hold_ms = std::min(hold_ms, *advised);
    }
    const bool hold = alone && session->connected && hold_ms > 0;

    const std::uint64_t generation = ++session->connect_generation;
    if (session->connect_in_flight > 0) {
      org_.changed.notify_all();  // the older connect of this client returns now, empty
    }
    enum class Outcome { kOk, kUnknownClient, kAuthInvalid, kDisconnected } outcome = Outcome::kOk;
    if (hold) {
      ++session->connect_in_flight;
      ++org_.connects_in_flight;
      auto deadline = now + std::chrono::milliseconds(hold_ms);
      std::size_t taken = 0;
      while (true) {
        if (session->dropped) {
          outcome = session->disconnected ? Outcome::kDisconnected : Outcome::kUnknownClient;
          break;
        }
        if (!org_.token_valid(token)) {
          outcome = Outcome::kAuthInvalid;
          break;
        }
        if (session->connect_generation != generation) {
          break;  // superseded by a newer connect of the same client
        }
        taken += take_queued(org_, *session, events);
        if (taken > 0 || !connect_extra.empty() || org_.stopping) {
          break;
        }
        if (org_.changed.wait_until(lock, deadline) == std::cv_status::timeout) {
          taken += take_queued(org_, *session, events);
          break;
        }
      }
      --session->connect_in_flight;
      --org_.connects_in_flight;
      org_.stats.events_delivered += taken;
    } else {
      deliver_later(session);  // answered at once, with whatever is queued
    }
    session->forget_at = Clock::now() + window;
    if (outcome == Outcome::kOk) {
      session->connected = true;
    }
    lock.unlock();

    if (outcome == Outcome::kUnknownClient) {
      replies.push_back(serialize(unknown_client(reply)));
      continue;
    }
    if (outcome == Outcome::kAuthInvalid) {
      replies.push_back(serialize(auth_invalid(reply)));
      continue;
    }
    if (outcome == Outcome::kDisconnected) {
      // The client's own /meta/disconnect ended this long poll: nothing to reconnect to.
      reply.successful = true;
      reply.advice = Advice{"none", 0, std::nullopt};
      replies.push_back(serialize(reply));
      continue;
    }
    for (auto& raw : connect_extra) {
      extra.push_back(std::move(raw));
    }
    reply.successful = true;
    reply.advice = Advice{"retry", 0, org_.options.connect_timeout_ms};
    replies.push_back(serialize(reply));
  }

  if (failure) {
    send_http_error(res, failure->status, failure->error, failure->channel);
    return;
  }
  if (garbage) {
    res.status = 200;
    res.set_content("<html><body>Service temporarily unavailable</body></html>{\"channel\":",
                    kJsonType);
    return;
  }
  if (!deliver_to.empty()) {
    std::lock_guard lock(org_.mutex);
    for (const auto& session : deliver_to) {
      if (!session->dropped) {
        org_.stats.events_delivered += take_queued(org_, *session, events);
      }
    }
  }

  // cut_next_connects: a connect reply that carries events is sent only in part.
  std::optional<std::size_t> cut_after;
  if (has_connect && !events.empty()) {
    std::lock_guard lock(org_.mutex);
    auto& cut = org_.faults.cut_next_connects;
    if (cut.count > 0) {
      --cut.count;
      cut_after = cut.after_bytes;
    }
  }

  std::size_t size = 2;
  for (const auto& e : events) {
    size += e.json->size() + 1;
  }
  for (const auto& part : extra) {
    size += part.size() + 1;
  }
  for (const auto& part : replies) {
    size += part.size() + 1;
  }
  std::string body;
  body.reserve(size);
  body += '[';
  auto add = [&body](const std::string& part) {
    if (part.empty()) {
      return;
    }
    if (body.size() > 1) {
      body += ',';
    }
    body += part;
  };
  for (const auto& e : events) {
    add(*e.json);
  }
  for (const auto& part : extra) {
    add(part);
  }
  for (const auto& part : replies) {
    add(part);
  }
  body += ']';
  if (!set_cookie.empty()) {
    res.set_header("Set-Cookie",
                   std::string(kCookieName) + "=" + set_cookie + "; Path=/; HttpOnly");
  }
  res.status = 200;
  if (cut_after) {
    // Announce the whole length, send a prefix, then fail the provider: httplib closes the
    // connection, and the client reads a body that ends early.
    auto whole = std::make_shared<std::string>(std::move(body));
    const std::size_t cut = std::min(*cut_after, whole->size());
    res.set_content_provider(
        whole->size(), kJsonType,
        [whole, cut](std::size_t offset, std::size_t, httplib::DataSink& sink) {
          if (offset < cut) {
            sink.write(whole->data() + offset, cut - offset);
            return true;
          }
          return false;
        });
    return;
  }
  // Moved, not copied: connect replies can be megabytes.
  res.body = std::move(body);
  res.set_header("Content-Type", kJsonType);
}

}  // namespace sfkb::emulator
