// session_policy_test.cpp - [[policy]] sections end to end through the scanner: parsing, which
// policy an envelope gets (precedence), overrides, per-recipient verdicts and skipping by source.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "session/policy_select.h"
#include "session/scanner.h"
#include "test_support.h"

namespace {

using avsink::Action;
using avsink::Config;
using avsink::Envelope;
using avsink::test::data_path;
using avsink::test::read_file;

Config parse(const std::string &toml) {
  auto c = avsink::parse_config(toml, "test.toml");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().describe());
  return c.ok() ? c.value() : Config{};
}

const char kPolicies[] = R"(
[rules]
trusted_networks = ["10.0.0.0/8"]

[[policy]]
name = "partner"
client_networks = ["192.0.2.0/24"]
senders = ["partner.example"]
banned = "quarantine"

[[policy]]
name = "lab"
recipients = ["lab@example.net", "@malware.example.net"]
virus = "accept"
allow_extensions = ["exe", "com"]

[[policy]]
name = "submission"
authenticated = true
virus = "quarantine"
banned = "quarantine"

[[policy]]
name = "outbound"
direction = "outbound"
engine_error = "reject"
)";

Envelope env(std::string client, std::string from, std::vector<std::string> rcpts,
             std::string auth = "") {
  Envelope e;
  e.client_address = std::move(client);
  e.mail_from = std::move(from);
  e.rcpt_to = std::move(rcpts);
  e.auth_user = std::move(auth);
  return e;
}

TEST(Policies, ParseAndDumpRoundTrip) {
  Config c = parse(kPolicies);
  ASSERT_EQ(c.policies.size(), 4u);
  EXPECT_EQ(c.policies[0].name, "partner");  // file order kept
  EXPECT_EQ(c.policies[1].allow_extensions, (std::vector<std::string>{"exe", "com"}));
  EXPECT_EQ(*c.policies[2].authenticated, true);
  Config again = parse(avsink::dump_config(c));
  ASSERT_EQ(again.policies.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(again.policies[i].name, c.policies[i].name);
    EXPECT_EQ(again.policies[i].recipients, c.policies[i].recipients);
    EXPECT_EQ(again.policies[i].virus_action, c.policies[i].virus_action);
    EXPECT_EQ(again.policies[i].direction, c.policies[i].direction);
  }
}

TEST(Policies, BadPoliciesAreErrorsWithTheLine) {
  struct Case {
    const char *toml;
    const char *want;  // part of the message
    uint32_t line;
  } cases[] = {
      {"[[policy]]\nname = \"a\"\nrecipient = [\"x\"]\n", "unknown key 'recipient'", 3},
      {"[[policy]]\nname = \"a\"\n", "no selector", 1},
      {"[[policy]]\nrecipients = [\"x\"]\n", "without a name", 1},
      {"[[policy]]\nname = \"default\"\nrecipients = [\"x\"]\n", "not \"default\"", 2},
      {"[[policy]]\nname = \"a\"\nsenders=[\"x\"]\n[[policy]]\nname = \"a\"\nsenders=[\"y\"]\n",
       "used twice", 4},
      {"[[policy]]\nname = \"a\"\nsenders=[\"x\"]\nvirus = \"maybe\"\n", "policy.a.virus", 4},
      {"[[policy]]\nname = \"a\"\nsenders=[\"x\"]\nunscannable = \"strip\"\n", "strip", 4},
      {"[[policy]]\nname = \"a\"\ndirection = \"sideways\"\n", "inbound", 3},
      {"[policy]\nname = \"a\"\n", "[[policy]]", 1},
  };
  for (const auto &c : cases) {
    auto r = avsink::parse_config(c.toml, "t.toml");
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_NE(r.error().message.find(c.want), std::string::npos)
        << "got " << r.error().message << ", want it to contain " << c.want;
    EXPECT_EQ(r.error().line, c.line) << c.toml << ": " << r.error().message;
  }
  // A bad CIDR is found when the selector is built (as the scanner does at open).
  Config bad = parse("[[policy]]\nname = \"n\"\nclient_networks = [\"192.0.2.0/33\"]\n");
  auto sel = avsink::session::PolicySelector::build(bad);
  ASSERT_FALSE(sel.ok());
  EXPECT_NE(sel.error().message.find("policy.n.client_networks"), std::string::npos);
}

