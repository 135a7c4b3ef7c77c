#include "daemon/checkpoint/file_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sfkb::checkpoint {
namespace {

std::string errno_text(int error) {
  return std::strerror(error);
}

// Owns a file descriptor; closing is the only cleanup a failed write path needs.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }
  int release_and_close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

bool write_all(int fd, const std::string& data) {
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

// `where`: "checkpoint file PATH", or the record of a checkpoint topic.
core::Error unusable(const std::string& where, const std::string& why) {
  return core::fatal_error(where + " is unusable: " + why +
                           " (fix or remove it; the bridge will not guess a resume point)");
}

core::Error corrupt(const std::string& origin, const std::string& why) {
  return unusable("checkpoint file " + origin, why);
}

// `version` > 0: the entry stands alone (a checkpoint topic's record) and says its format.
template <typename Writer>
void write_entry(Writer& writer, const ChannelCheckpoint& checkpoint, int version = 0) {
  writer.StartObject();
  if (version > 0) {
    writer.Key("version");
    writer.Int(version);
  }
  writer.Key("replay_id");
  if (checkpoint.replay_id.is_cometd()) {
    writer.Int64(checkpoint.replay_id.number());
  } else {
    const std::string text = checkpoint.replay_id.text();
    writer.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
  }
  writer.Key("updated");
  writer.String(checkpoint.updated.c_str(),
                static_cast<rapidjson::SizeType>(checkpoint.updated.size()));
  if (checkpoint.partition) {
    writer.Key("partition");
    writer.Int(*checkpoint.partition);
  }
  if (checkpoint.epoch > 0) {
    writer.Key("epoch");
    writer.Uint(checkpoint.epoch);
  }
  if (!checkpoint.org_id.empty()) {
    writer.Key("org_id");
    writer.String(checkpoint.org_id.c_str(),
                  static_cast<rapidjson::SizeType>(checkpoint.org_id.size()));
  }
  writer.EndObject();
}

// One channel's entry (an object): {"replay_id":N,"updated":"...","partition":P,"epoch":E,
// "org_id":"00D..."}.
// `version`: the format the entry was written in (3 and later: opaque replay IDs as base64).
core::Result<ChannelCheckpoint> read_entry(const rapidjson::Value& entry,
                                           const std::string& channel, const std::string& where,
                                           int version) {
  const auto corrupt = [&where](const std::string&, const std::string& why) {
    return unusable(where, why);
  };
  const std::string& origin = where;
  auto replay = entry.FindMember("replay_id");
  ChannelCheckpoint checkpoint;
  if (replay != entry.MemberEnd() && replay->value.IsInt64()) {
    checkpoint.replay_id = core::ReplayId::cometd(replay->value.GetInt64());
  } else if (replay != entry.MemberEnd() && replay->value.IsString() && version >= 3) {
    auto parsed = core::ReplayId::parse(
        core::ReplayId::Kind::kOpaque,
        std::string_view(replay->value.GetString(), replay->value.GetStringLength()));
    if (!parsed) {
      return corrupt(origin,
                     "channels[\"" + channel +
                         "\"].replay_id is not an opaque replay ID: " + parsed.error().message);
    }
    checkpoint.replay_id = std::move(parsed).value();
  } else {
    return corrupt(origin, "channels[\"" + channel + "\"].replay_id is not " +
                               (version >= 3 ? "an integer or a base64 string" : "an integer"));
  }
  auto updated = entry.FindMember("updated");
  if (updated != entry.MemberEnd() && updated->value.IsString()) {
    checkpoint.updated.assign(updated->value.GetString(), updated->value.GetStringLength());
  }
  // Optional: files written before partitions were pinned have none.
  if (auto partition = entry.FindMember("partition"); partition != entry.MemberEnd()) {
    if (!partition->value.IsInt() || partition->value.GetInt() < 0) {
      return corrupt(origin, "channels[\"" + channel + "\"].partition is not a partition number");
    }
    checkpoint.partition = partition->value.GetInt();
  }
  // Optional (version 2): absent in older files.
  if (auto epoch = entry.FindMember("epoch"); epoch != entry.MemberEnd()) {
    if (!epoch->value.IsUint()) {
      return corrupt(origin, "channels[\"" + channel + "\"].epoch is not a non-negative integer");
    }
    checkpoint.epoch = epoch->value.GetUint();
  }
  if (auto org = entry.FindMember("org_id"); org != entry.MemberEnd()) {
    if (!org->value.IsString()) {
      return corrupt(origin, "channels[\"" + channel + "\"].org_id is not a string");
    }
    checkpoint.org_id.assign(org->value.GetString(), org->value.GetStringLength());
  }
  return checkpoint;
}

}  // namespace

std::string utc_now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto seconds = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buffer, static_cast<int>(millis));
  return out;
}

std::string encode_checkpoints(const Checkpoints& checkpoints) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  writer.StartObject();
  const bool any_opaque =
      std::any_of(checkpoints.begin(), checkpoints.end(),
                  [](const auto& entry) { return !entry.second.replay_id.is_cometd(); });
  writer.Key("version");
  writer.Int(any_opaque ? kFileFormatVersion : kCometdOnlyFileFormatVersion);
  writer.Key("channels");
  writer.StartObject();
  for (const auto& [channel, checkpoint] : checkpoints) {
    writer.Key(channel.c_str(), static_cast<rapidjson::SizeType>(channel.size()));
    write_entry(writer, checkpoint);
  }
  writer.EndObject();
  writer.EndObject();
  std::string out(buffer.GetString(), buffer.GetSize());
  out += '\n';
  return out;
}

