#include "admin.h"

#include <chrono>
#include <variant>

#include "event_message.h"
#include "event_shapes.h"
#include "json_util.h"

namespace sfkb::emulator {
namespace {

constexpr const char* kJsonType = "application/json";
constexpr std::uint64_t kMaxInjectCount = 10'000'000;
constexpr std::uint64_t kInjectChunk = 10'000;

void send_error(httplib::Response& res, int status, const std::string& message) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("error");
  write_string(w, message);
  w.EndObject();
  res.status = status;
  res.set_content(sb.GetString(), kJsonType);
}

void write_faults(JsonWriter& w, const Faults& f) {
  w.StartObject();
  w.Key("fail_next");
  w.StartObject();
  w.Key("count");
  w.Int(f.fail_next.count);
  w.Key("status");
  w.Int(f.fail_next.status);
  w.Key("error_code");
  write_string(w, f.fail_next.error_code);
  w.Key("path");
  write_string(w, f.fail_next.path);
  w.EndObject();
  w.Key("latency_ms");
  w.Int64(f.latency_ms);
  w.Key("busy_next_connects");
  w.Int(f.busy_next_connects);
  w.Key("daily_limit_next_connects");
  w.Int(f.daily_limit_next_connects);
  w.Key("daily_limit_next_subscribes");
  w.Int(f.daily_limit_next_subscribes);
  w.Key("garbage_next_connects");
  w.Int(f.garbage_next_connects);
  w.Key("connect_reply_extra");
  w.Uint64(f.connect_reply_extra.size());
  w.Key("cut_next_connects");
  w.StartObject();
  w.Key("count");
  w.Int(f.cut_next_connects.count);
  w.Key("after_bytes");
  w.Uint64(f.cut_next_connects.after_bytes);
  w.EndObject();
  w.Key("deliver_on_any_reply");
  w.Bool(f.deliver_on_any_reply);
  w.Key("pubsub_corrupt_next_subscribes");
  w.Int(f.pubsub_corrupt_next_subscribes);
  w.EndObject();
}

}  // namespace

void AdminEndpoint::inject(const httplib::Request& req, httplib::Response& res) {
  rapidjson::Document doc;
  doc.Parse(req.body.c_str(), req.body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    send_error(res, 400,
               "body must be a JSON object {channel, count, payload | sobject, type | change}");
    return;
  }
  std::string channel = member_string(doc, "channel");
  if (channel.empty() || channel[0] != '/') {
    send_error(res, 400, "channel: expected a channel name such as /event/Low_Ink__e");
    return;
  }
  std::uint64_t count = 1;
  if (doc.HasMember("count")) {
    if (!doc["count"].IsUint64() || doc["count"].GetUint64() == 0 ||
        doc["count"].GetUint64() > kMaxInjectCount) {
      send_error(res, 400, "count: expected an integer from 1 to 10000000");
      return;
    }
    count = doc["count"].GetUint64();
  }
  InjectShape::Context context;
  context.created_date = iso_now_ms();
  context.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const EventType* type = org_.types.find_by_channel(channel);
  context.schema_id = type != nullptr ? type->schema_id : schema_id_for(channel);
  context.created_by = kCreatedById;
  auto parsed = InjectShape::parse(doc, channel, std::move(context));
  if (const auto* problem = std::get_if<std::string>(&parsed)) {
    send_error(res, 400, *problem);
    return;
  }
  const InjectShape& shape = std::get<InjectShape>(parsed);

  std::uint64_t n_base;
  {
    std::lock_guard lock(org_.mutex);
    n_base = org_.inject_counter;
    org_.inject_counter += count;
  }
  // Built and appended in chunks: bounded transient memory and lock hold time for large counts,
  // and subscribers start receiving before the whole inject is built. Concurrent injects on the
  // same channel may interleave between chunks.
  std::pair<std::int64_t, std::int64_t> ids{0, 0};
  std::vector<std::string> uuids;
  for (std::uint64_t done = 0; done < count;) {
    std::uint64_t chunk = std::min<std::uint64_t>(kInjectChunk, count - done);
    uuids.clear();
    org_.ids.uuids_v4(chunk, uuids);
    std::vector<std::string> prefixes(chunk);
    for (std::uint64_t i = 0; i < chunk; ++i) {
      auto& p = prefixes[i];
      // Room for the replay id and closing braces the bus appends, so that never reallocates.
      p.reserve(shape.size_hint());
      shape.append_prefix(p, done + i, n_base + done + i, uuids[i]);
    }
    {
      std::lock_guard lock(org_.mutex);
      auto range = org_.bus.append(channel, std::move(prefixes));
      org_.stats.events_injected += chunk;
      ids.first = done == 0 ? range.first : ids.first;
      ids.second = range.second;
    }
    org_.changed.notify_all();
    done += chunk;
  }
  res.set_content("{\"first_replay_id\":" + std::to_string(ids.first) +
                      ",\"last_replay_id\":" + std::to_string(ids.second) + "}",
                  kJsonType);
}