TEST(Policies, SelectionPrecedence) {
  auto sel = avsink::session::PolicySelector::build(parse(kPolicies));
  ASSERT_TRUE(sel.ok());
  const auto &s = **sel;
  struct Case {
    const char *label;
    Envelope e;
    const char *rcpt;
    const char *want;
  } cases[] = {
      {"nothing matches", env("198.51.100.1", "a@x.example", {}), "bob@example.net", "default"},
      {"partner needs network AND sender", env("192.0.2.7", "someone@partner.example", {}),
       "bob@example.net", "partner"},
      {"partner subdomain sender", env("192.0.2.7", "a@mx.partner.example", {}), "b@example.net",
       "partner"},
      {"partner sender from elsewhere", env("198.51.100.1", "a@partner.example", {}),
       "b@example.net", "default"},
      {"recipient address, any case", env("198.51.100.1", "a@x.example", {}), "<LAB@Example.NET>",
       "lab"},
      {"recipient domain with @", env("198.51.100.1", "a@x.example", {}),
       "z@sub.malware.example.net", "lab"},
      {"no recipient: recipients selector never matches", env("198.51.100.1", "a@x.example", {}),
       "", "default"},
      {"first in file order wins (partner before lab)", env("192.0.2.7", "a@partner.example", {}),
       "lab@example.net", "partner"},
      {"authenticated", env("198.51.100.1", "a@x.example", {}, "alice"), "b@example.net",
       "submission"},
      {"outbound by trusted network", env("10.1.2.3", "a@x.example", {}), "b@example.net",
       "outbound"},
      {"authenticated is also outbound, but submission comes first",
       env("10.1.2.3", "a@x.example", {}, "alice"), "b@example.net", "submission"},
      {"IPv4-mapped client", env("::ffff:192.0.2.9", "a@partner.example", {}), "b@example.net",
       "partner"},
  };
  for (const auto &c : cases)
    EXPECT_EQ(avsink::session::policy_name(s.select(c.e, c.rcpt)), c.want) << c.label;
  EXPECT_EQ(s.direction(env("10.0.0.1", "", {})), avsink::Direction::kOutbound);
  EXPECT_EQ(s.direction(env("192.0.2.1", "", {})), avsink::Direction::kInbound);
  EXPECT_EQ(s.direction(env("192.0.2.1", "", {}, "u")), avsink::Direction::kOutbound);
  EXPECT_TRUE(s.by_recipient());
}

std::unique_ptr<avsink::session::Scanner> open_scanner(Config cfg) {
  cfg.system_db = false;
  auto s = avsink::session::Scanner::open(cfg, avsink::Logger(), true);
  EXPECT_TRUE(s.ok()) << s.error().describe();
  return s.ok() ? std::move(s.value()) : nullptr;
}

avsink::Verdict scan(const avsink::session::Scanner &s, const Envelope &e,
                     const std::string &bytes) {
  avsink::session::RawMessage raw{bytes, bytes.size()};
  auto v = s.scan(e, raw);
  EXPECT_TRUE(v.ok()) << v.error().describe();
  return v.ok() ? v.value() : avsink::Verdict{};
}

