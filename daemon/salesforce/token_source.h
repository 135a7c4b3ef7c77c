#pragma once
// One token cache shared by both directions (subscribe and publish run on different threads).

#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>

#include "daemon/core/result.h"

namespace sfkb::salesforce {

struct Session {
  std::string access_token;
  std::string instance_url;      // from the token response: every API call goes there
  std::uint64_t generation = 0;  // increases with every new token
  // The org the token belongs to: the <orgId> of the identity URL (`id` in the token response,
  // https://host/id/<orgId>/<userId>). Empty when unknown (the access_token flow has no identity
  // URL). Replay IDs and checkpoints only mean something within one org.
  std::string org_id;
  // The user the token was issued to: the <userId> of the same identity URL. Empty when unknown.
  // skip_own_events drops the events this user published.
  std::string user_id;
};

// The org ID of a Salesforce identity URL (https://host/id/<orgId>/<userId>); empty when the URL
// does not have that shape.
std::string org_id_from_identity_url(std::string_view url);
// The user ID of a Salesforce identity URL (15 or 18 alphanumerics with the key prefix 005);
// empty when the URL does not have that shape.
std::string user_id_from_identity_url(std::string_view url);

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // The cached session, authenticating first if there is none. Thread-safe.
  virtual core::Result<Session> session(std::stop_token stop) = 0;
  // Called after the server rejected `rejected` (401 / INVALID_SESSION_ID). If a newer session
  // already exists it is returned at once; otherwise one new token is fetched - at most one
  // refresh is in flight, concurrent callers wait for it. A rejected login (invalid_grant, ...)
  // is kFatal with Salesforce's error and error_description; network trouble is kRetry.
  virtual core::Result<Session> refresh(const Session& rejected, std::stop_token stop) = 0;
};

}  // namespace sfkb::salesforce
