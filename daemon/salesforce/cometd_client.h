#pragma once
// The Streaming API client (docs/SALESFORCE_PROTOCOL.md "CometD", docs/ARCHITECTURE.md §2
// "Subscribe, step by step"): one Bayeux session shared by every configured channel, driven from
// the subscribe pipeline's thread through next_batch(). It owns the whole session life cycle -
// token, handshake (cookies cleared), one subscribe per channel with the replay extension, the
// long-poll connect loop, advice, re-authentication, rehandshake from the ResumePoints, backoff -
// so the pipeline only sees events, kStopped and kFatal.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "daemon/config/config.h"
#include "daemon/core/backoff.h"
#include "daemon/http/transport.h"
#include "daemon/ops/metrics.h"
#include "daemon/salesforce/bayeux.h"
#include "daemon/salesforce/event_source.h"
#include "daemon/salesforce/token_source.h"

namespace sfkb::salesforce {

struct CometdOptions {
  std::string api_version = "62.0";  // the endpoint is <instance_url>/cometd/<api_version>
  std::vector<ChannelSubscription> channels;
  config::RetryConfig retry;
  // Handshake and subscribe exchanges.
  std::chrono::milliseconds request_timeout{30000};
  // The long poll is bounded by the server's advice.timeout plus this margin: long enough that
  // a quiet poll ends on the server's side, short enough to notice a dead connection.
  std::chrono::milliseconds long_poll_margin{15000};
  // Until the server gives advice (Salesforce: about 110 s).
  std::chrono::milliseconds default_long_poll{110000};
  // /meta/disconnect at shutdown must not hold the shutdown up (docs/ARCHITECTURE.md §4).
  std::chrono::milliseconds disconnect_timeout{2000};
  std::uint64_t backoff_seed = std::random_device{}();  // fixed in tests
};

// Builds CometdOptions from the configuration (api_version, retry, request timeout, and each
// CometD subscribe mapping's channel, start and on_invalid_replay_id; subscribe[].api: pubsub
// mappings are the Pub/Sub API source's).
CometdOptions cometd_options(const config::Config& config);

class CometdClient final : public EventSource {
 public:
  // `tokens` and `resume` must outlive the client. `transport` is this client's own (its cookie
  // store is the session's). `resume` is asked on the next_batch() thread at every (re)subscribe.
  CometdClient(TokenSource& tokens, std::unique_ptr<http::Transport> transport,
               CometdOptions options, const ResumePoints& resume,
               ops::Metrics& metrics = ops::Metrics::global());
  ~CometdClient() override;
  CometdClient(const CometdClient&) = delete;
  CometdClient& operator=(const CometdClient&) = delete;

  // Not thread-safe with itself or disconnect(): one pipeline thread drives the client.
  core::Status next_batch(std::stop_token stop, std::vector<StreamEvent>& out) override;
  bool connected() const override { return connected_.load(std::memory_order_relaxed); }
  void disconnect() override;

 private:
  enum class Stage { kAuthenticate, kHandshake, kSubscribe, kConnect };
  // What a failed exchange asks for next (docs/SALESFORCE_PROTOCOL.md "Errors and the right
  // reaction").
  enum class Reaction { kReauth, kRehandshake, kBackoff, kAdviceRetry, kDailyLimit };
  struct Exchange;

  core::Status authenticate(std::stop_token stop);
  core::Status handshake(std::stop_token stop, std::vector<StreamEvent>& out);
  core::Status subscribe(std::stop_token stop, std::vector<StreamEvent>& out);
  // The channel's resume point `refused` is void: counts and logs it, queues a ChannelRestart item
  // into `out` and makes the next subscribe use the on_invalid_replay_id fallback (kFatal under
  // `fail`). `previous_org` is set when the reason is an org change.
  core::Status fall_back(const ChannelSubscription& channel, const core::ReplayId& refused,
                         const std::string& previous_org, std::vector<StreamEvent>& out);
  // True when a connect reply arrived (successful or not) and the batch is complete.
  core::Status connect(std::stop_token stop, std::vector<StreamEvent>& out, bool& completed);

  // One POST to the CometD endpoint; decodes the body and hands back events separately.
  core::Result<Exchange> post(const char* endpoint, std::string body,
                              std::chrono::milliseconds timeout, std::stop_token stop,
                              std::vector<StreamEvent>& out);
  void react(Reaction reaction, const std::string& what);
  Reaction classify(const bayeux::Message& reply, Reaction otherwise) const;
  Reaction classify_http(long status) const;
  void take_advice(const bayeux::Message& reply);
  // A reply that was not received whole and decoded may have carried events that the server has
  // already taken off the session's queue and will never send again: end the session, so that a
  // new handshake resubscribes every channel from its last acknowledged replay ID.
  void lost_reply(const char* exchange, const char* reason, const std::string& detail);
  void lose_session();
  std::string endpoint_url() const;

  TokenSource& tokens_;
  std::unique_ptr<http::Transport> transport_;
  CometdOptions options_;
  const ResumePoints& resume_;
  ops::Metrics& metrics_;
  core::Backoff backoff_;
  bayeux::RequestBuilder requests_;

  Stage stage_ = Stage::kAuthenticate;
  std::chrono::milliseconds wait_{0};  // before the next step
  bool refresh_token_ = false;         // the current token was rejected
  int auth_rejections_in_a_row_ = 0;   // 401 loops back off instead of spinning
  std::optional<Session> session_;
  std::string client_id_;
  std::set<std::string> subscribed_;
  // Channels subscribed at least once by this client: a later subscription of one without an
  // acknowledged position replays every retained event, never new events only (see subscribe()).
  std::set<std::string> subscribed_before_;
  // A replay ID to use instead of resume()/start at the next subscribe of a channel (after an
  // invalid-replay-ID fallback).
  std::map<std::string, core::ReplayId> replay_override_;
  // The org of the last session (empty: unknown), and per channel the org its resume point
  // belongs to when a new session came from another org (consumed at its next subscribe).
  std::string org_id_;
  std::map<std::string, std::string> org_moved_;
  std::chrono::milliseconds long_poll_;
  std::chrono::milliseconds advice_interval_{0};  // of the last unsuccessful reply
  std::atomic<bool> connected_{false};

  ops::Counter& reconnects_;
  ops::Counter& rehandshakes_;
  ops::Counter& malformed_;
  ops::Counter& daily_limit_;
  std::map<std::string, ops::Counter*, std::less<>> received_;
};

}  // namespace sfkb::salesforce
