// rules_engine_test.cpp - RuleEngine: every kind and pattern type, precedence across files, expiry,
// the spoofed-internal-sender finding, Mailsploit-style From, ReDoS, audit records, failed reloads.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/audit.h"
#include "core/sha256.h"
#include "mime/parser.h"
#include "rules/rule_engine.h"
#include "test_support.h"

namespace avsink::rules {
namespace {

// 2026-11-24T00:00:00Z: before every expires= in the fixtures.
constexpr int64_t kNow = 1795478400;

// Time bounds are multiplied by this under sanitizers (they slow matching ~5-10x).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr double kSlowdown = 10.0;
#else
constexpr double kSlowdown = 1.0;
#endif

// Replaces `path` atomically (temp file + rename), the way operators are told to deploy rules.
void write_file(const std::string &path, const std::string &content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
  }
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0) << path;
}

mime::MessageTree msg(const std::string &headers) {
  return mime::parse_message(headers + "\r\n\r\nbody\r\n", Limits{});
}

std::vector<std::string> rule_names(const Findings &fs) {
  std::vector<std::string> out;
  for (const Finding &f : fs)
    if (f.kind == FindingKind::kRule) out.push_back(f.name);
  return out;
}

std::string join(const std::vector<std::string> &v) {
  std::string s;
  for (const std::string &x : v) s += (s.empty() ? "" : ",") + x;
  return "[" + s + "]";
}

RulesOptions quiet(std::vector<std::string> files, std::vector<std::string> *log = nullptr) {
  RulesOptions o;
  o.files = std::move(files);
  o.watch = false;
  o.logger = Logger(
      [log](LogLevel, const std::string &line) {
        if (log) log->push_back(line);
      },
      LogLevel::kDebug);
  return o;
}

std::vector<nlohmann::json> audit_lines(const std::string &path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

class RulesEngineTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("avsink-rules-"); }
  void TearDown() override { (void)std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string file(const std::string &name, const std::string &content) {
    const std::string p = dir_ + "/" + name;
    write_file(p, content);
    return p;
  }
  std::string dir_;
};

