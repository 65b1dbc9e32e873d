// policy_decide_test.cpp - findings -> verdict: precedence, defaults per kind, allow rules,
// replies. Table-driven; each case states the findings and the action/code it must produce.
#include <gtest/gtest.h>

#include "policy/policy.h"

namespace {

using avsink::Action;
using avsink::Finding;
using avsink::FindingKind;

Finding f(FindingKind kind, std::string name, std::string part = "1.2",
          std::optional<Action> action = std::nullopt) {
  Finding x;
  x.kind = kind;
  x.name = std::move(name);
  x.part_path = std::move(part);
  x.action = action;
  return x;
}

TEST(Policy, Precedence) {
  avsink::Config cfg;
  struct Case {
    const char *label;
    avsink::Findings in;
    Action want;
    int want_code;
  } cases[] = {
      {"nothing", {}, Action::kAccept, 250},
      {"malformed only", {f(FindingKind::kMalformed, "MIME.Malformed.X")}, Action::kAccept, 250},
      {"virus", {f(FindingKind::kVirus, "Eicar")}, Action::kReject, 554},
      {"unscannable",
       {f(FindingKind::kUnscannable, "Limits.Exceeded.Depth")},
       Action::kQuarantine,
       250},
      {"engine error", {f(FindingKind::kEngineError, "clamd")}, Action::kTempfail, 451},
      {"virus beats engine error",
       {f(FindingKind::kEngineError, "clamd"), f(FindingKind::kVirus, "Eicar")},
       Action::kReject,
       554},
      {"quarantine beats tempfail",
       {f(FindingKind::kEngineError, "clamd"), f(FindingKind::kUnscannable, "Enc")},
       Action::kQuarantine,
       250},
      // Which rule wins is the rule engine's precedence (an allow rule's finding arrives alone,
      // rules_engine_test PrecedenceAcrossFilesAndLines); decide() takes the strictest action.
      {"allow rule alone accepts",
       {f(FindingKind::kRule, "r2", "", Action::kAccept)},
       Action::kAccept,
       250},
      {"an accept beside a reject decides nothing",
       {f(FindingKind::kRule, "r1", "", Action::kReject),
        f(FindingKind::kRule, "r2", "", Action::kAccept)},
       Action::kReject,
       554},
      {"allow rule never cancels a virus",
       {f(FindingKind::kRule, "r2", "", Action::kAccept), f(FindingKind::kVirus, "Eicar")},
       Action::kReject,
       554},
      {"strip",
       {f(FindingKind::kBannedAttachment, "ext.exe", "1.2", Action::kRewrite)},
       Action::kRewrite,
       250},
      {"strip without part falls back to reject",
       {f(FindingKind::kBannedAttachment, "ext.exe", "", Action::kRewrite)},
       Action::kReject,
       554},
      {"reject beats strip",
       {f(FindingKind::kBannedAttachment, "a", "1.2", Action::kRewrite),
        f(FindingKind::kVirus, "Eicar")},
       Action::kReject,
       554},
      {"rule tempfail",
       {f(FindingKind::kRule, "r", "", Action::kTempfail)},
       Action::kTempfail,
       451},
      {"rule discard", {f(FindingKind::kRule, "r", "", Action::kDiscard)}, Action::kDiscard, 250},
  };
  for (const auto &c : cases) {
    auto v = avsink::policy::decide(c.in, cfg);
    EXPECT_EQ(v.action, c.want) << c.label << ": got " << to_string(v.action) << ", want "
                                << to_string(c.want);
    EXPECT_EQ(v.smtp_code, c.want_code) << c.label;
    EXPECT_EQ(v.findings.size(), c.in.size()) << c.label;
  }
}

TEST(Policy, RepliesNameTheCauseAndAreSanitised) {
  avsink::Config cfg;
  auto v = avsink::policy::decide({f(FindingKind::kVirus, "Eicar-Test-Signature")}, cfg);
  EXPECT_EQ(v.text, "Virus found: Eicar-Test-Signature");
  EXPECT_EQ(v.enhanced_status, "5.7.1");
  Finding r = f(FindingKind::kRule, "outbreak", "", Action::kReject);
  r.reply_text = "Outbreak\r\n250 fake";
  v = avsink::policy::decide({r}, cfg);
  EXPECT_EQ(v.text, "Outbreak  250 fake");
  EXPECT_EQ(v.reason.find('\n'), std::string::npos);
}

TEST(Policy, ConfiguredDefaultsApply) {
  avsink::Config cfg;
  cfg.unscannable_action = Action::kReject;
  cfg.virus_action = Action::kRewrite;
  auto v = avsink::policy::decide({f(FindingKind::kUnscannable, "Enc")}, cfg);
  EXPECT_EQ(v.action, Action::kReject);
  v = avsink::policy::decide({f(FindingKind::kVirus, "Eicar", "1.3")}, cfg);
  EXPECT_EQ(v.action, Action::kRewrite);
  ASSERT_EQ(v.strip.size(), 1u);
  EXPECT_EQ(v.strip[0].first, "1.3");
}

}  // namespace

