// raw_pass_merge.h - folds the findings of libclamav's raw-message pass into those of the part
// pass. Invariant: nothing the raw pass reports as unscanned content is dropped; only its limit
// artefacts.
#pragma once

#include "core/finding.h"
#include "core/log.h"

namespace avsink::session {

// Appends to `out` (the part pass's findings) what the raw pass found (`whole`):
// - a virus name `out` already holds is not repeated;
// - a size or nesting limit the raw pass hits (Limits.Exceeded.*, Heuristics.Limits.Exceeded.*) is
//   dropped and logged at debug: the parts were scanned under the real limits, and the raw message
//   is bigger and one level deeper, so such a hit means the defense in depth was partial;
// - except Limits.Exceeded.MimeFieldLength: that content was held back from libclamav, not cut
//   short, and it may be content only libclamav's parser found, so it is kept (once).
// Everything else is kept. Pure apart from the log line; thread-safe if the logger is.
void merge_raw_pass_findings(Findings &out, Findings whole, const Logger &logger);

}  // namespace avsink::session
