// alloc_counter.cpp - replaces global operator new/delete with counting versions (a size header
// in front of each block); linked only into test binaries that measure memory bounds.
#include "alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_peak{0};
constexpr size_t kHeader = 16;  // keeps malloc's 16-byte alignment

void *counted_alloc(size_t n) {
  void *p = std::malloc(n + kHeader);
  if (p == nullptr) return nullptr;
  *static_cast<size_t *>(p) = n;
  int64_t now = g_live.fetch_add(static_cast<int64_t>(n)) + static_cast<int64_t>(n);
  int64_t peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
  return static_cast<char *>(p) + kHeader;
}

void counted_free(void *p) noexcept {
  if (p == nullptr) return;
  char *block = static_cast<char *>(p) - kHeader;
  g_live.fetch_sub(static_cast<int64_t>(*reinterpret_cast<size_t *>(block)));
  std::free(block);
}

}  // namespace

void *operator new(size_t n) {
  void *p = counted_alloc(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void *operator new[](size_t n) {
  return operator new(n);
}
void *operator new(size_t n, const std::nothrow_t &) noexcept {
  return counted_alloc(n);
}
void *operator new[](size_t n, const std::nothrow_t &) noexcept {
  return counted_alloc(n);
}
void operator delete(void *p) noexcept {
  counted_free(p);
}
void operator delete[](void *p) noexcept {
  counted_free(p);
}
void operator delete(void *p, size_t) noexcept {
  counted_free(p);
}
void operator delete[](void *p, size_t) noexcept {
  counted_free(p);
}
void operator delete(void *p, const std::nothrow_t &) noexcept {
  counted_free(p);
}
void operator delete[](void *p, const std::nothrow_t &) noexcept {
  counted_free(p);
}

namespace avsink::test {

int64_t live_bytes() {
  return g_live.load();
}

PeakAlloc::PeakAlloc() : start_(g_live.load()) {
  g_peak.store(start_);
}

int64_t PeakAlloc::peak() const {
  return g_peak.load() - start_;
}

}  // namespace avsink::test
