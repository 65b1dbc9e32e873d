// verdict.h - the decision for one message: action, SMTP reply, findings, headers, record.
// Built by policy::decide() and completed by the scan session (quarantine id, rewritten bytes).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/action.h"
#include "core/finding.h"

namespace avsink {

// What one recipient gets when the recipients of a message fall under different policies.
struct RecipientVerdict {
  std::string address;  // as the MTA gave it
  std::string policy;   // the [[policy]] name, "default" when none matched
  Action action = Action::kTempfail;
  int smtp_code = 451;
  std::string enhanced_status = "4.7.1";
  std::string text;
  std::string reason;
};

struct Verdict {
  Action action = Action::kTempfail;
  int smtp_code = 451;
  std::string enhanced_status = "4.7.1";
  std::string text = "Temporary failure, please try again later";
  std::string reason = "clean";  // one line for logs: the decisive findings
  Findings findings;             // every finding, decisive or not
  std::vector<std::pair<std::string, std::string>> headers;  // to add, CR/LF-free
  std::vector<std::pair<std::string, std::string>> strip;    // REWRITE: part path, why
  std::string quarantine_id;
  std::string rewritten;  // REWRITE: the new message
  std::string json;       // the structured record (one line)
  // The [[policy]] that decided the message ("default" = none; with recipients under several
  // policies, the one whose verdict is the message's: the strictest).
  std::string policy = "default";
  // One entry per envelope recipient, in envelope order (empty when the envelope had none).
  std::vector<RecipientVerdict> recipients;
};

}  // namespace avsink
