// policy.cpp - turns findings into one verdict by action precedence; builds SMTP replies.
// Reply texts are sanitised here: nothing from a message reaches the SMTP dialogue unescaped.
#include "policy/policy.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "util/text.h"

namespace avsink::policy {

namespace {

int rank(Action a) {
  switch (a) {
    case Action::kReject:
      return 5;
    case Action::kDiscard:
      return 4;
    case Action::kQuarantine:
      return 3;
    case Action::kTempfail:
      return 2;
    case Action::kRewrite:
      return 1;
    case Action::kAccept:
      return 0;
  }
  return 5;
}

// The action a finding asks for; nullopt = it decides nothing.
std::optional<Action> action_for(const Finding &f, const DefaultActions &c) {
  std::optional<Action> a = f.action;
  if (!a) {
    switch (f.kind) {
      case FindingKind::kVirus:
        a = c.virus;
        break;
      case FindingKind::kUnscannable:
        a = c.unscannable;
        break;
      case FindingKind::kEngineError:
        a = c.engine_error;
        break;
      case FindingKind::kBannedAttachment:
        a = c.banned;
        break;
      case FindingKind::kRule:
        a = Action::kReject;
        break;
      case FindingKind::kMalformed:
        return std::nullopt;
    }
  }
  // A strip needs a part to strip; whole-message findings fall back to reject.
  if (*a == Action::kRewrite && f.part_path.empty()) a = Action::kReject;
  return a;
}

std::string describe(const Finding &f) {
  std::string s = f.name;
  if (!f.filename.empty()) s += " in " + f.filename;
  if (!f.part_path.empty()) s += " (part " + f.part_path + ")";
  return s;
}

}  // namespace

DefaultActions::DefaultActions(const Config &config)
    : virus(config.virus_action),
      unscannable(config.unscannable_action),
      engine_error(config.engine_error_action),
      banned(config.banned_action) {}

std::string sanitize_reply_text(std::string_view text, size_t max_len) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= max_len) break;
    out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
  }
  return out;
}

namespace {

// A message kept only in part (whole-message kMessageBytesFinding).
bool not_whole(const Finding &f) {
  return f.name == kMessageBytesFinding && f.part_path.empty();
}

}  // namespace

Verdict decide(const Findings &findings, const DefaultActions &config) {
  Verdict v;
  v.findings = findings;

  // Whole or nothing: only a prefix was seen, so no other action is safe. Accepting would pass
  // unscanned bytes; a quarantine or a discard would keep or drop a copy that is not the message.
  // The refusal is permanent (552 5.3.4, "message too big for system", RFC 3463): the size does
  // not change on a retry, so a tempfail would only hold the sender's queue for days before the
  // same bounce. It is what Postfix answers past its own message_size_limit.
  for (const auto &f : findings) {
    if (!not_whole(f)) continue;
    v.action = Action::kReject;
    v.smtp_code = 552;
    v.enhanced_status = "5.3.4";
    v.text = "Message too big for this gateway";
    v.reason = sanitize_reply_text(f.name + (f.detail.empty() ? "" : " (" + f.detail + ")"), 2000);
    return v;
  }

  // Rule precedence (an allow rule overrides the block rules below it) is the rule engine's: an
  // allow rule's finding arrives alone. Here an accept decides nothing; the strictest action wins.
  Action best = Action::kAccept;
  std::vector<const Finding *> deciding;
  for (const auto &f : findings) {
    auto a = action_for(f, config);
    if (!a) continue;
    if (*a == Action::kAccept) continue;
    if (rank(*a) > rank(best)) {
      best = *a;
      deciding.clear();
    }
    if (*a == best) deciding.push_back(&f);
  }
  v.action = best;

  // The reply names the most telling cause: a virus before a banned file, before a rule, before
  // an unscannable part (the log reason still lists them all).
  auto telling = [](FindingKind k) {
    switch (k) {
      case FindingKind::kVirus:
        return 0;
      case FindingKind::kBannedAttachment:
        return 1;
      case FindingKind::kRule:
        return 2;
      case FindingKind::kUnscannable:
        return 3;
      default:
        return 4;
    }
  };
  std::stable_sort(deciding.begin(), deciding.end(), [&](const Finding *a, const Finding *b) {
    return telling(a->kind) < telling(b->kind);
  });
  std::string reason;
  for (const Finding *f : deciding) {
    if (!reason.empty()) reason += ", ";
    reason += describe(*f);
  }
  v.reason = reason.empty() ? "clean" : reason;
  const Finding *first = deciding.empty() ? nullptr : deciding.front();

  switch (best) {
    case Action::kReject: {
      v.smtp_code = 554;
      v.enhanced_status = "5.7.1";
      if (first->kind == FindingKind::kRule && !first->reply_text.empty())
        v.text = first->reply_text;
      else if (first->kind == FindingKind::kVirus)
        v.text = "Virus found: " + first->name;
      else if (first->kind == FindingKind::kBannedAttachment)
        v.text = "Attachment blocked by policy: " +
                 (first->filename.empty() ? first->name : first->filename);
      else if (first->kind == FindingKind::kUnscannable)
        v.text = "Message could not be scanned: " + first->name;
      else
        v.text = "Message rejected by policy";
      break;
    }
    case Action::kTempfail:
      v.smtp_code = 451;
      v.enhanced_status = "4.7.1";
      v.text = !first->reply_text.empty() ? first->reply_text
                                          : "Message could not be scanned now, try again later";
      break;
    case Action::kQuarantine:
    case Action::kDiscard:
    case Action::kRewrite:
    case Action::kAccept:
      v.smtp_code = 250;
      v.enhanced_status = "2.0.0";
      v.text = "OK";
      break;
  }
  v.text = sanitize_reply_text(v.text);
  v.reason = sanitize_reply_text(v.reason, 2000);
  if (best == Action::kRewrite)
    for (const Finding *f : deciding) v.strip.emplace_back(f->part_path, describe(*f));
  return v;
}

