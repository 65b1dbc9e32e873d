// policy.h - the policy stage's whole interface: Findings + actions configured -> one Verdict.
// Pure function: no I/O, no parsing; the same findings always give the same verdict.
#pragma once

#include <string>
#include <string_view>

#include "core/config.h"
#include "core/finding.h"
#include "core/policy_spec.h"
#include "policy/verdict.h"

namespace avsink::policy {

// The default action of each finding kind: all decide() reads of the configuration. Converts
// implicitly from a Config ([actions] virus, unscannable, engine_error; [attachments] action).
struct DefaultActions {
  Action virus, unscannable, engine_error, banned;
  DefaultActions(const Config &config);  // NOLINT(google-explicit-constructor)
  DefaultActions(Action virus_, Action unscannable_, Action engine_error_, Action banned_)
      : virus(virus_), unscannable(unscannable_), engine_error(engine_error_), banned(banned_) {}
};

// Precedence (documented in docs/policy.md):
//  0. A message kept only in part (kMessageBytesFinding) is refused, 552 5.3.4, before anything
//     else: no action may take a prefix for the message (not an allow rule, not a quarantine).
//  1. Each finding gets an action: its own (finding.action, set by a rule or the attachment policy)
//     or the configured default for its kind (virus, unscannable, engine-error); kMalformed alone
//     decides nothing.
//  2. An allow rule (kRule with action accept) cancels other kRule findings, never a virus,
//     an unscannable part, a banned attachment or an engine error.
//  3. The strongest action wins: reject > discard > quarantine > tempfail > rewrite > accept.
//  4. REWRITE needs every deciding finding to name a part (a part can be stripped); otherwise the
//     finding's kind default applies (virus -> reject, banned -> reject).
// Thread-safety: reentrant.
Verdict decide(const Findings &findings, const DefaultActions &actions);

// decide() under a [[policy]] (spec may be null: the same as above). The policy's actions replace
// the configured defaults; its `banned` action replaces the action of every banned-attachment
// finding; banned-attachment findings whose filename ends in one of allow_extensions, and
// engine-error findings of optional_engines, decide nothing (they stay in v.findings, the record).
// released_from: the quarantine id of a valid release mark the message carries (the session
// checks the mark, quarantine::Store::use_release); "" = none. A released message is accepted
// whatever its findings ("released from quarantine ID (was: REASON)", header X-Avsink-Released),
// except one kept only in part (552 5.3.4 stays: the mark would vouch for bytes nobody scanned).
// Thread-safety: reentrant.
Verdict decide(const Findings &findings, const DefaultActions &actions, const PolicySpec *spec,
               std::string_view released_from = {});

// True when action `a` outranks `b` in the precedence order of decide() (step 3).
bool stricter(Action a, Action b);

// Strips CR, LF and other control characters so a message-derived string is safe in an SMTP
// reply or a header value (HOSTILE #49). Also caps the length.
std::string sanitize_reply_text(std::string_view text, size_t max_len = 400);

}  // namespace avsink::policy
