#pragma once
// A bounded FIFO between two pipeline stages: push() blocks while full, pop() blocks while empty,
// both on condition variables (no spinning). close() ends the stream after the queued items;
// abort() wakes everyone at once and drops what is queued.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <utility>

namespace pipecut {

enum class QueueStatus { kOk, kClosed, kAborted };

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // kOk, or kAborted (the item is dropped). Pushing after close() is the caller's bug: the item
  // is queued anyway and delivered before the end.
  QueueStatus push(T&& item) {
    {
      std::unique_lock lock(mutex_);
      not_full_.wait(lock, [&] { return aborted_ || items_.size() < capacity_; });
      if (aborted_) return QueueStatus::kAborted;
      items_.push_back(std::move(item));
      if (items_.size() > peak_) peak_ = items_.size();
    }
    not_empty_.notify_one();
    return QueueStatus::kOk;
  }

  // kOk with the oldest item, kClosed once closed and empty, or kAborted.
  QueueStatus pop(T& item) {
    {
      std::unique_lock lock(mutex_);
      not_empty_.wait(lock, [&] { return aborted_ || closed_ || !items_.empty(); });
      if (aborted_) return QueueStatus::kAborted;
      if (items_.empty()) return QueueStatus::kClosed;
      item = std::move(items_.front());
      items_.pop_front();
    }
    not_full_.notify_one();
    return QueueStatus::kOk;
  }

  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    not_empty_.notify_all();
  }

  void abort() {
    std::deque<T> dropped;  // destroyed outside the lock
    {
      std::lock_guard lock(mutex_);
      aborted_ = true;
      dropped.swap(items_);
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  size_t peak() const {
    std::lock_guard lock(mutex_);
    return peak_;
  }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  size_t peak_ = 0;
  bool closed_ = false, aborted_ = false;
};

}  // namespace pipecut
