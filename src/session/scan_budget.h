// scan_budget.h - the process-wide bound on scans in flight and on the bytes they may hold
// (#14 item 3): work beyond it is refused up front (the caller tempfails), never run into OOM.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace avsink::session {

// What one message is charged: kScanChargeFactor x its size (the per-message bound bench/ measures:
// decoded parts, readings and libclamav's copies) plus a fixed amount for everything else.
inline constexpr uint64_t kScanChargeFactor = 3;
inline constexpr uint64_t kScanChargeFixedBytes = 16ull << 20;

class ScanBudget {
 public:
  // max_scans: scans in flight at once (>= 1); max_bytes: the sum of their charges. A single
  // message charged more than max_bytes is admitted only when nothing else is in flight (its
  // size is already bounded by max_message_bytes), so every message can be scanned eventually.
  ScanBudget(uint32_t max_scans, uint64_t max_bytes)
      : max_scans_(max_scans), max_bytes_(max_bytes) {}

  // One admitted scan; gives its share back when destroyed. Move-only.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket &&o) noexcept : budget_(o.budget_), bytes_(o.bytes_) { o.budget_ = nullptr; }
    Ticket &operator=(Ticket &&) = delete;
    ~Ticket();
    bool admitted() const { return budget_ != nullptr; }

   private:
    friend class ScanBudget;
    ScanBudget *budget_ = nullptr;
    uint64_t bytes_ = 0;
  };

  // Thread-safe; never waits. Admitted: ticket.admitted(). Refused: *why names the bound
  // ("ConcurrentScans" or "MemoryBudget") and *detail says how full it is.
  Ticket try_admit(uint64_t message_bytes, std::string *why, std::string *detail);

  // For tests and info: scans and bytes currently held.
  uint32_t in_flight() const;
  uint64_t bytes_held() const;

 private:
  void release(uint64_t bytes);

  const uint32_t max_scans_;
  const uint64_t max_bytes_;
  mutable std::mutex mu_;
  uint32_t scans_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace avsink::session
