// snapshot.h - Snapshot<T>: an immutable generation of T, built aside and swapped in atomically.
// Readers take a shared_ptr copy and keep using it; the old generation dies with its last reader.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

namespace avsink {

template <typename T>
class Snapshot {
 public:
  Snapshot() = default;
  explicit Snapshot(std::shared_ptr<const T> initial) : current_(std::move(initial)) {}

  // The current generation (may be null before the first publish). Thread-safe, wait-free for
  // practical purposes (a short critical section around a pointer copy).
  std::shared_ptr<const T> get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  // Publishes a new generation; returns its number (1 for the first). Thread-safe.
  uint64_t publish(std::shared_ptr<const T> next) {
    std::shared_ptr<const T> old;
    std::lock_guard<std::mutex> lock(mu_);
    old.swap(current_);
    current_ = std::move(next);
    return ++generation_;
    // `old` is released after the lock is dropped when it was the last reference.
  }
  uint64_t generation() const {
    std::lock_guard<std::mutex> lock(mu_);
    return generation_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const T> current_;
  uint64_t generation_ = 0;
};

}  // namespace avsink