TEST_F(RulesEngineTest, EveryKindAndPatternType) {
  auto engine = RuleEngine::open(quiet({test::data_path("rules/kinds.rules")}), nullptr);
  ASSERT_TRUE(engine.ok()) << engine.error().describe();
  EXPECT_EQ((*engine)->rule_count(), 22u);

  struct Case {
    std::string what;
    std::string headers;  // top-level header block
    Envelope env;
    std::vector<std::string> want;  // rule finding names, in precedence order
  };
  auto env = [](std::string client, std::string helo, std::string from,
                std::vector<std::string> rcpt) {
    Envelope e;
    e.client_address = std::move(client);
    e.helo = std::move(helo);
    e.mail_from = std::move(from);
    e.rcpt_to = std::move(rcpt);
    return e;
  };
  const Envelope plain = env("203.0.113.9", "mx.example.net", "a@example.net", {"u@corp.example"});
  const std::vector<Case> cases = {
      {"nothing", "Subject: hello", plain, {}},
      {"regex /i", "Subject: INVOICE 42 OVERDUE", plain, {"subj-re-i"}},
      {"regex anchored", "Subject: Invoice 42 overdue now", plain, {}},
      {"regex RFC 2047", "Subject: =?utf-8?q?Invoice_42_overdue?=", plain, {"subj-re-i"}},
      {"regex zero-width", "Subject: In\xE2\x80\x8Bvoice 1 overdue", plain, {"subj-re-i"}},
      {"regex NUL+tab", "Subject: =?utf-8?q?Invoice=00=0912_overdue?=", plain, {"subj-re-i"}},
      {"regex case-sensitive", "Subject: a CaseSensitive one", plain, {"subj-re-cs"}},
      {"regex case-sensitive miss", "Subject: a casesensitive one", plain, {}},
      {"literal", "Subject: Exact Subject", plain, {"subj-lit"}},
      {"literal whole value", "Subject: Exact Subject!", plain, {}},
      {"literal case", "Subject: exact subject", plain, {}},
      {"literal /i", "Subject: EXACT NOCASE", plain, {"subj-lit-i"}},
      {"glob", "Subject: you are a lottery winner", plain, {"subj-glob"}},
      {"glob case", "Subject: you are a LOTTERY WINNER", plain, {}},
      {"glob /i", "Subject: get FREE MONEY now", plain, {"subj-glob-i"}},
      {"iglob", "Subject: cheap PHARMA", plain, {"subj-iglob"}},
      {"header kind Subject", "Subject: via-header-kind", plain, {"hdr-subject"}},
      {"header-from regex", "From: Bob <bob@Bad-Sender.example>", plain, {"hfrom-re"}},
      {"header-from literal on address",
       "From: \"The CEO\" <CEO@victim.example>",
       plain,
       {"hfrom-lit"}},
      {"header-from not the display name",
       "From: \"ceo@victim.example\" <x@other.example>",
       plain,
       {}},
      {"envelope-from glob",
       "Subject: x",
       env("203.0.113.9", "mx", "<x@bounce.spam.example>", {}),
       {"efrom-glob"}},
      {"from = header", "From: a@both.example", plain, {"from-both"}},
      {"from = envelope",
       "Subject: x",
       env("203.0.113.9", "mx", "z@both.example", {}),
       {"from-both"}},
      {"rcpt literal /i",
       "Subject: x",
       env("203.0.113.9", "mx", "a@b", {"ok@corp.example", "HoneyPot@corp.example"}),
       {"rcpt-lit"}},
      {"rcpt glob",
       "Subject: x",
       env("203.0.113.9", "mx", "a@b", {"<trap-17@corp.example>"}),
       {"rcpt-glob"}},
      {"client v4 net", "Subject: x", env("192.0.2.55", "mx", "a@b", {}), {"client-v4"}},
      {"client v4 host", "Subject: x", env("198.51.100.7", "mx", "a@b", {}), {"client-v4-host"}},
      {"client v4 other host", "Subject: x", env("198.51.100.8", "mx", "a@b", {}), {}},
      {"client v4-mapped", "Subject: x", env("::ffff:192.0.2.1", "mx", "a@b", {}), {"client-v4"}},
      {"client v6", "Subject: x", env("2001:db8:bad:1::5", "mx", "a@b", {}), {"client-v6"}},
      {"client v6 bracketed",
       "Subject: x",
       env("[IPv6:2001:db8:bad::1]", "mx", "a@b", {}),
       {"client-v6"}},
      {"client v6 outside", "Subject: x", env("2001:db8:bae::1", "mx", "a@b", {}), {}},
      {"client unknown", "Subject: x", env("", "mx", "a@b", {}), {}},
      {"helo regex /i", "Subject: x", env("203.0.113.9", "LOCALHOST", "a@b", {}), {"helo-re"}},
      {"helo literal",
       "Subject: x",
       env("203.0.113.9", "bad.helo.example", "a@b", {}),
       {"helo-lit"}},
      {"header glob", "X-Mailer: The BadMailer 2.0", plain, {"hdr-glob"}},
      {"header name case", "x-mAILER: BadMailer", plain, {"hdr-glob"}},
      {"header literal", "X-Campaign: spam-1", plain, {"hdr-lit"}},
      {"header literal miss", "X-Campaign: spam-12", plain, {}},
      {"header regex", "X-Spam-Score: 12.5", plain, {"hdr-re"}},
      {"several, precedence order",
       "Subject: Exact Subject\r\nX-Mailer: BadMailer",
       env("192.0.2.1", "localhost", "a@b", {}),
       {"subj-lit", "client-v4", "helo-re", "hdr-glob"}},
  };
  for (const Case &c : cases) {
    Findings got = (*engine)->inspect(c.env, msg(c.headers), kNow);
    EXPECT_EQ(rule_names(got), c.want)
        << c.what << ": got " << join(rule_names(got)) << ", want " << join(c.want);
  }

  // What a finding carries.
  Findings f = (*engine)->inspect(plain, msg("Subject: Invoice 7 overdue"), kNow);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, FindingKind::kRule);
  EXPECT_EQ(f[0].inspector, "rules");
  EXPECT_EQ(f[0].action, Action::kReject);
  EXPECT_EQ(f[0].reply_text, "outbreak 2026-11");
  EXPECT_EQ(f[0].detail, "invoice outbreak");
  f = (*engine)->inspect(plain, msg("From: ceo@victim.example"), kNow);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].detail, "CEO fraud");
  f = (*engine)->inspect(plain, msg("Subject: lottery winner"), kNow);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].action, Action::kTempfail);
  EXPECT_EQ(f[0].reply_text, "try again later");
}

