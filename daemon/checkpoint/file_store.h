#pragma once
// Checkpoints in one small versioned JSON file per bridge (docs/ARCHITECTURE.md §4):
//   {"version":2,"channels":{"/event/X__e":{"replay_id":N,"updated":"...","partition":P,
//                                          "epoch":E,"org_id":"00D..."}}}
// Version 2 added the optional "epoch" and "org_id"; version 1 files still load (epoch 0, org
// unknown). A build that only knows version 1 refuses a version 2 file instead of misreading it.
// "replay_id" is a CometD position (core::ReplayId), a JSON integer; an opaque position has no
// encoding in this version: save() refuses it (kFatal), and carrying one will be version 3.
// The file is written to a temporary file beside it, fsync'd, renamed over the old file, and the
// directory fsync'd so the rename itself survives a power cut.

#include <string>

#include "daemon/checkpoint/store.h"

namespace sfkb::checkpoint {

inline constexpr int kFileFormatVersion = 2;
inline constexpr int kOldestFileFormatVersion = 1;
inline constexpr const char* kDefaultFileName = "checkpoints.json";

class FileStore final : public CheckpointStore {
 public:
  explicit FileStore(std::string directory, std::string file_name = kDefaultFileName);

  core::Result<Checkpoints> load() override;
  // Creates the directory when missing. Failures are kRetry: the next interval tries again and
  // the previous file stays intact.
  core::Status save(const Checkpoints& checkpoints) override;
  std::string location() const override { return path_; }

 private:
  std::string directory_;
  std::string path_;
};

// The file format on its own, for tests and the `checkpoints` command. Every position must be a
// CometD one (std::logic_error otherwise; save() checks first).
std::string encode_checkpoints(const Checkpoints& checkpoints);
// `origin` names the file in error messages.
core::Result<Checkpoints> decode_checkpoints(const std::string& text, const std::string& origin);

// One channel's entry on its own, the value of a checkpoint topic's record (checkpoint.store:
// kafka): the file's entry object with the format version in it, e.g.
//   {"version":2,"replay_id":N,"updated":"...","partition":P,"epoch":E,"org_id":"00D..."}
// Same CometD-only rule as encode_checkpoints. `origin` names the record in error messages.
std::string encode_checkpoint_entry(const ChannelCheckpoint& checkpoint);
core::Result<ChannelCheckpoint> decode_checkpoint_entry(const std::string& text,
                                                        const std::string& channel,
                                                        const std::string& origin);

}  // namespace sfkb::checkpoint
