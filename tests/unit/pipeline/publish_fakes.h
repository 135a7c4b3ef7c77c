#pragma once
// In-memory peers of the publish pipeline for unit tests: a consumer over per-partition logs (with
// pause, commit and scripted rebalances), a dead-letter sink, and a composite REST endpoint on top
// of the salesforce FakeTransport. Thread-safe: the pipeline runs on its own thread.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "daemon/pipeline/publish_ports.h"
#include "daemon/salesforce/token_source.h"
#include "tests/unit/salesforce/fake_transport.h"

namespace sfkb::pipeline::testing {

class FakeConsumer final : public PublishConsumer {
 public:
  void append(const std::string& topic, int partition, std::optional<std::string> value,
              std::optional<std::string> key = std::nullopt) {
    std::lock_guard lock(mutex_);
    auto& log = logs_[{topic, partition}];
    log.push_back({topic, partition, static_cast<std::int64_t>(log.size()), std::move(key),
                   std::move(value)});
    cv_.notify_all();
  }
  // Partitions handed to the listener at the first poll().
  void assign_on_join(std::vector<TopicPartition> partitions) {
    std::lock_guard lock(mutex_);
    to_assign_ = std::move(partitions);
  }
  void revoke_on_next_poll(std::vector<TopicPartition> partitions) {
    std::lock_guard lock(mutex_);
    to_revoke_ = std::move(partitions);
  }

  core::Status subscribe(RebalanceListener& listener) override {
    std::lock_guard lock(mutex_);
    listener_ = &listener;
    return core::Status::ok();
  }

  core::Result<std::vector<SourceRecord>> poll(std::chrono::milliseconds timeout,
                                               std::size_t max_records,
                                               const std::set<TopicPartition>& full) override {
    std::unique_lock lock(mutex_);
    ++polls_;
    if (!joined_) {
      joined_ = true;
      for (const auto& tp : to_assign_) {
        assigned_.insert(tp);
      }
      auto partitions = to_assign_;
      lock.unlock();
      listener_->on_assigned(partitions);
      lock.lock();
    }
    if (!to_revoke_.empty()) {
      auto partitions = std::move(to_revoke_);
      to_revoke_.clear();
      lock.unlock();
      listener_->on_revoked(partitions);  // commits from inside, as librdkafka allows
      lock.lock();
      for (const auto& tp : partitions) {
        assigned_.erase(tp);
        revoked_.push_back(tp);
      }
    }
    std::vector<SourceRecord> out;
    cv_.wait_for(lock, timeout, [&] { return available(full) > 0; });
    for (bool progress = true; progress && out.size() < max_records;) {
      progress = false;
      for (const auto& tp : assigned_) {
        if (paused_.contains(tp) || full.contains(tp) || out.size() >= max_records) {
          continue;
        }
        auto& position = positions_[tp];
        const auto& log = logs_[tp];
        if (position < static_cast<std::int64_t>(log.size())) {
          out.push_back(log[static_cast<std::size_t>(position)]);
          ++position;
          progress = true;
        }
      }
    }
    return out;
  }

  void pause(const std::vector<TopicPartition>& partitions) override {
    std::lock_guard lock(mutex_);
    for (const auto& tp : partitions) {
      paused_.insert(tp);
    }
    ++pauses_;
  }
  void resume(const std::vector<TopicPartition>& partitions) override {
    std::lock_guard lock(mutex_);
    for (const auto& tp : partitions) {
      paused_.erase(tp);
    }
    ++resumes_;
  }
  core::Status commit(const std::map<TopicPartition, std::int64_t>& next_offsets, bool) override {
    std::lock_guard lock(mutex_);
    for (const auto& [tp, offset] : next_offsets) {
      committed_[tp] = offset;
      commit_log_.push_back({tp, offset});
    }
    return core::Status::ok();
  }
  void close() override {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }

  std::int64_t committed(const TopicPartition& tp) const {
    std::lock_guard lock(mutex_);
    auto it = committed_.find(tp);
    return it == committed_.end() ? -1 : it->second;
  }
  std::vector<std::pair<TopicPartition, std::int64_t>> commit_log() const {
    std::lock_guard lock(mutex_);
    return commit_log_;
  }
  int pauses() const {
    std::lock_guard lock(mutex_);
    return pauses_;
  }
  int resumes() const {
    std::lock_guard lock(mutex_);
    return resumes_;
  }
  bool paused(const TopicPartition& tp) const {
    std::lock_guard lock(mutex_);
    return paused_.contains(tp);
  }
  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  std::vector<TopicPartition> revoked() const {
    std::lock_guard lock(mutex_);
    return revoked_;
  }