// Issue 16: "a rcpt accept for one of two recipients still discarded the message for both".
TEST(Policies, PerRecipientVerdicts) {
  auto s = open_scanner(parse(kPolicies));
  ASSERT_TRUE(s);
  const std::string eicar = read_file(data_path("eml/eicar-plain-attachment.eml"));
  auto v =
      scan(*s, env("198.51.100.1", "a@x.example", {"lab@example.net", "bob@example.net"}), eicar);
  ASSERT_EQ(v.recipients.size(), 2u);
  EXPECT_EQ(v.recipients[0].policy, "lab");
  EXPECT_EQ(v.recipients[0].action, Action::kAccept);
  EXPECT_EQ(v.recipients[1].policy, "default");
  EXPECT_EQ(v.recipients[1].action, Action::kReject);
  EXPECT_EQ(v.recipients[1].smtp_code, 554);
  // The message-level verdict is the strictest: old adapters fail closed.
  EXPECT_EQ(v.action, Action::kReject);
  EXPECT_EQ(v.policy, "default");
  auto j = nlohmann::json::parse(v.json);
  EXPECT_EQ(j["policy"], "default");
  ASSERT_EQ(j["recipients"].size(), 2u);
  EXPECT_EQ(j["recipients"][0]["action"], "accept");

  // Only the lab recipient: accepted, with the virus still in the record and the status header.
  auto lab = scan(*s, env("198.51.100.1", "a@x.example", {"lab@example.net"}), eicar);
  EXPECT_EQ(lab.action, Action::kAccept) << lab.reason;
  EXPECT_EQ(lab.policy, "lab");
  bool infected_header = false;
  for (const auto &[n, val] : lab.headers)
    infected_header |= n == "X-Virus-Status" && val.find("Infected") == 0;
  EXPECT_TRUE(infected_header);
}

TEST(Policies, OverridesActionsAndAttachmentLists) {
  auto s = open_scanner(parse(kPolicies));
  ASSERT_TRUE(s);
  const std::string exe = read_file(data_path("attachments/trick-plain-exe-uppercase.eml"));
  const std::string eicar = read_file(data_path("eml/eicar-plain-attachment.eml"));
  struct Case {
    const char *label;
    Envelope e;
    const std::string *msg;
    Action want;
  } cases[] = {
      {"exe, default policy", env("198.51.100.1", "a@x.example", {"b@example.net"}), &exe,
       Action::kReject},
      {"exe, lab allows exe", env("198.51.100.1", "a@x.example", {"lab@example.net"}), &exe,
       Action::kAccept},
      {"exe, partner quarantines banned", env("192.0.2.1", "p@partner.example", {"b@example.net"}),
       &exe, Action::kQuarantine},
      {"eicar, partner keeps the virus default", env("192.0.2.1", "p@partner.example", {"b@e.net"}),
       &eicar, Action::kReject},
      {"eicar.com, authenticated: virus and banned both quarantine",
       env("198.51.100.1", "a@x.example", {"b@e.net"}, "u"), &eicar, Action::kQuarantine},
  };
  for (const auto &c : cases) {
    auto v = scan(*s, c.e, *c.msg);
    EXPECT_EQ(v.action, c.want) << c.label << ": got " << to_string(v.action) << " (" << v.reason
                                << ")";
  }
}

TEST(Policies, SkipScanByNetworkIsLoggedAndCounted) {
  Config cfg = parse(R"(
[[policy]]
name = "localnet"
client_networks = ["203.0.113.0/24"]
skip_scan = true
)");
  std::vector<std::string> lines;
  cfg.system_db = false;
  auto opened = avsink::session::Scanner::open(
      cfg,
      avsink::Logger([&](avsink::LogLevel, const std::string &m) { lines.push_back(m); },
                     avsink::LogLevel::kInfo),
      true);
  ASSERT_TRUE(opened.ok());
  auto &s = *opened.value();
  const std::string eicar = read_file(data_path("eml/eicar-plain-attachment.eml"));
  auto v = scan(s, env("203.0.113.5", "a@x.example", {"b@example.net"}), eicar);
  EXPECT_EQ(v.action, Action::kAccept);
  EXPECT_EQ(v.reason, "not scanned: policy localnet skips scanning");
  EXPECT_TRUE(v.findings.empty());
  bool logged = false;
  for (const auto &l : lines)
    logged |= l.find("policy localnet skipped scanning") != std::string::npos;
  EXPECT_TRUE(logged);
  EXPECT_EQ(nlohmann::json::parse(s.info_json())["policy_skips"], 1);
  // Off by default: the same message from elsewhere is scanned and refused.
  auto other = scan(s, env("198.51.100.1", "a@x.example", {"b@example.net"}), eicar);
  EXPECT_EQ(other.action, Action::kReject);
  EXPECT_EQ(nlohmann::json::parse(s.info_json())["policy_skips"], 1);
}

