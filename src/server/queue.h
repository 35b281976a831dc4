// BoundedQueue: the inbound queue between the network I/O threads (many
// producers) and the engine thread (one consumer).
//
// Back-pressure is a value, not a wait: try_push() on a full queue returns
// false at once, and the caller answers 503. A producer never blocks on the
// consumer, so one slow engine cannot stall the I/O threads, and the queue
// never grows past its capacity.
//
// The consumer takes everything queued at once (drain), which is what forms
// the journal's group-commit batches naturally: the longer a sync takes, the
// more work is waiting for the next batch.
//
// Thread-safety: try_push from any thread; drain/close from one consumer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace stox::server {

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  // False if the queue is full or closed; `item` is then left untouched.
  bool try_push(T&& item) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_ || items_.size() >= capacity_) return false;
      items_.push_back(std::move(item));
      wake = waiting_;
    }
    if (wake) ready_.notify_one();
    return true;
  }

  // Swaps every queued item into *out (cleared first), waiting up to
  // `timeout` for the first one. Returns false once closed and empty.
  bool drain(std::vector<T>* out, std::chrono::milliseconds timeout) {
    out->clear();
    std::unique_lock lock(mutex_);
    if (items_.empty() && !closed_) {
      waiting_ = true;
      ready_.wait_for(lock, timeout, [&] { return !items_.empty() || closed_; });
      waiting_ = false;
    }
    out->swap(items_);  // the two vectors trade buffers: no allocation once warm
    return !(closed_ && out->empty());
  }

  // Producers are refused from now on; what is queued can still be drained.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<T> items_;
  bool waiting_ = false;
  bool closed_ = false;
};

}  // namespace stox::server