void AdminEndpoint::published(const httplib::Request& req, httplib::Response& res) {
  std::string event = req.get_param_value("event");
  if (event.empty()) {
    send_error(res, 400, "query parameter `event` (an event type such as Low_Ink__e) is required");
    return;
  }
  std::size_t since = 0;
  if (req.has_param("since")) {
    try {
      since = std::stoull(req.get_param_value("since"));
    } catch (const std::exception&) {
      send_error(res, 400, "since: expected a non-negative integer");
      return;
    }
  }
  std::string body;
  {
    std::lock_guard lock(org_.mutex);
    auto it = org_.published.find(event);
    std::size_t total = it == org_.published.end() ? 0 : it->second.size();
    body = "{\"count\":" + std::to_string(total) + ",\"events\":[";
    for (std::size_t i = since; i < total; ++i) {
      if (i > since) {
        body += ',';
      }
      body += it->second[i];
    }
    body += "]}";
  }
  res.set_content(body, kJsonType);
}

void AdminEndpoint::faults(const httplib::Request& req, httplib::Response& res) {
  rapidjson::Document doc;
  doc.Parse(req.body.c_str(), req.body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    send_error(res, 400, "body must be a JSON object of faults");
    return;
  }
  static const char* kValid =
      "valid keys: expire_tokens, drop_sessions, refresh_org, fail_next, latency_ms, "
      "busy_next_connects, daily_limit_next_connects, daily_limit_next_subscribes, "
      "garbage_next_connects, connect_reply_extra, cut_next_connects, deliver_on_any_reply, "
      "retention, reset_pubsub_streams, pubsub_corrupt_next_subscribes";
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    std::string key = it->name.GetString();
    const auto& v = it->value;
    bool ok = true;
    if (key == "expire_tokens" || key == "drop_sessions" || key == "deliver_on_any_reply" ||
        key == "refresh_org" || key == "reset_pubsub_streams") {
      ok = v.IsBool();
    } else if (key == "latency_ms" || key == "busy_next_connects" ||
               key == "daily_limit_next_connects" || key == "daily_limit_next_subscribes" ||
               key == "garbage_next_connects" || key == "retention" ||
               key == "pubsub_corrupt_next_subscribes") {
      ok = v.IsUint64() && (key != "retention" || v.GetUint64() > 0);
    } else if (key == "fail_next") {
      ok = v.IsObject() && v.HasMember("count") && v["count"].IsUint() &&
           (!v.HasMember("status") || v["status"].IsInt()) &&
           (!v.HasMember("error_code") || v["error_code"].IsString()) &&
           (!v.HasMember("path") || v["path"].IsString());
    } else if (key == "connect_reply_extra") {
      ok = v.IsArray();
    } else if (key == "cut_next_connects") {
      ok = v.IsObject() && v.HasMember("count") && v["count"].IsUint() &&
           v.HasMember("after_bytes") && v["after_bytes"].IsUint64();
    } else {
      send_error(res, 400, "unknown fault `" + key + "`; " + kValid);
      return;
    }
    if (!ok) {
      send_error(res, 400, "fault `" + key + "` has a value of the wrong type");
      return;
    }
  }
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  {
    std::lock_guard lock(org_.mutex);
    Faults& f = org_.faults;
    if (doc.HasMember("expire_tokens") && doc["expire_tokens"].GetBool()) {
      // Issued tokens only: the static token stays valid so that a daemon configured with it
      // (no way to re-authenticate) keeps working; OAuth-configured daemons get 401s and must
      // fetch a new token.
      org_.issued_tokens.clear();
    }
    if (doc.HasMember("drop_sessions") && doc["drop_sessions"].GetBool()) {
      org_.drop_all_sessions();
    }
    if (doc.HasMember("refresh_org") && doc["refresh_org"].GetBool()) {
      org_.refresh();
    }
    if (doc.HasMember("reset_pubsub_streams") && doc["reset_pubsub_streams"].GetBool()) {
      ++org_.pubsub_generation;
    }
    if (doc.HasMember("pubsub_corrupt_next_subscribes")) {
      f.pubsub_corrupt_next_subscribes =
          static_cast<int>(doc["pubsub_corrupt_next_subscribes"].GetUint64());
    }
    if (doc.HasMember("latency_ms")) {
      f.latency_ms = static_cast<std::int64_t>(doc["latency_ms"].GetUint64());
    }
    if (doc.HasMember("busy_next_connects")) {
      f.busy_next_connects = static_cast<int>(doc["busy_next_connects"].GetUint64());
    }
    if (doc.HasMember("daily_limit_next_connects")) {
      f.daily_limit_next_connects = static_cast<int>(doc["daily_limit_next_connects"].GetUint64());
    }
    if (doc.HasMember("daily_limit_next_subscribes")) {
      f.daily_limit_next_subscribes =
          static_cast<int>(doc["daily_limit_next_subscribes"].GetUint64());
    }
    if (doc.HasMember("deliver_on_any_reply")) {
      f.deliver_on_any_reply = doc["deliver_on_any_reply"].GetBool();
    }
    if (doc.HasMember("garbage_next_connects")) {
      f.garbage_next_connects = static_cast<int>(doc["garbage_next_connects"].GetUint64());
    }
    if (doc.HasMember("retention")) {
      org_.bus.set_retention(doc["retention"].GetUint64());
    }
    if (doc.HasMember("fail_next")) {
      const auto& v = doc["fail_next"];
      f.fail_next = Faults::FailNext{};
      f.fail_next.count = static_cast<int>(v["count"].GetUint());
      if (v.HasMember("status")) {
        f.fail_next.status = v["status"].GetInt();
      }
      if (v.HasMember("error_code")) {
        f.fail_next.error_code = v["error_code"].GetString();
      }
      if (v.HasMember("path")) {
        f.fail_next.path = v["path"].GetString();
      }
    }
    if (doc.HasMember("cut_next_connects")) {
      const auto& v = doc["cut_next_connects"];
      f.cut_next_connects.count = static_cast<int>(v["count"].GetUint());
      f.cut_next_connects.after_bytes = static_cast<std::size_t>(v["after_bytes"].GetUint64());
    }
    if (doc.HasMember("connect_reply_extra")) {
      for (const auto& m : doc["connect_reply_extra"].GetArray()) {
        f.connect_reply_extra.push_back(m.IsString() ? m.GetString() : to_json(m));
      }
    }
    write_faults(w, f);
  }
  org_.changed.notify_all();
  res.set_content(sb.GetString(), kJsonType);
}

