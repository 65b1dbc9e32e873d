// alloc_counter.h - counts the bytes live through global operator new, for tests that prove a
// memory bound (peak allocation during an operation) without timing or RSS noise.
#pragma once

#include <cstdint>

namespace avsink::test {

// Bytes currently allocated through operator new/new[] by this process (every thread).
int64_t live_bytes();

// Measures the peak of live_bytes() above its value at construction, until peak() is read.
// One measurement at a time per process (it resets the shared peak). Thread-safe counting.
class PeakAlloc {
 public:
  PeakAlloc();
  int64_t peak() const;  // highest live_bytes() seen since construction, minus the start value

 private:
  int64_t start_;
};

}  // namespace avsink::test
