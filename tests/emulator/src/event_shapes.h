#pragma once
// The CometD message of each channel kind, as POST /_emulator/inject describes it and as
// Salesforce sends it (README.md "Admin API" and "Channel kinds"):
//   /event/X__e   {"channel":…,"data":{"schema":…,"payload":{"CreatedDate":…,"CreatedById":…,
//                  <fields>},"event":{"EventUuid":…,"replayId":N}}}
//   /topic/Name   {"channel":…,"data":{"sobject":{"Id":…,<fields>},
//                  "event":{"createdDate":…,"type":"created",…,"replayId":N}}}
//   /data/…       {"channel":…,"data":{"schema":…,"payload":{"ChangeEventHeader":{…},<fields>},
//                  "event":{"replayId":N}}}
// Each message is built up to `"replayId":`; the event bus appends the replay ID and closes it
// (EventBus::append), which is why `event` comes last in `data` and `replayId` last in `event`.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <rapidjson/document.h>

#include "json_util.h"

namespace sfkb::emulator {

// A JSON text cut at its {seq} and {n} placeholders, so that each injected event costs only
// concatenations.
class Template {
 public:
  explicit Template(const std::string& text);
  void render(std::string& out, std::uint64_t seq, std::uint64_t n) const;
  bool empty() const { return slots_.empty() && literals_[0].empty(); }
  std::size_t max_size() const;  // the longest rendering

 private:
  enum class Slot { kSeq, kN };
  std::vector<std::string> literals_;  // literals_.size() == slots_.size() + 1
  std::vector<Slot> slots_;
};

enum class ChannelKind { kPlatformEvent, kPushTopic, kChangeEvent };
ChannelKind channel_kind(const std::string& channel);  // by prefix; anything else: platform

// What one POST /_emulator/inject asks for, checked once; then one message per event.
class InjectShape {
 public:
  // Per-call facts: the time every event of the call carries and the schema of the channel.
  struct Context {
    std::string created_date;  // ISO 8601 UTC with milliseconds
    std::int64_t now_ms = 0;   // the same instant, epoch milliseconds (commitTimestamp)
    std::string schema_id;     // platform and change events
    std::string created_by;    // CreatedById / commitUser
  };

  // Checks the kind-specific members of the inject body (payload, sobject, type, change) for
  // `channel`; the error text is the 400 reply's message.
  static std::variant<InjectShape, std::string> parse(const rapidjson::Value& body,
                                                      const std::string& channel, Context context);

  ChannelKind kind() const { return kind_; }
  // Appends event `seq` of the call (`n`: the lifetime counter) up to and including
  // `"replayId":`. `uuid` is a fresh UUID per event (EventUuid, or a change's transactionKey).
  void append_prefix(std::string& out, std::uint64_t seq, std::uint64_t n,
                     const std::string& uuid) const;
  // At least the size of one event's message with its replay ID (for reserve).
  std::size_t size_hint() const;

 private:
  InjectShape(ChannelKind kind, Context context, Template fields)
      : kind_(kind),
        context_(std::move(context)),
        schema_quoted_(json_quoted(context_.schema_id)),
        fields_(std::move(fields)) {}

  ChannelKind kind_;
  Context context_;
  std::string schema_quoted_;
  std::string channel_quoted_;
  Template fields_;                   // payload or sobject members without braces
  bool add_created_ = false;          // platform: CreatedDate/CreatedById not given
  bool add_id_ = false;               // PushTopic: sobject.Id not given
  std::string type_quoted_;           // PushTopic event.type
  Template header_{""};               // change: the given and fixed header members
  bool add_record_ids_ = false;       // change: recordIds not given
  bool empty_record_ids_ = false;     // GAP_OVERFLOW names no record by default
  bool add_transaction_key_ = false;  // change: transactionKey not given
  bool add_commit_number_ = false;    // change: commitNumber not given
  std::string id_prefix_;             // key prefix of generated record IDs
};

// An 18-character record ID with a 3-character key prefix ("001" Account…), unique per `n`.
std::string record_id_for(const std::string& key_prefix, std::uint64_t n);

}  // namespace sfkb::emulator
