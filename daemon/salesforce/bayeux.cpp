#include "daemon/salesforce/bayeux.h"

#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "daemon/core/redact.h"

namespace sfkb::salesforce::bayeux {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Iterative parsing keeps the parser off the call stack however deep the input nests; UTF-8 is
// validated so that whatever we re-serialise or quote in a log line is valid text.
// EventTextRecorder relies on the iterative reader's order of bracket and callback.
constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

// Depth of a value without recursion (the depth bound itself must not need a deep stack).
int depth_of(const rapidjson::Value& root) {
  std::vector<std::pair<const rapidjson::Value*, int>> stack = {{&root, 1}};
  int deepest = 0;
  while (!stack.empty()) {
    auto [value, depth] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, depth);
    if (deepest > kMaxDepth) {
      return deepest;
    }
    if (value->IsObject()) {
      for (const auto& member : value->GetObject()) {
        if (member.value.IsObject() || member.value.IsArray()) {
          stack.emplace_back(&member.value, depth + 1);
        }
      }
    } else if (value->IsArray()) {
      for (const auto& element : value->GetArray()) {
        if (element.IsObject() || element.IsArray()) {
          stack.emplace_back(&element, depth + 1);
        }
      }
    }
  }
  return deepest;
}

// Compact JSON of a value whose depth was checked (Writer recurses).
std::string compact(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

// Where an event's data object and its record object (payload, or a PushTopic's sobject) sit in
// the response text. The record value is cut from these bytes rather than re-serialised from the
// tree: re-serialising turns 12.50 into 12.5 and squeezes every decimal through a double, which
// can change the digits of a long one.
struct EventText {
  std::string_view data;
  std::string_view payload;
  std::string_view sobject;
};

// A SAX handler that builds the Document (it forwards every call) and notes, for each element of
// the response array, the byte range of element.data, element.data.payload and
// element.data.sobject when they are objects. The first occurrence wins, as with FindMember on a
// duplicated key.
class EventTextRecorder {
 public:
  using Stream = rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream>;
  using Ch = char;

  EventTextRecorder(rapidjson::Document& doc, const Stream& stream, std::string_view body)
      : doc_(doc), stream_(stream), body_(body) {}

  std::vector<EventText> take() { return std::move(texts_); }

  bool Null() { return value() && doc_.Null(); }
  bool Bool(bool b) { return value() && doc_.Bool(b); }
  bool Int(int i) { return value() && doc_.Int(i); }
  bool Uint(unsigned u) { return value() && doc_.Uint(u); }
  bool Int64(std::int64_t i) { return value() && doc_.Int64(i); }
  bool Uint64(std::uint64_t u) { return value() && doc_.Uint64(u); }
  bool Double(double d) { return value() && doc_.Double(d); }
  bool RawNumber(const Ch* str, rapidjson::SizeType length, bool copy) {
    return value() && doc_.RawNumber(str, length, copy);
  }
  bool String(const Ch* str, rapidjson::SizeType length, bool copy) {
    return value() && doc_.String(str, length, copy);
  }
  bool Key(const Ch* str, rapidjson::SizeType length, bool copy) {
    const std::string_view key(str, length);
    const std::size_t depth = open_.size();
    next_ = Role::kOther;
    if (depth == 2 && key == "data") {
      next_ = Role::kData;
    } else if (depth == 3 && open_.back().role == Role::kData && key == "payload") {
      next_ = Role::kPayload;
    } else if (depth == 3 && open_.back().role == Role::kData && key == "sobject") {
      next_ = Role::kSobject;
    }
    return doc_.Key(str, length, copy);
  }
  bool StartObject() { return start(true) && doc_.StartObject(); }
  bool EndObject(rapidjson::SizeType count) { return end() && doc_.EndObject(count); }
  bool StartArray() { return start(false) && doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType count) { return end() && doc_.EndArray(count); }

 private:
  enum class Role { kOther, kData, kPayload, kSobject };
  struct Open {
    Role role;
    std::size_t begin;  // offset of the opening bracket
  };

  // Every value starts here; a value directly inside the root array is a new element.
  bool value() {
    if (open_.size() == 1) {
      texts_.emplace_back();
    }
    next_ = Role::kOther;
    return true;
  }
  bool start(bool object) {
    const Role role = object ? next_ : Role::kOther;
    value();
    // The iterative reader calls StartObject/StartArray and EndObject/EndArray *before* it takes
    // the bracket, so Tell() is the bracket's own offset in both (see kParseFlags).
    open_.push_back({role, stream_.Tell()});
    return true;
  }
  bool end() {
    const Open closed = open_.back();
    open_.pop_back();
    if (closed.role != Role::kOther && !texts_.empty()) {
      EventText& text = texts_.back();
      auto& slot = closed.role == Role::kData      ? text.data
                   : closed.role == Role::kPayload ? text.payload
                                                   : text.sobject;
      if (slot.empty()) {
        slot = body_.substr(closed.begin, stream_.Tell() + 1 - closed.begin);
      }
    }
    return true;
  }

  rapidjson::Document& doc_;
  const Stream& stream_;
  std::string_view body_;
  std::vector<Open> open_;
  Role next_ = Role::kOther;
  std::vector<EventText> texts_;
};

// A value's bytes from the response when the recorder found them (they always start with '{'),
// else the re-serialised value.
std::string original_or_compact(std::string_view original, const rapidjson::Value& value) {
  if (original.size() >= 2 && original.front() == '{' && original.back() == '}') {
    return std::string(original);
  }
  return compact(value);
}

const rapidjson::Value* member(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) {
    return nullptr;
  }
  const auto it = object.FindMember(key);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string string_member(const rapidjson::Value& object, const char* key) {
  const auto* value = member(object, key);
  if (value == nullptr || !value->IsString()) {
    return {};
  }
  return {value->GetString(), value->GetStringLength()};
}

std::optional<std::int64_t> integer_member(const rapidjson::Value& object, const char* key) {
  const auto* value = member(object, key);
  if (value == nullptr || !value->IsInt64()) {
    return std::nullopt;
  }
  return value->GetInt64();
}

// Reads payload.ChangeEventHeader. The fields the mapping acts on (entityName, changeType,
// recordIds) must have their documented types; the others are taken when they have theirs and
// left empty otherwise (the record value carries the header as sent either way).
std::optional<std::string> decode_change_header(const rapidjson::Value& header,
                                                ChangeEventHeader& out) {
  if (!header.IsObject()) {
    return "data.payload.ChangeEventHeader is not an object";
  }
  const auto* entity = member(header, "entityName");
  if (entity == nullptr || !entity->IsString() || entity->GetStringLength() == 0) {
    return "data.payload.ChangeEventHeader.entityName is missing or not a string";
  }
  const auto* change_type = member(header, "changeType");
  if (change_type == nullptr || !change_type->IsString() || change_type->GetStringLength() == 0) {
    return "data.payload.ChangeEventHeader.changeType is missing or not a string";
  }
  out.entity_name.assign(entity->GetString(), entity->GetStringLength());
  out.change_type.assign(change_type->GetString(), change_type->GetStringLength());
  // Absent recordIds is taken as none: the mapping treats an empty list like a missing key.
  if (const auto* ids = member(header, "recordIds")) {
    if (!ids->IsArray()) {
      return "data.payload.ChangeEventHeader.recordIds is not an array";
    }
    out.record_ids.reserve(ids->Size());
    for (const auto& id : ids->GetArray()) {
      if (!id.IsString()) {
        return "data.payload.ChangeEventHeader.recordIds holds a value that is not a string";
      }
      out.record_ids.emplace_back(id.GetString(), id.GetStringLength());
    }
  }
  out.change_origin = string_member(header, "changeOrigin");
  out.transaction_key = string_member(header, "transactionKey");
  out.commit_user = string_member(header, "commitUser");
  out.sequence_number = integer_member(header, "sequenceNumber");
  out.commit_number = integer_member(header, "commitNumber");
  out.commit_timestamp = integer_member(header, "commitTimestamp");
  return std::nullopt;
}

// Decodes the event part of a non-meta message (event.channel is set). The kind is decided by the
// shape present (bayeux.h "Event messages"). Returns the reason when it is malformed.
std::optional<std::string> decode_event(const rapidjson::Value& message, const EventText& text,
                                        StreamEvent& event) {
  const auto* data = member(message, "data");
  if (data == nullptr || !data->IsObject()) {
    return "event message without a data object";
  }
  const auto* meta = member(*data, "event");
  if (meta == nullptr || !meta->IsObject()) {
    return "data.event is missing or not an object";
  }
  const auto* replay = member(*meta, "replayId");
  if (replay == nullptr) {
    return "data.event.replayId is missing";
  }
  if (!replay->IsInt64()) {
    return "data.event.replayId is not an integer";
  }
  event.replay_id = core::ReplayId::cometd(replay->GetInt64());
  const auto* payload = member(*data, "payload");
  const auto* sobject = member(*data, "sobject");
  if (payload != nullptr) {
    if (!payload->IsObject()) {
      return "data.payload is not an object";
    }
    if (const auto* header = member(*payload, "ChangeEventHeader")) {
      ChangeEventHeader change;
      if (auto reason = decode_change_header(*header, change)) {
        return reason;
      }
      event.kind = EventKind::kChangeEvent;
      event.change = std::move(change);
    } else {
      event.kind = EventKind::kPlatformEvent;
      event.event_uuid = string_member(*meta, "EventUuid");
      event.created_date = string_member(*payload, "CreatedDate");
    }
    event.schema = string_member(*data, "schema");
    event.payload_json = original_or_compact(text.payload, *payload);
  } else if (sobject != nullptr) {
    if (!sobject->IsObject()) {
      return "data.sobject is not an object";
    }
    const auto* type = member(*meta, "type");
    if (type == nullptr || !type->IsString() || type->GetStringLength() == 0) {
      return "data.event.type is missing or not a string (a PushTopic event says created, "
             "updated, deleted or undeleted there)";
    }
    event.kind = EventKind::kPushTopic;
    event.event_type.assign(type->GetString(), type->GetStringLength());
    event.created_date = string_member(*meta, "createdDate");
    event.payload_json = original_or_compact(text.sobject, *sobject);
  } else if (kind_of_channel(event.channel) == EventKind::kPushTopic) {
    return "data.sobject is missing (a PushTopic event carries its record there)";
  } else {
    return "data.payload is missing (a platform or change event carries its fields there)";
  }
  event.envelope_json = original_or_compact(text.data, *data);
  return std::nullopt;
}

// Decodes one element of the response array. Returns the reason when it is malformed.
std::optional<std::string> decode_message(const rapidjson::Value& value, const EventText& text,
                                          Message& out) {
  if (!value.IsObject()) {
    return "not a JSON object";
  }
  if (depth_of(value) > kMaxDepth) {
    return "nested deeper than " + std::to_string(kMaxDepth) + " levels";
  }
  const auto* channel = member(value, "channel");
  if (channel == nullptr || !channel->IsString() || channel->GetStringLength() == 0) {
    return "channel is missing or not a string";
  }
  out.channel.assign(channel->GetString(), channel->GetStringLength());
  if (const auto* id = member(value, "id")) {
    if (id->IsString()) {
      out.id.assign(id->GetString(), id->GetStringLength());
    } else if (id->IsInt64()) {
      out.id = std::to_string(id->GetInt64());
    }
  }
  if (const auto* successful = member(value, "successful")) {
    if (!successful->IsBool()) {
      return "successful is not a boolean";
    }
    out.successful = successful->GetBool();
  }
  out.error = string_member(value, "error");
  out.client_id = string_member(value, "clientId");
  out.subscription = string_member(value, "subscription");
  if (const auto* advice = member(value, "advice"); advice != nullptr && advice->IsObject()) {
    out.advice = Advice{string_member(*advice, "reconnect"), integer_member(*advice, "interval"),
                        integer_member(*advice, "timeout")};
  }
  if (const auto* ext = member(value, "ext")) {
    if (const auto* sfdc = member(*ext, "sfdc")) {
      out.failure_reason = string_member(*sfdc, "failureReason");
    }
  }
  if (!out.is_meta()) {
    StreamEvent event;
    event.channel = out.channel;
    if (auto reason = decode_event(value, text, event)) {
      return reason;
    }
    out.event = std::move(event);
  }
  return std::nullopt;
}

std::string element_snippet(const rapidjson::Value& value) {
  if (depth_of(value) > kMaxDepth) {
    return "(too deeply nested to quote)";
  }
  // Huge elements are re-serialised in full here, but only on the malformed path.
  return snippet(compact(value));
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

// ---- requests ----

std::string RequestBuilder::next_id() {
  return std::to_string(next_id_++);
}

std::string RequestBuilder::handshake() {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartArray();
  writer.StartObject();
  writer.Key("channel");
  writer.String("/meta/handshake");
  writer.Key("version");
  writer.String("1.0");
  writer.Key("minimumVersion");
  writer.String("1.0");
  writer.Key("supportedConnectionTypes");
  writer.StartArray();
  writer.String("long-polling");
  writer.EndArray();
  writer.Key("ext");
  writer.StartObject();
  writer.Key("replay");
  writer.Bool(true);
  writer.Key("payload.format");
  writer.Bool(true);
  writer.EndObject();
  writer.Key("id");
  writer.String(next_id());
  writer.EndObject();
  writer.EndArray();
  return buffer.GetString();
}

std::string RequestBuilder::subscribe(std::string_view client_id, std::string_view channel,
                                      std::int64_t replay_from) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartArray();
  writer.StartObject();
  writer.Key("channel");
  writer.String("/meta/subscribe");
  writer.Key("clientId");
  writer.String(client_id.data(), static_cast<rapidjson::SizeType>(client_id.size()));
  writer.Key("subscription");
  writer.String(channel.data(), static_cast<rapidjson::SizeType>(channel.size()));
  writer.Key("ext");
  writer.StartObject();
  writer.Key("replay");
  writer.StartObject();
  writer.Key(channel.data(), static_cast<rapidjson::SizeType>(channel.size()));
  writer.Int64(replay_from);
  writer.EndObject();
  writer.EndObject();
  writer.Key("id");
  writer.String(next_id());
  writer.EndObject();
  writer.EndArray();
  return buffer.GetString();
}

std::string RequestBuilder::connect(std::string_view client_id) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartArray();
  writer.StartObject();
  writer.Key("channel");
  writer.String("/meta/connect");
  writer.Key("clientId");
  writer.String(client_id.data(), static_cast<rapidjson::SizeType>(client_id.size()));
  writer.Key("connectionType");
  writer.String("long-polling");
  writer.Key("id");
  writer.String(next_id());
  writer.EndObject();
  writer.EndArray();
  return buffer.GetString();
}

