#pragma once

// Wire-level helpers for the emulator's own tests: a minimal Bayeux client that does exactly
// what it is told (no retries, no hidden cookie handling), so tests see every byte.

#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <httplib.h>
#include <rapidjson/document.h>

#include "emulator/emulator_process.h"

namespace sfkb::emulator::test {

using testing::EmulatorProcess;

inline rapidjson::Document parse(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  EXPECT_FALSE(doc.HasParseError()) << "not JSON: " << body;
  return doc;
}

inline std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsString()) {
    return {};
  }
  return v[key].GetString();
}

// A file name of its own for one test, removed again at scope exit. ctest runs every test as
// its own process in parallel, so a fixed name under TempDir() is shared between them.
class ScopedTempFile {
 public:
  explicit ScopedTempFile(const std::string& stem) {
    std::string pattern = (std::filesystem::temp_directory_path() / (stem + "-XXXXXX")).string();
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) {
      throw std::runtime_error("mkstemp " + pattern + ": " + std::strerror(errno));
    }
    ::close(fd);
    path_ = pattern;
  }
  ~ScopedTempFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  ScopedTempFile(const ScopedTempFile&) = delete;
  ScopedTempFile& operator=(const ScopedTempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline httplib::Client client_for(const EmulatorProcess& sf) {
  httplib::Client c(sf.host(), sf.port());
  c.set_read_timeout(std::chrono::seconds(30));
  return c;
}

// One CometD client session against the emulator.
class Bayeux {
 public:
  Bayeux(const EmulatorProcess& sf, std::string token, std::string version = "62.0")
      : http_(sf.host(), sf.port()), token_(std::move(token)), path_("/cometd/" + version) {
    http_.set_read_timeout(std::chrono::seconds(30));
  }

  // Sends a raw body; returns the response (status, headers, body). Adds the cookie when known.
  httplib::Result post(const std::string& body, bool with_cookie = true) {
    httplib::Headers headers;
    if (!token_.empty()) {
      headers.emplace("Authorization", auth_scheme_ + " " + token_);
    }
    if (with_cookie && !cookie_.empty()) {
      headers.emplace("Cookie", cookie_);
    }
    return http_.Post(path_.c_str(), headers, body, "application/json");
  }

  // Handshakes; on success remembers clientId and the BAYEUX_BROWSER cookie.
  rapidjson::Document handshake() {
    auto res = post(
        R"([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"id":"1"}])",
        false);
    EXPECT_TRUE(res);
    auto doc = parse(res->body);
    if (doc.IsArray() && doc.Size() == 1 && doc[0]["successful"].GetBool()) {
      client_id_ = doc[0]["clientId"].GetString();
      auto set_cookie = res->get_header_value("Set-Cookie");
      cookie_ = set_cookie.substr(0, set_cookie.find(';'));
    }
    return doc;
  }

  rapidjson::Document subscribe(const std::string& channel, const std::string& replay_ext) {
    std::string ext = replay_ext.empty() ? "" : R"(,"ext":{"replay":)" + replay_ext + "}";
    auto res = post(R"([{"channel":"/meta/subscribe","clientId":")" + client_id_ +
                    R"(","subscription":")" + channel + "\"" + ext + R"(,"id":"3"}])");
    EXPECT_TRUE(res);
    return parse(res->body);
  }

  rapidjson::Document subscribe(const std::string& channel, long long replay) {
    return subscribe(channel, R"({")" + channel + R"(":)" + std::to_string(replay) + "}");
  }

  httplib::Result connect_raw() {
    return post(R"([{"channel":"/meta/connect","clientId":")" + client_id_ +
                R"(","connectionType":"long-polling","id":"4"}])");
  }

  // The parsed connect reply: events first, the /meta/connect message last.
  rapidjson::Document connect() {
    auto res = connect_raw();
    EXPECT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    return parse(res->body);
  }

  const std::string& client_id() const { return client_id_; }
  const std::string& cookie() const { return cookie_; }
  void set_cookie(std::string c) { cookie_ = std::move(c); }
  void set_client_id(std::string id) { client_id_ = std::move(id); }
  // The Authorization scheme word ("Bearer" unless set; jsforce-era clients send "OAuth").
  void set_auth_scheme(std::string scheme) { auth_scheme_ = std::move(scheme); }
  httplib::Client& http() { return http_; }

 private:
  httplib::Client http_;
  std::string token_;
  std::string auth_scheme_ = "Bearer";
  std::string path_;
  std::string client_id_;
  std::string cookie_;
};

// The event messages of a connect reply (everything but /meta/ messages).
inline std::vector<const rapidjson::Value*> events_of(const rapidjson::Document& reply) {
  std::vector<const rapidjson::Value*> out;
  if (!reply.IsArray()) {
    return out;
  }
  for (const auto& m : reply.GetArray()) {
    if (str(m, "channel").rfind("/meta/", 0) != 0) {
      out.push_back(&m);
    }
  }
  return out;
}

inline const rapidjson::Value& meta_reply(const rapidjson::Document& reply) {
  return reply[reply.Size() - 1];
}

inline EmulatorProcess::Options with_args(std::vector<std::string> args) {
  EmulatorProcess::Options o;
  o.extra_args = std::move(args);
  return o;
}

}  // namespace sfkb::emulator::test
