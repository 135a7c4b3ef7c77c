#pragma once
// Several EventSources as one, for a configuration whose channels use different APIs (CometD for
// some, the Pub/Sub API for others: subscribe[].api). The subscribe pipeline keeps driving one
// source from one thread; here each inner source runs on a thread of its own and hands over one
// batch at a time: an inner source pulls again only after the pipeline took its previous batch,
// so memory holds at most one batch per source beyond what each source bounds itself
// (docs/ARCHITECTURE.md "The Pub/Sub API source").

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "daemon/salesforce/event_source.h"

namespace sfkb::salesforce {

class MergedSource final : public EventSource {
 public:
  // Starts pulling at the first next_batch() (after the pipeline's reconciliation).
  explicit MergedSource(std::vector<std::unique_ptr<EventSource>> sources);
  ~MergedSource() override;
  MergedSource(const MergedSource&) = delete;
  MergedSource& operator=(const MergedSource&) = delete;

  // The batches the inner sources delivered since the last call (waits up to the first one). A
  // kFatal error of any inner source ends the merged source too.
  core::Status next_batch(std::stop_token stop, std::vector<StreamEvent>& out) override;
  // True when every inner source is connected.
  bool connected() const override;
  // Stops the pulling threads, then disconnects every inner source.
  void disconnect() override;

 private:
  struct Slot {
    std::unique_ptr<EventSource> source;
    std::vector<StreamEvent> batch;  // delivered, not yet taken
    bool full = false;
  };
  void pull(std::stop_token stop, Slot& slot);
  void stop_pulling();

  std::vector<std::unique_ptr<Slot>> slots_;
  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::optional<core::Error> fatal_;
  std::stop_source stop_;
  std::vector<std::jthread> threads_;
  bool started_ = false;
  bool disconnected_ = false;
};

}  // namespace sfkb::salesforce