std::string RequestBuilder::disconnect(std::string_view client_id) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartArray();
  writer.StartObject();
  writer.Key("channel");
  writer.String("/meta/disconnect");
  writer.Key("clientId");
  writer.String(client_id.data(), static_cast<rapidjson::SizeType>(client_id.size()));
  writer.Key("id");
  writer.String(next_id());
  writer.EndObject();
  writer.EndArray();
  return buffer.GetString();
}

// ---- responses ----

core::Result<Decoded> decode_response(std::string_view body) {
  rapidjson::Document doc;
  rapidjson::MemoryStream memory(body.data(), body.size());
  EventTextRecorder::Stream stream(memory);
  EventTextRecorder recorder(doc, stream, body);
  rapidjson::Reader reader;
  auto parse = [&](rapidjson::Document&) {
    return static_cast<bool>(reader.Parse<kParseFlags>(stream, recorder));
  };
  doc.Populate(parse);
  if (reader.HasParseError()) {
    return core::Error{core::ErrorKind::kInvalidInput,
                       std::string("response is not valid JSON (") +
                           rapidjson::GetParseError_En(reader.GetParseErrorCode()) + " at offset " +
                           std::to_string(reader.GetErrorOffset()) + "): " + snippet(body)};
  }
  const std::vector<EventText> texts = recorder.take();
  if (!doc.IsArray()) {
    return core::Error{core::ErrorKind::kInvalidInput,
                       "response is not a JSON array of Bayeux messages: " + snippet(body)};
  }
  Decoded decoded;
  decoded.messages.reserve(doc.Size());
  std::size_t index = 0;
  for (const auto& element : doc.GetArray()) {
    Message message;
    // One text per element; should the counts ever disagree, the values are re-serialised.
    const EventText text = index < texts.size() ? texts[index] : EventText{};
    if (auto reason = decode_message(element, text, message)) {
      ++decoded.malformed_count;
      if (decoded.malformed.size() < kMaxMalformedDetails) {
        decoded.malformed.push_back({index, std::move(*reason), element_snippet(element)});
      }
    } else {
      decoded.messages.push_back(std::move(message));
    }
    ++index;
  }
  return decoded;
}

