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
  std::string failure_reason;  // ext.sfdc.failureReason
  std::string subscription;
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
  if (!r.subscription.empty()) {
    w.Key("subscription");
    write_string(w, r.subscription);
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
  std::string body = "[";
  bool first = true;
  std::optional<HttpFailure> failure;
  std::string set_cookie;
  bool garbage = false;
  std::optional<std::size_t> cut_after;  // cut_next_connects: send only this many body bytes
  auto add = [&](const std::string& part) {
    if (part.empty()) {
      return;
    }
    if (!first) {
      body += ',';
    }
    body += part;
    first = false;
  };

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
      add(serialize(reply));
      continue;
    }

    if (channel != "/meta/subscribe" && channel != "/meta/unsubscribe" &&
        channel != "/meta/connect" && channel != "/meta/disconnect") {
      reply.error =
          channel.rfind("/meta/", 0) == 0 ? "400::Unknown meta channel" : "403::Publish denied";
      add(serialize(reply));
      continue;
    }

    reply.client_id = client_id;
    std::unique_lock lock(org_.mutex);
    ++org_.stats.bayeux[channel];
    if (!org_.token_valid(token)) {
      add(serialize(auth_invalid(reply)));
      continue;
    }
    auto session = org_.find_session(client_id, now);
    if (!session) {
      add(serialize(unknown_client(reply)));
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
      std::string subscription = member_string(msg, "subscription");
      reply.subscription = subscription;
      if (subscription.empty()) {
        reply.error = "400::subscription is missing";
        add(serialize(reply));
        continue;
      }
      if (channel == "/meta/unsubscribe") {
        if (session->cursors.erase(subscription) == 0) {
          reply.error = "400::Not subscribed to " + subscription;
        } else {
          reply.successful = true;
        }
        add(serialize(reply));
        continue;
      }
      bool known = org_.types.find_by_channel(subscription) != nullptr ||
                   subscription.rfind("/data/", 0) == 0 || org_.bus.exists(subscription);
      if (!known) {
        reply.error =
            "400::The channel you requested to subscribe to does not exist {" + subscription + "}";
        add(serialize(reply));
        continue;
      }
      std::int64_t replay = -1;
      std::string replay_text = "-1";
      bool replay_ok = true;
      auto ext = msg.FindMember("ext");
      if (ext != msg.MemberEnd() && ext->value.IsObject()) {
        auto map = ext->value.FindMember("replay");
        if (map != ext->value.MemberEnd() && map->value.IsObject() &&
            map->value.MemberCount() > 0) {
          auto entry = map->value.FindMember(subscription.c_str());
          if (entry == map->value.MemberEnd()) {
            reply.error = "400::The replayId for channel {" + subscription +
                          "} wasn't found using the provided replay ID map";
            add(serialize(reply));
            continue;
          }
          replay_text = entry->value.IsString() ? entry->value.GetString() : to_json(entry->value);
          if (entry->value.IsInt64()) {
            replay = entry->value.GetInt64();
          } else {
            replay_ok = false;
          }
        }
      }
      auto cursor = replay_ok ? org_.bus.cursor_for(subscription, replay) : std::nullopt;
      if (!cursor) {
        reply.error = invalid_replay_error(replay_text);
        add(serialize(reply));
        continue;
      }
      session->cursors[subscription] = *cursor;
      reply.successful = true;
      lock.unlock();
      // A long poll of this client may be waiting: let it pick up replayed events now.
      org_.changed.notify_all();
      add(serialize(reply));
      continue;
    }

    if (channel == "/meta/disconnect") {
      session->dropped = true;
      org_.sessions.erase(client_id);
      reply.successful = true;
      lock.unlock();
      org_.changed.notify_all();
      add(serialize(reply));
      continue;
    }

    // /meta/connect: the long poll.
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
    if (faults.busy_next_connects > 0 || faults.daily_limit_next_connects > 0) {
      if (faults.busy_next_connects > 0) {
        --faults.busy_next_connects;
        reply.error = "403::Server is too busy";
        reply.failure_reason = "503::Server is too busy";
      } else {
        --faults.daily_limit_next_connects;
        reply.error = "403::Organization total events daily limit exceeded";
        reply.failure_reason = "403::Organization total events daily limit exceeded";
      }
      reply.advice = Advice{"retry", 0, std::nullopt};
      session->forget_at = now + window;
      add(serialize(reply));
      continue;
    }
    std::vector<std::string> extra;
    extra.swap(faults.connect_reply_extra);

    ++session->connect_in_flight;
    ++org_.connects_in_flight;
    const std::uint64_t generation = ++session->connect_generation;
    if (session->connect_in_flight > 1) {
      org_.changed.notify_all();  // the older connect of this client returns now, empty
    }
    auto deadline = now + std::chrono::milliseconds(org_.options.connect_timeout_ms);
    std::vector<StoredEvent> batch;
    enum class Outcome { kOk, kUnknownClient, kAuthInvalid } outcome = Outcome::kOk;
    auto collect = [&] {
      std::size_t budget = org_.options.max_batch_bytes;
      std::size_t room = org_.options.max_batch_events;
      for (auto& [ch, cursor] : session->cursors) {
        room -= org_.bus.collect(ch, cursor, room, budget, batch);
        if (room == 0 || budget == 0) {
          break;
        }
      }
    };
    while (true) {
      if (session->dropped) {
        outcome = Outcome::kUnknownClient;
        break;
      }
      if (!org_.token_valid(token)) {
        outcome = Outcome::kAuthInvalid;
        break;
      }
      if (session->connect_generation != generation) {
        break;  // superseded by a newer connect of the same client
      }
      collect();
      if (!batch.empty() || !extra.empty() || org_.stopping) {
        break;
      }
      if (org_.changed.wait_until(lock, deadline) == std::cv_status::timeout) {
        collect();
        break;
      }
    }
    --session->connect_in_flight;
    --org_.connects_in_flight;
    session->forget_at = Clock::now() + window;
    org_.stats.events_delivered += batch.size();
    if (!batch.empty() && faults.cut_next_connects.count > 0) {
      --faults.cut_next_connects.count;
      cut_after = faults.cut_next_connects.after_bytes;
    }
    lock.unlock();

    if (outcome == Outcome::kUnknownClient) {
      add(serialize(unknown_client(reply)));
      continue;
    }
    if (outcome == Outcome::kAuthInvalid) {
      add(serialize(auth_invalid(reply)));
      continue;
    }
    std::size_t size = body.size() + 256;
    for (const auto& e : batch) {
      size += e.json->size() + 1;
    }
    body.reserve(size);
    for (const auto& e : batch) {
      add(*e.json);
    }
    for (const auto& raw : extra) {
      add(raw);
    }
    reply.successful = true;
    reply.advice = Advice{"retry", 0, org_.options.connect_timeout_ms};
    add(serialize(reply));
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