TEST_F(RulesEngineTest, UnnamedRuleIsFileAndLine) {
  auto e = RuleEngine::open(quiet({file("outbreak.rules", "# x\nsubject /x/ discard\n")}), nullptr);
  ASSERT_TRUE(e.ok());
  Findings f = (*e)->inspect(Envelope{}, msg("Subject: x"), kNow);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].name, "outbreak.rules:2");
  EXPECT_EQ(f[0].detail, "subject /x/ matched");
  EXPECT_EQ(f[0].action, Action::kDiscard);
}

TEST_F(RulesEngineTest, PrecedenceAcrossFilesAndLines) {
  const std::string local = file("local.rules",
                                 "subject /Urgent/ reject id=local-block\n"
                                 "subject /Partner/ accept id=local-allow\n");
  const std::string feed = file("feed.rules",
                                "subject /Partner|Invoice/ reject id=feed-block\n"
                                "subject /Invoice|Urgent/ quarantine id=feed-quarantine\n");
  auto lf = RuleEngine::open(quiet({local, feed}), nullptr);
  auto fl = RuleEngine::open(quiet({feed, local}), nullptr);
  ASSERT_TRUE(lf.ok() && fl.ok());
  struct Case {
    std::string subject;
    std::vector<std::string> local_first, feed_first;
  };
  const std::vector<Case> cases = {
      // An allow rule wins over everything below it ...
      {"Partner news", {"local-allow"}, {"feed-block"}},
      // ... but never over a block rule above it; block rules above the allow all report.
      {"Urgent Partner", {"local-block"}, {"feed-block", "feed-quarantine", "local-block"}},
      {"Invoice", {"feed-block", "feed-quarantine"}, {"feed-block", "feed-quarantine"}},
      {"Urgent", {"local-block", "feed-quarantine"}, {"feed-quarantine", "local-block"}},
      {"hello", {}, {}},
  };
  for (const Case &c : cases) {
    auto got_lf = rule_names((*lf)->inspect(Envelope{}, msg("Subject: " + c.subject), kNow));
    auto got_fl = rule_names((*fl)->inspect(Envelope{}, msg("Subject: " + c.subject), kNow));
    EXPECT_EQ(got_lf, c.local_first)
        << c.subject << " [local, feed]: got " << join(got_lf) << ", want " << join(c.local_first);
    EXPECT_EQ(got_fl, c.feed_first)
        << c.subject << " [feed, local]: got " << join(got_fl) << ", want " << join(c.feed_first);
  }
  Findings allow = (*lf)->inspect(Envelope{}, msg("Subject: Partner"), kNow);
  ASSERT_EQ(allow.size(), 1u);
  EXPECT_EQ(allow[0].action, Action::kAccept);
}

TEST_F(RulesEngineTest, ExpiredRuleNoLongerApplies) {
  const std::string p = file("exp.rules",
                             "subject /sale/ accept expires=2026-11-01 id=old-allow\n"
                             "subject /sale/ reject expires=2026-12-31 id=day\n"
                             "subject /sale/ quarantine expires=2026-12-01T12:00Z id=instant\n");
  auto e = RuleEngine::open(quiet({p}), nullptr);
  ASSERT_TRUE(e.ok());
  struct Case {
    int64_t now;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {1793491200 /* 2026-11-01T00:00Z */, {"old-allow"}},
      {1793577599 /* 2026-11-01T23:59:59Z */, {"old-allow"}},
      {1793577600 /* 2026-11-02T00:00Z: the allow rule expired */, {"day", "instant"}},
      {1796126399 /* 2026-12-01T11:59:59Z */, {"day", "instant"}},
      {1796126400 /* 2026-12-01T12:00:00Z */, {"day"}},
      {1798761599 /* 2026-12-31T23:59:59Z */, {"day"}},
      {1798761600 /* 2027-01-01T00:00:00Z */, {}},
  };
  for (const Case &c : cases) {
    auto got = rule_names((*e)->inspect(Envelope{}, msg("Subject: big sale"), c.now));
    EXPECT_EQ(got, c.want) << "now=" << c.now << ": got " << join(got) << ", want " << join(c.want);
  }
  EXPECT_EQ((*e)->rule_count(), 3u) << "expired rules stay loaded (and counted)";
}

