// scan_budget.cpp - admission of scans against the process-wide concurrency and memory bound.
// Invariant: the sum of admitted charges never exceeds max_bytes, except for one lone message.
#include "session/scan_budget.h"

namespace avsink::session {

ScanBudget::Ticket::~Ticket() {
  if (budget_ != nullptr) budget_->release(bytes_);
}

ScanBudget::Ticket ScanBudget::try_admit(uint64_t message_bytes, std::string *why,
                                         std::string *detail) {
  const uint64_t charge = message_bytes * kScanChargeFactor + kScanChargeFixedBytes;
  std::lock_guard<std::mutex> lock(mu_);
  Ticket t;
  if (scans_ >= max_scans_) {
    *why = "ConcurrentScans";
    *detail = std::to_string(scans_) + " scans in flight, max_concurrent_scans is " +
              std::to_string(max_scans_);
    return t;
  }
  if (scans_ > 0 && (charge > max_bytes_ || bytes_ > max_bytes_ - charge)) {
    *why = "MemoryBudget";
    *detail = "this message needs " + std::to_string(charge) + " bytes, " + std::to_string(bytes_) +
              " of memory_budget_bytes " + std::to_string(max_bytes_) + " are held by " +
              std::to_string(scans_) + " scans in flight";
    return t;
  }
  ++scans_;
  bytes_ += charge;
  t.budget_ = this;
  t.bytes_ = charge;
  return t;
}

void ScanBudget::release(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  --scans_;
  bytes_ -= bytes;
}

uint32_t ScanBudget::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scans_;
}

uint64_t ScanBudget::bytes_held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace avsink::session
