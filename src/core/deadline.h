// deadline.h - the per-message scan deadline, checked by every stage that can take long.
// Built on the monotonic clock; a default-constructed Deadline never expires.
#pragma once

#include <chrono>
#include <cstdint>

namespace avsink {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  Deadline() = default;  // never expires
  static Deadline after_ms(uint64_t ms) {
    Deadline d;
    d.at_ = Clock::now() + std::chrono::milliseconds(ms);
    d.set_ = true;
    return d;
  }
  bool expired() const { return set_ && Clock::now() >= at_; }
  // Milliseconds left (0 when expired; UINT32_MAX-ish when unset).
  uint64_t remaining_ms() const {
    if (!set_) return 0xffffffffu;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at_ - Clock::now()).count();
    return left > 0 ? static_cast<uint64_t>(left) : 0;
  }

 private:
  Clock::time_point at_{};
  bool set_ = false;
};

}  // namespace avsink