// Issue 14 item 9: a rule whose expires= passed stopped applying without a word. Now the first
// inspect at or after the expiry logs it and audits "rules.expired", once per rule (not again on
// later messages, nor after a reload of the same file).
TEST_F(RulesEngineTest, ExpiryIsLoggedAndAuditedOncePerRule) {
  const std::string audit_path = dir_ + "/audit.jsonl";
  auto audit = AuditLog::open(audit_path);
  ASSERT_TRUE(audit.ok());
  const std::string p = file("exp.rules",
                             "subject /sale/ reject expires=2026-12-31 id=day\n"
                             "subject /sale/ quarantine expires=2026-12-01T12:00Z id=instant\n"
                             "subject /other/ reject id=forever\n");
  std::vector<std::string> log;
  auto e = RuleEngine::open(quiet({p}, &log), *audit);
  ASSERT_TRUE(e.ok());
  auto expired = [&] {
    std::vector<std::string> names;
    for (const auto &j : audit_lines(audit_path))
      if (j.value("event", "") == "rules.expired") names.push_back(j.value("rule", ""));
    return names;
  };
  auto logged = [&](const std::string &id) {
    size_t n = 0;
    for (const std::string &l : log) n += l.find("rule " + id + " expired at") != std::string::npos;
    return n;
  };
  const int64_t before = 1796126399, at_instant = 1796126400, after_all = 1798761600;
  (*e)->inspect(Envelope{}, msg("Subject: x"), before);
  EXPECT_EQ(join(expired()), "[]");
  (*e)->inspect(Envelope{}, msg("Subject: x"), at_instant);  // any message, matching or not
  EXPECT_EQ(join(expired()), "[instant]");
  EXPECT_EQ(logged("instant"), 1u);
  for (int i = 0; i < 3; ++i) (*e)->inspect(Envelope{}, msg("Subject: big sale"), at_instant + i);
  EXPECT_EQ(join(expired()), "[instant]") << "reported once";
  write_file(p, "# same rules, file rewritten\n" + std::string("subject /sale/ reject "
                                                               "expires=2026-12-31 id=day\n"));
  ASSERT_TRUE((*e)->reload().ok());
  (*e)->inspect(Envelope{}, msg("Subject: x"), after_all);
  EXPECT_EQ(join(expired()), "[instant,day]");
  EXPECT_EQ(logged("day"), 1u);
  EXPECT_EQ(logged("forever"), 0u);
  for (const auto &j : audit_lines(audit_path))
    if (j.value("event", "") == "rules.expired" && j.value("rule", "") == "day") {
      EXPECT_EQ(j.value("file", ""), p);
      EXPECT_EQ(j.value("expires", ""), "2027-01-01T00:00:00Z");
    }
}