void AdminEndpoint::reset(const httplib::Request&, httplib::Response& res) {
  {
    std::lock_guard lock(org_.mutex);
    org_.drop_all_sessions();
    org_.bus.clear();
    org_.bus.set_retention(org_.options.retention);
    org_.published.clear();
    org_.faults = Faults{};
    org_.faults.deliver_on_any_reply = org_.options.deliver_on_any_reply;
    org_.stats = Stats{};
    org_.allocations = Allocations(org_.options.limits);
    org_.inject_counter = 0;
    ++org_.pubsub_generation;  // open Pub/Sub streams end, as CometD sessions are dropped
  }
  org_.changed.notify_all();
  res.set_content("{\"reset\":true}", kJsonType);
}

void AdminEndpoint::limits(const httplib::Request& req, httplib::Response& res) {
  rapidjson::Document doc;
  if (req.method == "POST") {
    doc.Parse(req.body.c_str(), req.body.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      send_error(res, 400, "body must be a JSON object {roll_over, set}");
      return;
    }
    for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
      const std::string key = it->name.GetString();
      const auto& v = it->value;
      if (key == "roll_over") {
        if (!v.IsString() ||
            (v.GetString() != std::string("hour") && v.GetString() != std::string("day"))) {
          send_error(res, 400, "roll_over: expected \"hour\" or \"day\"");
          return;
        }
      } else if (key == "set") {
        if (!v.IsObject()) {
          send_error(res, 400, "set: expected an object {NAME:{\"Max\":M,\"Used\":U}}");
          return;
        }
        for (auto a = v.MemberBegin(); a != v.MemberEnd(); ++a) {
          const std::string name = a->name.GetString();
          if (!Allocations::known(name)) {
            send_error(res, 400,
                       "set: unknown allocation `" + name +
                           "`; valid: DailyApiRequests, HourlyPublishedPlatformEvents, "
                           "DailyDeliveredPlatformEvents");
            return;
          }
          const auto& fields = a->value;
          bool ok = fields.IsObject();
          for (auto f = ok ? fields.MemberBegin() : fields.MemberEnd();
               ok && f != fields.MemberEnd(); ++f) {
            const std::string field = f->name.GetString();
            ok = (field == "Max" || field == "Used") && f->value.IsInt64() &&
                 f->value.GetInt64() >= 0;
          }
          if (!ok) {
            send_error(res, 400, "set." + name + ": expected {\"Max\":M,\"Used\":U}, each >= 0");
            return;
          }
        }
      } else {
        send_error(res, 400, "unknown key `" + key + "`; valid keys: roll_over, set");
        return;
      }
    }
  }
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  {
    std::lock_guard lock(org_.mutex);
    if (doc.IsObject() && doc.HasMember("roll_over")) {
      if (doc["roll_over"].GetString() == std::string("day")) {
        org_.allocations.roll_over_day();
      } else {
        org_.allocations.roll_over_hour();
      }
    }
    if (doc.IsObject() && doc.HasMember("set")) {
      for (auto a = doc["set"].MemberBegin(); a != doc["set"].MemberEnd(); ++a) {
        std::optional<std::int64_t> max, used;
        if (a->value.HasMember("Max")) {
          max = a->value["Max"].GetInt64();
        }
        if (a->value.HasMember("Used")) {
          used = a->value["Used"].GetInt64();
        }
        org_.allocations.set(a->name.GetString(), max, used);
      }
    }
    org_.allocations.write(w, true);
  }
  // A connect waiting on nothing is not affected; a client that failed on the daily limit
  // retries on its own.
  org_.changed.notify_all();
  res.set_content(sb.GetString(), kJsonType);
}

