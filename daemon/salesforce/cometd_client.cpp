#include "daemon/salesforce/cometd_client.h"

#include <algorithm>
#include <map>
#include <utility>

#include "daemon/core/redact.h"
#include "daemon/core/stop.h"
#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"
#include "daemon/ops/repeat_limiter.h"
#include "daemon/salesforce/invalid_replay.h"

namespace sfkb::salesforce {
namespace {

// A server's advice.timeout outside this range is treated as a bug on its side: too short would
// spin, too long would hide a dead connection for ages.
constexpr std::chrono::milliseconds kMinLongPoll{1000};
constexpr std::chrono::milliseconds kMaxLongPoll{std::chrono::minutes(10)};
constexpr std::chrono::milliseconds kMaxAdviceInterval{std::chrono::minutes(5)};

const bayeux::Message* find_reply(const std::vector<bayeux::Message>& replies,
                                  std::string_view channel) {
  const auto it = std::find_if(replies.begin(), replies.end(),
                               [&](const bayeux::Message& m) { return m.channel == channel; });
  return it == replies.end() ? nullptr : &*it;
}

std::string describe(const bayeux::Message& reply) {
  std::string text = reply.error.empty() ? "unsuccessful without an error" : reply.error;
  if (!reply.failure_reason.empty()) {
    text += " (failureReason: " + reply.failure_reason + ")";
  }
  if (reply.advice && !reply.advice->reconnect.empty()) {
    text += " [advice.reconnect=" + reply.advice->reconnect + "]";
  }
  return core::redact_text(text);
}

// One line for the debug log: the meta replies (channel, outcome, error, advice) and how many
// events of which channels, with the replay ID range - never payloads.
std::string summarize(const bayeux::Decoded& decoded) {
  std::string meta;
  std::map<std::string, std::pair<core::ReplayId, core::ReplayId>> ranges;
  std::map<std::string, std::size_t> counts;
  for (const auto& m : decoded.messages) {
    if (m.event) {
      auto [it, fresh] = ranges.try_emplace(m.channel, m.event->replay_id, m.event->replay_id);
      if (!fresh) {
        it->second.first = std::min(it->second.first, m.event->replay_id);
        it->second.second = std::max(it->second.second, m.event->replay_id);
      }
      ++counts[m.channel];
      continue;
    }
    if (!meta.empty()) {
      meta += ", ";
    }
    meta += m.channel;
    meta += m.successful.value_or(false) ? " ok" : " failed";
    if (!m.error.empty()) {
      meta += " error=" + m.error;
    }
    if (m.advice && !m.advice->reconnect.empty()) {
      meta += " advice.reconnect=" + m.advice->reconnect;
    }
  }
  std::string text = meta.empty() ? "no meta reply" : meta;
  for (const auto& [channel, range] : ranges) {
    text += "; " + std::to_string(counts[channel]) + " events of " + channel + " (replay " +
            range.first.text() + ".." + range.second.text() + ")";
  }
  if (decoded.malformed_count > 0) {
    text += "; " + std::to_string(decoded.malformed_count) + " malformed";
  }
  return core::redact_text(text);
}

}  // namespace

struct CometdClient::Exchange {
  long status = 0;
  std::vector<bayeux::Message> replies;  // the /meta/ messages of the response
  bool decoded = false;                  // false: the body was not a Bayeux array
};

CometdOptions cometd_options(const config::Config& config) {
  CometdOptions options;
  options.api_version = config.salesforce.api_version;
  options.retry = config.salesforce.retry;
  options.request_timeout = config.salesforce.request_timeout;
  for (const auto& mapping : config.subscribe) {
    if (mapping.api != config::EventApi::kCometd) {
      continue;  // the Pub/Sub API source's (pubsub/pubsub_client.h)
    }
    // The configuration's start is in CometD's terms: latest, earliest or a replay ID.
    options.channels.push_back(
        {mapping.channel, core::ReplayId::cometd(mapping.start), mapping.on_invalid_replay_id});
  }
  return options;
}

CometdClient::CometdClient(TokenSource& tokens, std::unique_ptr<http::Transport> transport,
                           CometdOptions options, const ResumePoints& resume, ops::Metrics& metrics)
    : tokens_(tokens),
      transport_(std::move(transport)),
      options_(std::move(options)),
      resume_(resume),
      metrics_(metrics),
      backoff_({options_.retry.initial_backoff, options_.retry.max_backoff}, options_.backoff_seed),
      long_poll_(options_.default_long_poll),
      reconnects_(metrics.counter(ops::Metric::kCometdReconnects)),
      rehandshakes_(metrics.counter(ops::Metric::kCometdRehandshakes)),
      malformed_(metrics.counter(ops::Metric::kMalformedMessages)),
      daily_limit_(metrics.counter(ops::Metric::kDailyLimitExceeded)) {
  if (!transport_) {
    throw std::invalid_argument("CometdClient: a transport is required");
  }
  for (const auto& channel : options_.channels) {
    received_[channel.channel] = &metrics.counter(ops::Metric::kEventsReceived, {channel.channel});
  }
}

CometdClient::~CometdClient() = default;

std::string CometdClient::endpoint_url() const {
  return session_->instance_url + "/cometd/" + options_.api_version;
}

void CometdClient::lose_session() {
  client_id_.clear();
  subscribed_.clear();
  connected_.store(false, std::memory_order_relaxed);
}

core::Status CometdClient::next_batch(std::stop_token stop, std::vector<StreamEvent>& out) {
  const std::size_t before = out.size();
  while (true) {
    if (stop.stop_requested()) {
      return core::Error{core::ErrorKind::kStopped, "cometd: stopped"};
    }
    if (wait_.count() > 0) {
      const auto wait = std::exchange(wait_, std::chrono::milliseconds(0));
      if (!core::interruptible_sleep(stop, wait)) {
        return core::Error{core::ErrorKind::kStopped, "cometd: stopped"};
      }
    }
    core::Status status;
    bool completed = false;
    switch (stage_) {
      case Stage::kAuthenticate:
        status = authenticate(stop);
        break;
      case Stage::kHandshake:
        status = handshake(stop, out);
        break;
      case Stage::kSubscribe:
        status = subscribe(stop, out);
        break;
      case Stage::kConnect:
        status = connect(stop, out, completed);
        break;
    }
    if (!status) {
      return status;  // only kStopped and kFatal leave the loop
    }
    // Events go to the pipeline at once - never wait out a backoff while holding them.
    if (completed || out.size() > before) {
      return core::Status::ok();
    }
  }
}

core::Status CometdClient::authenticate(std::stop_token stop) {
  auto log = ops::logger("cometd");
  auto result =
      refresh_token_ && session_ ? tokens_.refresh(*session_, stop) : tokens_.session(stop);
  if (!result) {
    if (result.error().kind == core::ErrorKind::kRetry) {
      wait_ = backoff_.next();
      log->warn("cannot obtain an access token: {}; retrying in {} ms",
                core::redact_text(result.error().message), wait_.count());
      return core::Status::ok();
    }
    return result.status();  // kFatal (login refused) or kStopped
  }
  session_ = std::move(result).value();
  refresh_token_ = false;
  if (!session_->org_id.empty()) {
    if (!org_id_.empty() && session_->org_id != org_id_) {
      log->warn(
          "the new access token belongs to org {}, the previous one to org {} (a sandbox "
          "refresh?): every channel resubscribes from its on_invalid_replay_id fallback",
          session_->org_id, org_id_);
      for (const auto& channel : options_.channels) {
        org_moved_[channel.channel] = org_id_;
      }
    }
    org_id_ = session_->org_id;
  }
  stage_ = Stage::kHandshake;
  return core::Status::ok();
}

core::Result<CometdClient::Exchange> CometdClient::post(const char* endpoint, std::string body,
                                                        std::chrono::milliseconds timeout,
                                                        std::stop_token stop,
                                                        std::vector<StreamEvent>& out) {
  auto log = ops::logger("cometd");
  http::Request request;
  request.method = "POST";
  request.url = endpoint_url();
  request.headers = {{"Content-Type", "application/json"},
                     {"Accept", "application/json"},
                     {"Authorization", "Bearer " + session_->access_token}};
  request.body = std::move(body);
  request.timeout = timeout;
  if (log->should_log(spdlog::level::debug)) {
    log->debug("-> {} {}", endpoint, bayeux::snippet(request.body));
  }

  auto response = transport_->perform(request, stop);
  const std::string status = response ? std::to_string(response->status) : std::string("error");
  metrics_.counter(ops::Metric::kHttpRequests, {endpoint, status}).inc();
  if (!response) {
    return response.error();
  }

  Exchange exchange;
  exchange.status = response->status;
  auto decoded = bayeux::decode_response(response->body);
  if (!decoded) {
    if (response->status == 200) {
      // A 200 whose body is not Bayeux: count it; the caller decides what the loss means.
      malformed_.inc();
      static ops::RepeatLimiter limiter;  // a broken server repeats it on every connect
      if (auto repeat = limiter.admit()) {
        log->warn("malformed {} reply: {}{}", endpoint, decoded.error().message, repeat->suffix());
      }
    }
    return exchange;
  }
  exchange.decoded = true;
  if (log->should_log(spdlog::level::debug)) {
    log->debug("<- {} HTTP {} ({} bytes): {}", endpoint, response->status, response->body.size(),
               summarize(*decoded));
  }
  if (decoded->malformed_count > 0) {
    malformed_.inc(decoded->malformed_count);
    for (const auto& bad : decoded->malformed) {
      log->warn("malformed message #{} in {} reply, skipped: {}: {}", bad.index, endpoint,
                bad.reason, bad.snippet);
    }
    if (decoded->malformed_count > decoded->malformed.size()) {
      log->warn("{} more malformed messages in that reply",
                decoded->malformed_count - decoded->malformed.size());
    }
  }
  for (auto& message : decoded->messages) {
    if (!message.event) {
      exchange.replies.push_back(std::move(message));
      continue;
    }
    const auto counter = received_.find(message.channel);
    if (counter == received_.end()) {
      metrics_.counter(ops::Metric::kUnexpectedChannelEvents, {message.channel}).inc();
      static ops::RepeatLimiter limiter;  // once per event otherwise; the metric counts them all
      if (auto repeat = limiter.admit()) {
        ops::warn(log, "event on a channel that is not subscribed, skipped ({}, {}){}",
                  ops::field("channel", message.channel),
                  ops::field("replay_id", message.event->replay_id.text()), repeat->suffix());
      }
      continue;
    }
    counter->second->inc();
    out.push_back(std::move(*message.event));
  }
  return exchange;
}

CometdClient::Reaction CometdClient::classify(const bayeux::Message& reply,
                                              Reaction otherwise) const {
  if (bayeux::is_authentication_error(reply.error) ||
      bayeux::is_authentication_error(reply.failure_reason)) {
    return Reaction::kReauth;
  }
  if (bayeux::is_daily_limit(reply.error) || bayeux::is_daily_limit(reply.failure_reason)) {
    return Reaction::kDailyLimit;
  }
  if (bayeux::is_server_busy(reply.error) || bayeux::is_server_busy(reply.failure_reason)) {
    return Reaction::kBackoff;
  }
  if (bayeux::is_unknown_client(reply.error) || bayeux::is_unknown_client(reply.failure_reason)) {
    return Reaction::kRehandshake;
  }
  if (reply.advice) {
    if (reply.advice->reconnect == "handshake") {
      return Reaction::kRehandshake;
    }
    if (reply.advice->reconnect == "none") {
      return Reaction::kReauth;
    }
    if (reply.advice->reconnect == "retry") {
      return Reaction::kAdviceRetry;
    }
  }
  return otherwise;
}

CometdClient::Reaction CometdClient::classify_http(long status) const {
  if (status == 401) {
    return Reaction::kReauth;
  }
  // 403 and 400 without a Bayeux body: the session (or its routing cookie) is gone.
  if (status == 403 || status == 400) {
    return Reaction::kRehandshake;
  }
  return Reaction::kBackoff;  // 5xx, 429, anything unexpected
}

void CometdClient::take_advice(const bayeux::Message& reply) {
  if (!reply.advice) {
    return;
  }
  if (reply.advice->timeout_ms) {
    long_poll_ = std::clamp(std::chrono::milliseconds(*reply.advice->timeout_ms), kMinLongPoll,
                            kMaxLongPoll);
  }
}

void CometdClient::lost_reply(const char* exchange, const char* reason, const std::string& detail) {
  auto log = ops::logger("cometd");
  metrics_.counter(ops::Metric::kCometdLostReplies, {exchange, reason}).inc();
  rehandshakes_.inc();
  wait_ = backoff_.next();
  log->warn(
      "{} reply lost ({}: {}); the server may have handed out events in it and will not send "
      "them again - ending the session: handshaking again in {} ms and resubscribing every "
      "channel from its last acknowledged replay ID",
      exchange, reason, core::redact_text(detail), wait_.count());
  lose_session();
  stage_ = Stage::kHandshake;
}

void CometdClient::react(Reaction reaction, const std::string& what) {
  auto log = ops::logger("cometd");
  switch (reaction) {
    case Reaction::kReauth:
      // The first rejection re-authenticates at once; a rejection right after a fresh token
      // would otherwise loop as fast as the network allows.
      ++auth_rejections_in_a_row_;
      wait_ = auth_rejections_in_a_row_ > 1 ? backoff_.next() : std::chrono::milliseconds(0);
      log->warn("{}: authenticating again, then a new handshake (in {} ms)", what, wait_.count());
      refresh_token_ = true;
      lose_session();
      stage_ = Stage::kAuthenticate;
      break;
    case Reaction::kRehandshake:
      rehandshakes_.inc();
      wait_ = backoff_.next();
      log->warn(
          "{}: handshaking again in {} ms, resubscribing from the last acknowledged replay IDs",
          what, wait_.count());
      lose_session();
      stage_ = Stage::kHandshake;
      break;
    case Reaction::kBackoff:
      if (stage_ == Stage::kConnect) {
        reconnects_.inc();
      }
      wait_ = backoff_.next();
      log->warn("{}: retrying in {} ms", what, wait_.count());
      break;
    case Reaction::kAdviceRetry:
      if (stage_ == Stage::kConnect) {
        reconnects_.inc();
      }
      // advice.interval is what the server asked for; a backoff step still applies so that a
      // server answering "retry, interval 0" to every request cannot make us spin.
      wait_ = std::max(advice_interval_, backoff_.next());
      log->warn("{}: retrying in {} ms as advised", what, wait_.count());
      break;
    case Reaction::kDailyLimit:
      daily_limit_.inc();
      wait_ = options_.retry.daily_limit_backoff;
      log->error(
          "{}: the org's daily delivery allocation is used up; no events are delivered until it "
          "resets - waiting {} ms before a new handshake",
          what, wait_.count());
      lose_session();
      stage_ = Stage::kHandshake;
      break;
  }
}

core::Status CometdClient::handshake(std::stop_token stop, std::vector<StreamEvent>& out) {
  auto log = ops::logger("cometd");
  // A new session must not present the old session's routing cookie.
  transport_->clear_cookies();
  lose_session();
  auto exchange = post("handshake", requests_.handshake(), options_.request_timeout, stop, out);
  if (!exchange) {
    if (exchange.error().kind == core::ErrorKind::kStopped) {
      return exchange.status();
    }
    react(Reaction::kBackoff, "handshake failed: " + exchange.error().message);
    return core::Status::ok();
  }
  const auto* reply = find_reply(exchange->replies, "/meta/handshake");
  if (reply == nullptr) {
    react(exchange->status == 200 ? Reaction::kBackoff : classify_http(exchange->status),
          "handshake failed: HTTP " + std::to_string(exchange->status) + " without a reply");
    return core::Status::ok();
  }
  take_advice(*reply);
  if (reply->successful.value_or(false) && !reply->client_id.empty()) {
    client_id_ = reply->client_id;
    stage_ = Stage::kSubscribe;
    ops::info(log, "handshake done ({}, {})", ops::field("client_id", client_id_),
              ops::field("endpoint", endpoint_url()));
    return core::Status::ok();
  }
  const Reaction reaction = classify(*reply, Reaction::kBackoff);
  react(reaction == Reaction::kRehandshake ? Reaction::kBackoff : reaction,
        "handshake refused: " + describe(*reply));
  return core::Status::ok();
}

core::Status CometdClient::subscribe(std::stop_token stop, std::vector<StreamEvent>& out) {
  auto log = ops::logger("cometd");
  for (const auto& channel : options_.channels) {
    if (subscribed_.contains(channel.channel)) {
      continue;
    }
    core::ReplayId replay_from = channel.start;
    const char* source = "configured start";
    if (const auto it = replay_override_.find(channel.channel); it != replay_override_.end()) {
      replay_from = it->second;
      source = "invalid-replay fallback";
    } else if (const auto resumed = resume_.resume_point(channel.channel)) {
      replay_from = *resumed;
      source = "last acknowledged";
    }
    if (replay_from.preset() == core::ReplayPreset::kLatest &&
        source != std::string_view("invalid-replay fallback") &&
        subscribed_before_.contains(channel.channel)) {
      // "Latest" means "events published after this subscribe": after a lost reply or a lost
      // session, a channel with nothing acknowledged yet would skip the events of the lost reply
      // and of the gap. "Earliest" replays what is retained; the pipeline's duplicate filter drops
      // what it has already produced (only a channel that had received nothing at all gets older
      // events).
      replay_from = core::ReplayId::cometd(core::ReplayPreset::kEarliest);
      source = "earliest: nothing acknowledged yet, latest again could skip events";
    }
    if (!replay_from.is_cometd()) {
      // A Pub/Sub API position (the channel was moved from api: pubsub): no position in CometD's
      // sequence, so the resume point is void.
      return fall_back(channel, replay_from, {}, out);
    }
    if (const auto moved = org_moved_.find(channel.channel); moved != org_moved_.end()) {
      const std::string previous = moved->second;
      org_moved_.erase(moved);
      if (replay_from.names_event() && !replay_override_.contains(channel.channel)) {
        // A replay ID of the old org: it may be refused, or worse, accepted and mean other events.
        return fall_back(channel, replay_from, previous, out);
      }
      // No position of the old org to void, but the pipeline must still learn the new org, in
      // order with the events, so that records and the checkpoint name it.
      StreamEvent item;
      item.channel = channel.channel;
      item.restart = ChannelRestart{replay_from, replay_from, session_->org_id, previous};
      out.push_back(std::move(item));
    }
    auto exchange =
        post("subscribe", requests_.subscribe(client_id_, channel.channel, replay_from.number()),
             options_.request_timeout, stop, out);
    // A subscribe reply may carry events of the channels subscribed before it
    // (docs/SALESFORCE_PROTOCOL.md does not restrict events to connect replies), so losing it ends
    // the session like a lost connect reply does.
    if (!exchange) {
      if (exchange.error().kind == core::ErrorKind::kStopped) {
        return exchange.status();
      }
      lost_reply("subscribe", "transport", channel.channel + ": " + exchange.error().message);
      return core::Status::ok();
    }
    const auto* reply = find_reply(exchange->replies, "/meta/subscribe");
    if (reply == nullptr) {
      if (exchange->status == 401) {
        react(Reaction::kReauth, "subscribe " + channel.channel + " failed: HTTP 401");
      } else {
        lost_reply("subscribe", exchange->decoded ? "no_meta_reply" : "undecodable",
                   channel.channel + ": HTTP " + std::to_string(exchange->status));
      }
      return core::Status::ok();
    }
    take_advice(*reply);
    if (reply->successful.value_or(false)) {
      subscribed_.insert(channel.channel);
      subscribed_before_.insert(channel.channel);
      replay_override_.erase(channel.channel);
      ops::info(log, "subscribed ({}, {}, {})", ops::field("channel", channel.channel),
                ops::field("replay_from", replay_from.text()), ops::field("from", source));
      continue;
    }
    if (bayeux::is_invalid_replay_id(reply->error) && replay_from.names_event()) {
      // The next step subscribes this channel again, at once, from the fallback.
      return fall_back(channel, replay_from, {}, out);
    }
    react(classify(*reply, Reaction::kRehandshake),
          "subscribe " + channel.channel + " refused: " + describe(*reply));
    return core::Status::ok();
  }
  stage_ = Stage::kConnect;
  connected_.store(true, std::memory_order_relaxed);
  return core::Status::ok();
}

core::Status CometdClient::fall_back(const ChannelSubscription& channel,
                                     const core::ReplayId& refused, const std::string& previous_org,
                                     std::vector<StreamEvent>& out) {
  const std::string org = session_ ? session_->org_id : std::string();
  const std::string what =
      previous_org.empty()
          ? "Salesforce refused replay ID " + refused.text() + " of channel " + channel.channel +
                " as invalid (older than the retention window, or newer than the org's newest "
                "event: a sandbox refresh or a checkpoint of another org)"
          : "the org changed from " + previous_org + " to " + org +
                " (a sandbox refresh?), so replay ID " + refused.text() + " of channel " +
                channel.channel + " means nothing here";
  // CometD spells the presets as the replay IDs -2 and -1.
  auto chosen = invalid_replay_fallback(
      "cometd", channel, what, refused, metrics_,
      [](core::ReplayPreset preset) { return core::ReplayId::cometd(preset).text(); });
  if (!chosen) {
    return chosen.error();
  }
  const core::ReplayId fallback = chosen.value();
  replay_override_[channel.channel] = fallback;
  // In order with the events: the pipeline restarts the channel's bookkeeping before the first
  // event of the new subscription (the batch returns with this item at once).
  StreamEvent item;
  item.channel = channel.channel;
  item.restart = ChannelRestart{refused, fallback, org, previous_org};
  out.push_back(std::move(item));
  return core::Status::ok();
}

core::Status CometdClient::connect(std::stop_token stop, std::vector<StreamEvent>& out,
                                   bool& completed) {
  auto exchange = post("connect", requests_.connect(client_id_),
                       long_poll_ + options_.long_poll_margin, stop, out);
  // Only a reply received whole and decoded, with its /meta/connect message, proves that no event
  // went missing: a transport error, a timeout, a cut or unreadable body or an error page may
  // each have swallowed events the server already took off the queue (docs/SALESFORCE_PROTOCOL.md
  // "How a CometD server treats a long poll").
  if (!exchange) {
    if (exchange.error().kind == core::ErrorKind::kStopped) {
      return exchange.status();
    }
    lost_reply("connect", "transport", exchange.error().message);
    return core::Status::ok();
  }
  const auto* reply = find_reply(exchange->replies, "/meta/connect");
  if (reply == nullptr) {
    if (exchange->status == 401) {
      react(Reaction::kReauth, "connect failed: HTTP 401");
    } else if (!exchange->decoded) {
      lost_reply("connect", "undecodable", "HTTP " + std::to_string(exchange->status));
    } else {
      lost_reply("connect", "no_meta_reply", "HTTP " + std::to_string(exchange->status));
    }
    return core::Status::ok();
  }
  take_advice(*reply);
  if (reply->successful.value_or(false)) {
    backoff_.reset();
    auth_rejections_in_a_row_ = 0;
    connected_.store(true, std::memory_order_relaxed);
    completed = true;
    if (reply->advice && reply->advice->interval_ms && *reply->advice->interval_ms > 0) {
      wait_ = std::min(std::chrono::milliseconds(*reply->advice->interval_ms), kMaxAdviceInterval);
    }
    if (reply->advice &&
        (reply->advice->reconnect == "none" || reply->advice->reconnect == "handshake")) {
      // A successful connect that advises against connecting again: the server ended the session
      // (a CometD server's own disconnect does this). Its events are delivered; a new session
      // follows instead of one more connect with a client ID the server no longer knows.
      react(Reaction::kRehandshake,
            "connect ended by the server (advice.reconnect=" + reply->advice->reconnect + ")");
    }
    return core::Status::ok();
  }
  if (reply->advice && reply->advice->interval_ms) {
    advice_interval_ =
        std::min(std::chrono::milliseconds(std::max<std::int64_t>(*reply->advice->interval_ms, 0)),
                 kMaxAdviceInterval);
  }
  react(classify(*reply, Reaction::kRehandshake), "connect refused: " + describe(*reply));
  return core::Status::ok();
}

void CometdClient::disconnect() {
  if (client_id_.empty() || !session_) {
    return;
  }
  auto log = ops::logger("cometd");
  std::vector<StreamEvent> ignored;
  auto exchange = post("disconnect", requests_.disconnect(client_id_), options_.disconnect_timeout,
                       std::stop_token{}, ignored);
  if (!exchange) {
    log->info("disconnect not confirmed: {}", exchange.error().message);
  } else {
    ops::info(log, "disconnected ({}, HTTP {})", ops::field("client_id", client_id_),
              exchange->status);
  }
  lose_session();
  stage_ = Stage::kHandshake;
}

}  // namespace sfkb::salesforce