TEST_F(RulesEngineTest, SpoofedInternalSenderOnlyFromOutside) {
  RulesOptions o = quiet({file("allow.rules",
                               "client 198.51.100.25 accept id=partner-relay  # partner sends "
                               "as us\n")});
  o.internal_domains = {"Corp.Example."};
  o.trusted_networks = {"10.0.0.0/8", "127.0.0.1/32", "2001:db8:1::/48"};
  auto e = RuleEngine::open(o, nullptr);
  ASSERT_TRUE(e.ok()) << e.error().describe();
  struct Case {
    std::string what;
    std::string client, auth, mail_from, headers;
    bool want_spoof;
  };
  const std::vector<Case> cases = {
      {"outside, header From", "203.0.113.9", "", "x@evil.example", "From: ceo@corp.example", true},
      {"outside, subdomain", "203.0.113.9", "", "x@evil.example", "From: a@mail.CORP.example",
       true},
      {"outside, envelope only", "203.0.113.9", "", "<ceo@corp.example>", "From: a@b.example",
       true},
      {"outside, display name", "203.0.113.9", "", "x@evil.example",
       "From: \"ceo@corp.example\" <x@evil.example>", true},
      {"outside, Mailsploit", "203.0.113.9", "", "x@evil.example",
       "From: =?utf-8?b?Y2VvQGNvcnAuZXhhbXBsZQ==?==?utf-8?Q?=00?=@evil.example", true},
      {"outside, second From", "203.0.113.9", "", "x@evil.example",
       "From: a@b.example\r\nFrom: ceo@corp.example", true},
      {"outside IPv6", "2001:db8:2::25", "", "", "From: ceo@corp.example", true},
      {"unknown client counts as outside", "", "", "", "From: ceo@corp.example", true},
      {"trusted network", "10.1.2.3", "", "ceo@corp.example", "From: ceo@corp.example", false},
      {"trusted host", "127.0.0.1", "", "", "From: ceo@corp.example", false},
      {"trusted IPv6", "2001:db8:1::25", "", "", "From: ceo@corp.example", false},
      {"trusted IPv6 bracketed", "[IPv6:2001:db8:1::25]", "", "", "From: ceo@corp.example", false},
      {"authenticated", "203.0.113.9", "alice", "ceo@corp.example", "From: ceo@corp.example",
       false},
      {"external sender", "203.0.113.9", "", "a@b.example", "From: a@b.example", false},
      {"look-alike domain", "203.0.113.9", "", "a@notcorp.example", "From: a@corp.example.evil",
       false},
      {"allow rule wins", "198.51.100.25", "", "", "From: ceo@corp.example", false},
  };
  for (const Case &c : cases) {
    Envelope env;
    env.client_address = c.client;
    env.auth_user = c.auth;
    env.mail_from = c.mail_from;
    Findings got = (*e)->inspect(env, msg(c.headers), kNow);
    const Finding *spoof = nullptr;
    for (const Finding &f : got)
      if (f.name == "Spoof.InternalSender") spoof = &f;
    EXPECT_EQ(spoof != nullptr, c.want_spoof)
        << c.what << ": got " << join(rule_names(got)) << ", want spoof=" << c.want_spoof;
    if (spoof) {
      EXPECT_EQ(spoof->kind, FindingKind::kRule);
      EXPECT_EQ(spoof->inspector, "rules");
      EXPECT_EQ(spoof->action, Action::kReject);
      EXPECT_NE(spoof->detail.find("corp.example"), std::string::npos) << spoof->detail;
    }
  }
  // spoof_action is the operator's; an empty internal_domains turns the check off.
  o.spoof_action = Action::kQuarantine;
  auto q = RuleEngine::open(o, nullptr);
  ASSERT_TRUE(q.ok());
  Envelope outside;
  outside.client_address = "203.0.113.9";
  Findings got = (*q)->inspect(outside, msg("From: ceo@corp.example"), kNow);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].action, Action::kQuarantine);
  o.internal_domains.clear();
  auto off = RuleEngine::open(o, nullptr);
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE((*off)->inspect(outside, msg("From: ceo@corp.example"), kNow).empty());
}

TEST_F(RulesEngineTest, MailsploitFromAndMultipleFrom) {
  const std::string p = file("ms.rules",
                             "header-from \"potus@whitehouse.example\"i reject id=lit\n"
                             "header-from /^potus@whitehouse\\.example$/ reject id=anchored\n"
                             "header-from /evil\\.example$/ quarantine id=real-domain\n");
  auto e = RuleEngine::open(quiet({p}), nullptr);
  ASSERT_TRUE(e.ok());
  // RFC 2047 word hiding an address, then an encoded NUL, then the real domain.
  Findings got = (*e)->inspect(
      Envelope{},
      msg("From: =?utf-8?b?cG90dXNAd2hpdGVob3VzZS5leGFtcGxl?==?utf-8?Q?=00?=@evil.example"), kNow);
  EXPECT_EQ(rule_names(got), (std::vector<std::string>{"lit", "anchored", "real-domain"}))
      << join(rule_names(got));

  got = (*e)->inspect(Envelope{},
                      msg("From: a@good.example\r\nFrom: POTUS@whitehouse.example\r\nSubject: x"),
                      kNow);
  EXPECT_EQ(rule_names(got), (std::vector<std::string>{"lit"})) << join(rule_names(got));
  bool multiple = false;
  for (const Finding &f : got)
    if (f.name == "Rules.MultipleFrom" && f.kind == FindingKind::kMalformed && !f.action)
      multiple = true;
  EXPECT_TRUE(multiple);
}