TEST(Policies, PolicyRuleFilesReplaceTheGlobalOnes) {
  std::string dir = avsink::test::make_temp_dir("policy-rules");
  std::string global = dir + "/global.rules", mine = dir + "/mine.rules";
  {
    std::ofstream(global) << "subject /^Invoice/  reject  \"no invoices\"\n";
    std::ofstream(mine) << "# avsink: empty\n";
  }
  Config cfg = parse("[rules]\nfiles = [\"" + global + "\"]\nwatch = false\n" +
                     "[[policy]]\nname = \"finance\"\nrecipients = [\"finance@example.net\"]\n"
                     "rule_files = [\"" +
                     mine + "\"]\n");
  auto s = open_scanner(cfg);
  ASSERT_TRUE(s);
  const std::string msg =
      "From: a@x.example\r\nTo: b@example.net\r\nSubject: Invoice 42\r\n\r\nhello\r\n";
  auto v =
      scan(*s, env("198.51.100.1", "a@x.example", {"b@example.net", "finance@example.net"}), msg);
  ASSERT_EQ(v.recipients.size(), 2u);
  EXPECT_EQ(v.recipients[0].action, Action::kReject);
  EXPECT_EQ(v.recipients[0].text, "no invoices");
  EXPECT_EQ(v.recipients[1].action, Action::kAccept);
}

// [notify] is checked when the scanner opens: who to tell, where the MTA is, complete templates.
TEST(Notify, BadSettingsRefuseToOpen) {
  struct Case {
    const char *toml;
    const char *want;
  } cases[] = {
      {"[notify]\nenabled = true\n", "notify.admins"},
      {"[notify]\nenabled = true\nadmins = [\"a@x\"]\nnext_hop = \"host:notaport\"\n",
       "notify.next_hop"},
      {"[notify]\nenabled = true\nadmins = [\"a@x\"]\ntemplates_dir = \"/nonexistent\"\n",
       "/nonexistent/"},
  };
  for (const auto &c : cases) {
    Config cfg = parse(c.toml);
    cfg.system_db = false;
    auto s = avsink::session::Scanner::open(cfg, avsink::Logger(), true);
    ASSERT_FALSE(s.ok()) << c.toml;
    EXPECT_NE(s.error().describe().find(c.want), std::string::npos) << s.error().describe();
  }
}

// `avsink config check FILE --from --rcpt --client --auth` prints each recipient's policy.
TEST(Policies, ConfigCheckShowsThePolicyOfAnEnvelope) {
  const char *cli_env = std::getenv("AVSINK_TEST_CLI");
  std::string cli = cli_env && *cli_env ? cli_env : AVSINK_CLI_PATH;
  if (!std::filesystem::exists(cli)) GTEST_SKIP() << "no avsink binary";
  std::string dir = avsink::test::make_temp_dir("policy-cli");
  std::ofstream(dir + "/avsink.toml") << kPolicies;
  struct Case {
    const char *flags;
    const char *want;
  } cases[] = {
      {"--from a@x.example --client 198.51.100.1 --rcpt lab@example.net --rcpt bob@example.net",
       "direction: inbound\nrcpt lab@example.net: policy lab\nrcpt bob@example.net: policy "
       "default\n"},
      {"--from p@partner.example --client 192.0.2.4 --rcpt b@example.net",
       "direction: inbound\nrcpt b@example.net: policy partner\n"},
      {"--from a@x.example --client 10.0.0.1 --auth alice --rcpt b@example.net",
       "direction: outbound\nrcpt b@example.net: policy submission\n"},
      {"--client 10.0.0.1", "direction: outbound\npolicy: outbound\n"},
  };
  for (const auto &c : cases) {
    std::string cmd = "'" + cli + "' config check '" + dir + "/avsink.toml' " + c.flags;
    FILE *p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[512];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    EXPECT_EQ(pclose(p), 0) << cmd;
    EXPECT_EQ(out, c.want) << cmd;
  }
}

}  // namespace