std::string snippet(std::string_view text) {
  // Redact a window somewhat larger than what is kept, so a secret that straddles the cut is
  // still recognised as a whole; redacting a 10 MB body in full would be needlessly slow.
  std::string redacted = core::redact_text(text.substr(0, 2 * kMaxSnippet));
  if (redacted.size() <= kMaxSnippet && text.size() <= 2 * kMaxSnippet) {
    return redacted;
  }
  std::size_t cut = std::min(redacted.size(), kMaxSnippet);
  // Step back over UTF-8 continuation bytes so the excerpt stays valid text.
  while (cut > 0 && (static_cast<unsigned char>(redacted[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  redacted.resize(cut);
  return redacted + "...";
}

int error_code(std::string_view error) {
  const auto separator = error.find("::");
  if (separator == std::string_view::npos || separator == 0 || separator > 3) {
    return 0;
  }
  int code = 0;
  for (const char c : error.substr(0, separator)) {
    if (c < '0' || c > '9') {
      return 0;
    }
    code = code * 10 + (c - '0');
  }
  return code;
}

bool is_unknown_client(std::string_view text) {
  return error_code(text) == 403 && contains(text, "Unknown client");
}
bool is_authentication_error(std::string_view text) {
  return error_code(text) == 401;
}
bool is_server_busy(std::string_view text) {
  return error_code(text) == 503 || contains(text, "503::");
}
bool is_daily_limit(std::string_view text) {
  return contains(text, "daily limit exceeded");
}
bool is_invalid_replay_id(std::string_view text) {
  return error_code(text) == 400 && contains(text, "you provided was invalid");
}

}  // namespace sfkb::salesforce::bayeux