bool stricter(Action a, Action b) {
  return rank(a) > rank(b);
}

namespace {

bool ends_with_extension(const std::string &filename, const std::vector<std::string> &exts) {
  auto dot = filename.rfind('.');
  if (dot == std::string::npos) return false;
  const std::string ext = util::ascii_lower(filename.substr(dot + 1));
  return std::find(exts.begin(), exts.end(), ext) != exts.end();
}

}  // namespace

namespace {

// A message an operator released from the quarantine carries a mark only avsink can make (an
// HMAC over its content); it is still scanned and recorded, but not stopped again. Never for a
// message kept only in part.
void apply_release(Verdict &v, std::string_view id) {
  if (id.empty()) return;
  for (const auto &f : v.findings)
    if (not_whole(f)) return;
  v.reason = "released from quarantine " + std::string(id) + " (was: " + v.reason + ")";
  v.action = Action::kAccept;
  v.smtp_code = 250;
  v.enhanced_status = "2.0.0";
  v.text = "OK";
  v.strip.clear();
  v.headers.emplace_back("X-Avsink-Released", std::string(id));
}

Verdict decide_under(const Findings &findings, const DefaultActions &config,
                     const PolicySpec *spec) {
  if (spec == nullptr) return decide(findings, config);
  DefaultActions c = config;
  if (spec->virus_action) c.virus = *spec->virus_action;
  if (spec->unscannable_action) c.unscannable = *spec->unscannable_action;
  if (spec->engine_error_action) c.engine_error = *spec->engine_error_action;
  if (spec->banned_action) c.banned = *spec->banned_action;
  Findings deciding;
  deciding.reserve(findings.size());
  for (const Finding &f : findings) {
    if (f.kind == FindingKind::kBannedAttachment &&
        ends_with_extension(f.filename, spec->allow_extensions))
      continue;
    if (f.kind == FindingKind::kEngineError &&
        std::find(spec->optional_engines.begin(), spec->optional_engines.end(), f.inspector) !=
            spec->optional_engines.end())
      continue;
    deciding.push_back(f);
    if (f.kind == FindingKind::kBannedAttachment && spec->banned_action)
      deciding.back().action = *spec->banned_action;
  }
  Verdict v = decide(deciding, c);
  if (v.reason == "clean" && deciding.size() != findings.size())
    v.reason = "clean under policy " + spec->name;
  v.findings = findings;
  return v;
}

}  // namespace

Verdict decide(const Findings &findings, const DefaultActions &actions, const PolicySpec *spec,
               std::string_view released_from) {
  Verdict v = decide_under(findings, actions, spec);
  apply_release(v, released_from);
  return v;
}

}  // namespace avsink::policy