 private:
  std::size_t available(const std::set<TopicPartition>& full) const {
    std::size_t n = 0;
    for (const auto& tp : assigned_) {
      auto it = logs_.find(tp);
      auto pos = positions_.find(tp);
      if (it != logs_.end() && !paused_.contains(tp) && !full.contains(tp)) {
        n +=
            it->second.size() - static_cast<std::size_t>(pos == positions_.end() ? 0 : pos->second);
      }
    }
    return n;
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  RebalanceListener* listener_ = nullptr;
  bool joined_ = false;
  std::vector<TopicPartition> to_assign_;
  std::vector<TopicPartition> to_revoke_;
  std::vector<TopicPartition> revoked_;
  std::set<TopicPartition> assigned_;
  std::set<TopicPartition> paused_;
  std::map<TopicPartition, std::vector<SourceRecord>> logs_;
  std::map<TopicPartition, std::int64_t> positions_;
  std::map<TopicPartition, std::int64_t> committed_;
  std::vector<std::pair<TopicPartition, std::int64_t>> commit_log_;
  int polls_ = 0;
  int pauses_ = 0;
  int resumes_ = 0;
  bool closed_ = false;
};

struct WrittenLetter {
  SourceRecord record;
  std::string error_code;
  std::string error_message;
};

class FakeDeadLetterSink final : public DeadLetterSink {
 public:
  core::Status write(const std::vector<DeadLetter>& letters, std::stop_token) override {
    std::lock_guard lock(mutex_);
    if (fail) {
      return core::fatal_error("delivery failed: broker says no");
    }
    for (const auto& letter : letters) {
      written_.push_back({*letter.record, letter.error_code, letter.error_message});
    }
    return core::Status::ok();
  }
  std::vector<WrittenLetter> written() const {
    std::lock_guard lock(mutex_);
    return written_;
  }
  bool fail = false;

 private:
  mutable std::mutex mutex_;
  std::vector<WrittenLetter> written_;
};

class StaticTokens final : public salesforce::TokenSource {
 public:
  core::Result<salesforce::Session> session(std::stop_token) override {
    return salesforce::Session{"token", "https://org.example.com", 1, "", ""};
  }
  core::Result<salesforce::Session> refresh(const salesforce::Session&, std::stop_token) override {
    return salesforce::Session{"token", "https://org.example.com", 2, "", ""};
  }
};

// A composite endpoint: records whose JSON has a member named Bad__c fail with INVALID_FIELD;
// `fail_next` requests get `fail_status`; every accepted record's JSON is kept in order.
class FakeSalesforce {
 public:
  sfkb::testing::FakeTransport::Handler handler() {
    return [this](const http::Request& request) -> core::Result<http::Response> {
      rapidjson::Document doc;
      doc.Parse(request.body.c_str());
      std::lock_guard lock(mutex_);
      ++requests_;
      if (doc.HasParseError() || !doc.HasMember("records")) {
        return sfkb::testing::json_response(
            400, R"([{"message":"bad body","errorCode":"JSON_PARSER_ERROR"}])");
      }
      const auto& records = doc["records"];
      batch_sizes_.push_back(records.Size());
      if (fail_after_ > 0) {
        --fail_after_;
      } else if (fail_next > 0) {
        --fail_next;
        return sfkb::testing::json_response(fail_status, fail_body);
      }
      if (reject_whole_request_with_bad && contains_bad(records)) {
        return sfkb::testing::json_response(
            400, R"([{"message":"No such column 'Bad__c'","errorCode":"INVALID_FIELD"}])");
      }
      std::string reply = "[";
      for (rapidjson::SizeType i = 0; i < records.Size(); ++i) {
        reply += i ? "," : "";
        const int n = records[i].HasMember("n") ? records[i]["n"].GetInt() : -1;
        if (auto busy = busy_.find(n); busy != busy_.end() && busy->second > 0) {
          --busy->second;
          reply +=
              R"({"success":false,"errors":[{"statusCode":"PLATFORM_EVENT_PUBLISHING_UNAVAILABLE","message":"Try again later","fields":[]}]})";
        } else if (records[i].HasMember("Bad__c")) {
          reply +=
              R"({"success":false,"errors":[{"statusCode":"INVALID_FIELD","message":"No such column 'Bad__c' on sobject of type E__e","fields":["Bad__c"]}]})";
        } else {
          reply += R"({"id":"e00","success":true,"errors":[]})";
          published_.push_back(records[i]["n"].GetInt());
        }
      }
      return sfkb::testing::json_response(200, reply + "]");
    };
  }
  std::vector<int> published() const {
    std::lock_guard lock(mutex_);
    return published_;
  }
  std::vector<unsigned> batch_sizes() const {
    std::lock_guard lock(mutex_);
    return batch_sizes_;
  }
  int requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  // The record {"n":n} gets a per-record TEMPORARY error the next `times` times it is sent.
  void busy(int n, int times) {
    std::lock_guard lock(mutex_);
    busy_[n] = times;
  }
  // Lets `after` requests through, then fails `count`.
  void fail_after_requests(int after, int count, long status) {
    fail(count, status);
    std::lock_guard lock(mutex_);
    fail_after_ = after;
  }
  void fail(int count, long status, std::string body = "") {
    std::lock_guard lock(mutex_);
    fail_next = count;
    fail_status = status;
    fail_body = std::move(body);
  }
  bool reject_whole_request_with_bad = false;

 private:
  static bool contains_bad(const rapidjson::Value& records) {
    for (const auto& r : records.GetArray()) {
      if (r.HasMember("Bad__c")) {
        return true;
      }
    }
    return false;
  }
  mutable std::mutex mutex_;
  int fail_next = 0;
  int fail_after_ = 0;
  long fail_status = 503;
  std::string fail_body;
  int requests_ = 0;
  std::vector<int> published_;
  std::vector<unsigned> batch_sizes_;
  std::map<int, int> busy_;
};

}  // namespace sfkb::pipeline::testing