void AdminEndpoint::stats(const httplib::Request&, httplib::Response& res) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  {
    std::lock_guard lock(org_.mutex);
    auto now = Clock::now();
    std::vector<std::string> ids;
    for (const auto& [id, s] : org_.sessions) {
      ids.push_back(id);
    }
    for (const auto& id : ids) {
      org_.find_session(id, now);  // forgets expired ones so the count is what a client sees
    }
    const Stats& s = org_.stats;
    w.StartObject();
    w.Key("requests");
    w.StartObject();
    for (const auto& [endpoint, by_status] : s.requests) {
      write_string(w, endpoint);
      w.StartObject();
      for (const auto& [status, n] : by_status) {
        write_string(w, std::to_string(status));
        w.Uint64(n);
      }
      w.EndObject();
    }
    w.EndObject();
    w.Key("bayeux");
    w.StartObject();
    for (const auto& [channel, n] : s.bayeux) {
      write_string(w, channel);
      w.Uint64(n);
    }
    w.EndObject();
    w.Key("sessions");
    w.Uint64(org_.sessions.size());
    w.Key("sessions_created");
    w.Uint64(s.sessions_created);
    w.Key("sessions_forgotten");
    w.Uint64(s.sessions_forgotten);
    w.Key("connects_in_flight");
    w.Int(org_.connects_in_flight);
    w.Key("events_delivered");
    w.Uint64(s.events_delivered);
    w.Key("pubsub_streams_open");
    w.Int(org_.pubsub_streams_open);
    w.Key("pubsub_streams_reset");
    w.Uint64(s.pubsub_streams_reset);
    w.Key("pubsub_events_delivered");
    w.Uint64(s.pubsub_events_delivered);
    w.Key("pubsub_events_published");
    w.Uint64(s.pubsub_events_published);
    w.Key("events_injected");
    w.Uint64(s.events_injected);
    w.Key("events_published");
    w.Uint64(s.events_published);
    w.Key("tokens_issued");
    w.Uint64(s.tokens_issued);
    w.Key("org_id");
    write_string(w, org_.org_id);
    w.Key("retention");
    w.Uint64(org_.bus.retention());
    w.Key("channels");
    w.StartArray();
    for (const auto& c : org_.bus.stats()) {
      w.StartObject();
      w.Key("channel");
      write_string(w, c.channel);
      w.Key("retained");
      w.Uint64(c.retained);
      w.Key("oldest_replay_id");
      w.Int64(c.oldest_replay_id);
      w.Key("newest_replay_id");
      w.Int64(c.newest_replay_id);
      w.Key("last_dropped_replay_id");
      w.Int64(c.last_dropped_replay_id);
      w.EndObject();
    }
    w.EndArray();
    w.Key("faults");
    write_faults(w, org_.faults);
    w.EndObject();
  }
  res.set_content(sb.GetString(), kJsonType);
}

}  // namespace sfkb::emulator