// decide() under a [[policy]]: what each override changes, and what none can.
TEST(Policy, OverridesOfAPolicy) {
  avsink::Config cfg;
  avsink::PolicySpec lab;
  lab.name = "lab";
  lab.virus_action = Action::kAccept;
  lab.allow_extensions = {"exe"};
  lab.optional_engines = {"clamd"};
  avsink::PolicySpec strict;
  strict.name = "strict";
  strict.banned_action = Action::kQuarantine;
  auto banned = [](std::string file) {
    Finding x = f(FindingKind::kBannedAttachment, "Attachment.Extension", "1.2", Action::kReject);
    x.filename = std::move(file);
    return x;
  };
  auto engine_error = [](std::string engine) {
    Finding x = f(FindingKind::kEngineError, "Engine.Error." + engine);
    x.inspector = std::move(engine);
    return x;
  };
  Finding too_big = f(FindingKind::kUnscannable, std::string(avsink::kMessageBytesFinding), "");
  struct Case {
    const char *label;
    const avsink::PolicySpec *spec;
    avsink::Findings in;
    Action want;
  } cases[] = {
      {"no policy: virus rejected", nullptr, {f(FindingKind::kVirus, "Eicar")}, Action::kReject},
      {"lab: virus accepted", &lab, {f(FindingKind::kVirus, "Eicar")}, Action::kAccept},
      {"lab: .EXE allowed (any case)", &lab, {banned("SETUP.EXE")}, Action::kAccept},
      {"lab: .scr still banned", &lab, {banned("a.scr")}, Action::kReject},
      {"lab: clamd optional", &lab, {engine_error("clamd")}, Action::kAccept},
      {"lab: clamav still required", &lab, {engine_error("clamav")}, Action::kTempfail},
      {"strict: banned quarantined", &strict, {banned("a.scr")}, Action::kQuarantine},
      {"lab: size refusal is never overridden", &lab, {too_big}, Action::kReject},
  };
  for (const auto &c : cases) {
    auto v = avsink::policy::decide(c.in, cfg, c.spec);
    EXPECT_EQ(v.action, c.want) << c.label << ": got " << to_string(v.action);
    EXPECT_EQ(v.findings.size(), c.in.size()) << c.label << ": the record keeps every finding";
  }
  EXPECT_TRUE(avsink::policy::stricter(Action::kReject, Action::kQuarantine));
  EXPECT_FALSE(avsink::policy::stricter(Action::kAccept, Action::kRewrite));
}

// A valid release mark is an input of decide(): the message is accepted whatever it holds, and says
// so; never one kept only in part (the mark would vouch for bytes nobody scanned).
TEST(Policy, AReleaseMarkIsAnInputOfDecide) {
  avsink::Config cfg;
  const avsink::policy::DefaultActions actions(cfg);  // all decide() reads of the Config
  avsink::Findings virus = {f(FindingKind::kVirus, "Eicar"),
                            f(FindingKind::kBannedAttachment, "ext.exe", "1.3", Action::kRewrite)};
  auto v = avsink::policy::decide(virus, actions, nullptr, "0123abcd");
  EXPECT_EQ(v.action, Action::kAccept);
  EXPECT_EQ(v.smtp_code, 250);
  EXPECT_EQ(v.reason.rfind("released from quarantine 0123abcd (was: Eicar", 0), 0u) << v.reason;
  EXPECT_TRUE(v.strip.empty());
  ASSERT_EQ(v.headers.size(), 1u);
  EXPECT_EQ(v.headers[0].first, "X-Avsink-Released");
  EXPECT_EQ(v.headers[0].second, "0123abcd");
  EXPECT_EQ(v.findings.size(), 2u);  // still recorded
  // Without a mark: the same findings are refused.
  EXPECT_EQ(avsink::policy::decide(virus, actions, nullptr).action, Action::kReject);

  avsink::PolicySpec held;
  held.name = "held";
  held.virus_action = Action::kQuarantine;
  EXPECT_EQ(avsink::policy::decide(virus, actions, &held, "0123abcd").action, Action::kAccept);

  Finding partial = f(FindingKind::kUnscannable, std::string(avsink::kMessageBytesFinding), "");
  auto p = avsink::policy::decide({partial}, actions, nullptr, "0123abcd");
  EXPECT_EQ(p.action, Action::kReject);
  EXPECT_EQ(p.smtp_code, 552);
  EXPECT_TRUE(p.headers.empty());
}
