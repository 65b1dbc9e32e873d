// raw_pass_guard.h - keeps the raw-message libclamav pass from stalling on fields it is slow with.
// Invariant: the raw pass always runs on what it is given; only over-long MIME fields are cut.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace avsink::session {

// libclamav's mail parser splits Content-Type, Content-Transfer-Encoding and Content-Disposition
// values into words, rescanning from the start for every word: quadratic. A 230 KB folded CTE of
// one-letter words costs it 3.4 s (found by fuzz_scan), so one message could hold a core for
// seconds. Skipping the raw pass for such messages would hand an attacker a switch that turns it
// off (and that fuzz input hid EICAR that only the raw pass found), so the field is cut instead.
constexpr size_t kRawPassMaxMimeFieldBytes = 8192;

struct DefusedMessage {
  std::string bytes;  // the message with every such field cut after its first lines
  std::string why;    // the first field cut, for the log
};

// For the raw pass: nullopt when `raw` has no such field longer than kRawPassMaxMimeFieldBytes
// (with its folded lines), else a copy where each one keeps only the lines that fit. Looks at
// every line of the message, not only at the header blocks avsink's parser found: libclamav's
// parser may disagree about where a header block is. Linear; pure; thread-safe.
std::optional<DefusedMessage> defuse_for_raw_pass(std::string_view raw);

}  // namespace avsink::session