core::Result<Checkpoints> decode_checkpoints(const std::string& text, const std::string& origin) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    return corrupt(origin, std::string("not JSON (") +
                               rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                               std::to_string(doc.GetErrorOffset()) + ")");
  }
  if (!doc.IsObject()) {
    return corrupt(origin, "not a JSON object");
  }
  auto version = doc.FindMember("version");
  if (version == doc.MemberEnd() || !version->value.IsInt()) {
    return corrupt(origin, "no integer \"version\"");
  }
  if (version->value.GetInt() < kOldestFileFormatVersion ||
      version->value.GetInt() > kFileFormatVersion) {
    return corrupt(origin, "unknown version " + std::to_string(version->value.GetInt()) +
                               " (this build reads versions " +
                               std::to_string(kOldestFileFormatVersion) + " to " +
                               std::to_string(kFileFormatVersion) + ")");
  }
  auto channels = doc.FindMember("channels");
  if (channels == doc.MemberEnd() || !channels->value.IsObject()) {
    return corrupt(origin, "no \"channels\" object");
  }
  Checkpoints out;
  for (const auto& member : channels->value.GetObject()) {
    std::string channel(member.name.GetString(), member.name.GetStringLength());
    if (!member.value.IsObject()) {
      return corrupt(origin, "channels[\"" + channel + "\"] is not an object");
    }
    auto checkpoint =
        read_entry(member.value, channel, "checkpoint file " + origin, version->value.GetInt());
    if (!checkpoint) {
      return checkpoint.error();
    }
    out.emplace(std::move(channel), std::move(checkpoint).value());
  }
  return out;
}

std::string encode_checkpoint_entry(const ChannelCheckpoint& checkpoint) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  // Like the file: version 2 while the position is CometD's, so older builds still read it.
  write_entry(writer, checkpoint,
              checkpoint.replay_id.is_cometd() ? kCometdOnlyFileFormatVersion : kFileFormatVersion);
  return std::string(buffer.GetString(), buffer.GetSize());
}

core::Result<ChannelCheckpoint> decode_checkpoint_entry(const std::string& text,
                                                        const std::string& channel,
                                                        const std::string& origin) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return unusable(origin, "the entry of channel " + channel + " is not a JSON object");
  }
  auto version = doc.FindMember("version");
  if (version == doc.MemberEnd() || !version->value.IsInt() ||
      version->value.GetInt() < kOldestFileFormatVersion ||
      version->value.GetInt() > kFileFormatVersion) {
    return unusable(origin, "the entry of channel " + channel +
                                " has no known \"version\" (this "
                                "build reads versions " +
                                std::to_string(kOldestFileFormatVersion) + " to " +
                                std::to_string(kFileFormatVersion) + ")");
  }
  return read_entry(doc, channel, origin, version->value.GetInt());
}

FileStore::FileStore(std::string directory, std::string file_name)
    : directory_(std::move(directory)),
      path_((std::filesystem::path(directory_) / file_name).string()) {}

core::Result<Checkpoints> FileStore::load() {
  Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      return Checkpoints{};
    }
    return core::fatal_error("checkpoint file " + path_ + " cannot be read: " + errno_text(errno));
  }
  std::string content;
  char buffer[8192];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return core::fatal_error("checkpoint file " + path_ +
                               " cannot be read: " + errno_text(errno));
    }
    if (n == 0) {
      break;
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
  return decode_checkpoints(content, path_);
}

core::Status FileStore::save(const Checkpoints& checkpoints) {
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  if (ec) {
    return core::retry_error("cannot create checkpoint directory " + directory_ + ": " +
                             ec.message());
  }
  const std::string tmp = path_ + ".tmp";
  const std::string data = encode_checkpoints(checkpoints);
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
      return core::retry_error("cannot create " + tmp + ": " + errno_text(errno));
    }
    if (!write_all(fd.get(), data)) {
      int error = errno;
      ::unlink(tmp.c_str());
      return core::retry_error("cannot write " + tmp + ": " + errno_text(error));
    }
    // The data must be on disk before the rename makes it the checkpoint, else a power cut could
    // leave an empty file under the real name.
    if (::fsync(fd.get()) != 0 || fd.release_and_close() != 0) {
      int error = errno;
      ::unlink(tmp.c_str());
      return core::retry_error("cannot sync " + tmp + ": " + errno_text(error));
    }
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    int error = errno;
    ::unlink(tmp.c_str());
    return core::retry_error("cannot rename " + tmp + " to " + path_ + ": " + errno_text(error));
  }
  // The rename lives in the directory entry: sync the directory so it survives a crash too.
  Fd dir(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0 || ::fsync(dir.get()) != 0) {
    return core::retry_error("cannot sync directory " + directory_ + ": " + errno_text(errno));
  }
  return core::Status::ok();
}

}  // namespace sfkb::checkpoint