TEST_F(RulesEngineTest, PathologicalPatternRunsLinear) {
  const std::string p = file("redos.rules",
                             "subject /(a+)+$/ reject id=nested\n"
                             "subject /(a|aa)*b/ reject id=alt\n"
                             "subject /^(a|a?)+c$/ reject id=classic\n"
                             "header X-Long /(.*a){20}/ reject id=repeat\n");
  auto e = RuleEngine::open(quiet({p}), nullptr);
  ASSERT_TRUE(e.ok()) << e.error().describe();
  auto time_ms = [&](size_t n) {
    const std::string a(n, 'a');
    mime::MessageTree t = msg("Subject: " + a + "!\r\nX-Long: " + a + "!");
    auto start = std::chrono::steady_clock::now();
    Findings f = (*e)->inspect(Envelope{}, t, kNow);
    auto ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(rule_names(f), (std::vector<std::string>{"repeat"})) << n;  // only (.*a){20}
    return ms;
  };
  time_ms(1000);  // warm the DFA caches
  const double small = time_ms(10000);
  const double big = time_ms(100000);
  // A backtracking engine needs about 2^n steps here (it would never finish); RE2 is linear.
  // Only a generous absolute bound: wall-clock ratios are noise on a loaded machine.
  EXPECT_LT(big, 1000.0 * kSlowdown) << "10 KB: " << small << " ms, 100 KB: " << big << " ms";
}

TEST_F(RulesEngineTest, ManyRepeatedFieldsStayLinear) {
  const std::string p = file("many.rules",
                             "header-from /@never\\.example$/ reject\n"
                             "subject /never/ reject\nheader X-A /never/ reject\n");
  RulesOptions o = quiet({p});
  o.internal_domains = {"corp.example"};
  auto e = RuleEngine::open(o, nullptr);
  ASSERT_TRUE(e.ok());
  // Built directly (past the MIME stage's own limits): n From fields of 64 addresses each, plus
  // n Subject and n X-A fields.
  auto time_ms = [&](int n) {
    mime::MessageTree t;
    t.parts.emplace_back();
    for (int i = 0; i < n; ++i) {
      std::string v;
      for (int a = 0; a < 64; ++a)
        v += (a ? ", " : "") + std::string("u") + std::to_string(i * 64 + a) + "@x.example";
      t.parts[0].headers.push_back({"From", v});
      t.parts[0].headers.push_back({"Subject", "s" + std::to_string(i % 3)});
      t.parts[0].headers.push_back({"X-A", std::string(200, 'a')});
    }
    double best = 1e300;
    for (int rep = 0; rep < 2; ++rep) {
      const auto start = std::chrono::steady_clock::now();
      Findings f = (*e)->inspect(Envelope{}, t, kNow);
      best = std::min(
          best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count());
      EXPECT_EQ(rule_names(f), std::vector<std::string>{});
    }
    return best;
  };
  // Linear: ~0.1-0.3 s in a release build. Deduplicating through a vector would be quadratic
  // (~2*10^9 string comparisons here); the bound only has to tell those apart.
  const double big = time_ms(1024);
  EXPECT_LT(big, 3000.0 * kSlowdown) << "65,536 From addresses took " << big << " ms";
}

TEST_F(RulesEngineTest, AuditRecordsLoadAndRejectedReloadKeepsOldSet) {
  const std::string audit_path = dir_ + "/audit.jsonl";
  auto audit = AuditLog::open(audit_path);
  ASSERT_TRUE(audit.ok());
  const std::string good = "subject /old-rule/ reject id=old\nhelo /x/ reject\n";
  const std::string p = file("live.rules", good);
  const std::string q = file("second.rules", "# avsink: empty\n");
  std::vector<std::string> log;
  RulesOptions o = quiet({p, q}, &log);
  o.internal_domains = {"corp.example"};
  auto e = RuleEngine::open(o, *audit);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->generation(), 1u);

  // A broken file: the whole reload is refused, the old rules stay.
  write_file(p, "subject /new-rule/ reject id=new\n\nsubject /bad(/ reject\nrcpt \"x\" rejekt\n");
  Result<void> r = (*e)->reload();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kRules);
  EXPECT_EQ(r.error().file, p);
  EXPECT_EQ(r.error().line, 3u);
  EXPECT_EQ((*e)->generation(), 1u);
  EXPECT_EQ(rule_names((*e)->inspect(Envelope{}, msg("Subject: old-rule"), kNow)),
            (std::vector<std::string>{"old"}));
  EXPECT_TRUE((*e)->inspect(Envelope{}, msg("Subject: new-rule"), kNow).empty());
  bool logged = false;
  for (const std::string &l : log)
    if (l.find(p + ":4: unknown action") != std::string::npos) logged = true;
  EXPECT_TRUE(logged) << "every error is logged with file:line: reason";

  // A missing file is refused the same way.
  ASSERT_EQ(::unlink(q.c_str()), 0);
  write_file(p, good);
  r = (*e)->reload();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_EQ((*e)->generation(), 1u);

  // Fixed: the next reload goes through; an unchanged reload does not bump the generation.
  write_file(q, "# avsink: empty\n");
  write_file(p, "subject /new-rule/ reject id=new\n");
  ASSERT_TRUE((*e)->reload().ok());
  EXPECT_EQ((*e)->generation(), 2u);
  ASSERT_TRUE((*e)->reload().ok());
  EXPECT_EQ((*e)->generation(), 2u);
  EXPECT_EQ(rule_names((*e)->inspect(Envelope{}, msg("Subject: new-rule"), kNow)),
            (std::vector<std::string>{"new"}));

  std::vector<nlohmann::json> lines = audit_lines(audit_path);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["event"], "rules.load");
  EXPECT_EQ(lines[0]["generation"], 1);
  EXPECT_EQ(lines[0]["trigger"], "open");
  EXPECT_EQ(lines[0]["rules"], 2);
  EXPECT_EQ(lines[0]["files"][0]["path"], p);
  EXPECT_EQ(lines[0]["files"][0]["sha256"], sha256_hex(good));
  EXPECT_EQ(lines[0]["files"][0]["rules"], 2);
  EXPECT_EQ(lines[0]["files"][0]["by_kind"]["subject"], 1);
  EXPECT_EQ(lines[0]["files"][1]["rules"], 0);
  EXPECT_EQ(lines[0]["options"]["internal_domains"][0], "corp.example");
  EXPECT_EQ(lines[1]["event"], "rules.reload_rejected");
  EXPECT_EQ(lines[1]["file"], p);
  EXPECT_EQ(lines[1]["line"], 3);
  EXPECT_NE(lines[1]["reason"].get<std::string>().find("bad regex"), std::string::npos);
  EXPECT_EQ(lines[1]["error_count"], 2);
  EXPECT_EQ(lines[1]["keeping_generation"], 1);
  EXPECT_EQ(lines[1]["message"], "keeping generation 1");
  EXPECT_EQ(lines[2]["event"], "rules.reload_rejected");
  EXPECT_EQ(lines[2]["file"], q);
  EXPECT_EQ(lines[3]["event"], "rules.load");
  EXPECT_EQ(lines[3]["generation"], 2);
  EXPECT_EQ(lines[3]["trigger"], "reload");
}

TEST_F(RulesEngineTest, OpenRefusesBadFilesAndOptions) {
  const std::string audit_path = dir_ + "/audit.jsonl";
  auto audit = AuditLog::open(audit_path);
  ASSERT_TRUE(audit.ok());
  const std::string bad = file("bad.rules", "subject /ok/ reject\nclient 10.0.0.1/8 reject\n");
  auto e = RuleEngine::open(quiet({bad}), *audit);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, ErrorCode::kRules);
  EXPECT_EQ(e.error().describe(),
            bad + ":2: '10.0.0.1/8' has host bits set past the prefix length");
  auto lines = audit_lines(audit_path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["event"], "rules.load_rejected");
  EXPECT_EQ(lines[0]["keeping_generation"], 0);

  EXPECT_FALSE(
      RuleEngine::open(quiet({test::data_path("rules/only-comments.rules")}), nullptr).ok());
  auto empty = RuleEngine::open(quiet({test::data_path("rules/empty-on-purpose.rules")}), nullptr);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->rule_count(), 0u);

  RulesOptions o = quiet({});
  o.trusted_networks = {"10.0.0.0/33"};
  auto r = RuleEngine::open(o, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConfig);
  EXPECT_NE(r.error().message.find("trusted_networks"), std::string::npos);
  o.trusted_networks.clear();
  o.spoof_action = Action::kRewrite;
  EXPECT_FALSE(RuleEngine::open(o, nullptr).ok());
}

TEST_F(RulesEngineTest, SetMemoryLimitRejectsFileWhole) {
  // 2,000 patterns that each fit alone but not together in a 1 MiB set.
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "subject /w" + std::to_string(i) + "[a-z]{3,40}x{2,30}/ reject\n";
  RulesOptions o = quiet({file("huge.rules", text)});
  o.set_max_mem = 1 << 20;
  auto e = RuleEngine::open(o, nullptr);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("exceed the RE2 set memory limit"), std::string::npos)
      << e.error().describe();
  o.set_max_mem = 256ull << 20;
  EXPECT_TRUE(RuleEngine::open(o, nullptr).ok());
}

}  // namespace
}  // namespace avsink::rules
