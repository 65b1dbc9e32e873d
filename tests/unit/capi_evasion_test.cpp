// capi_evasion_test.cpp - every message of tests/data/evasion (manifest.json) through the C ABI.
// Invariant: no evasion case is ever accepted, no benign control is blocked; each case gets the
// verdict its manifest names ("pending" cases are listed, not failed, until the reader has them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "avsink/avsink.h"
#include "test_support.h"

namespace {

using avsink::test::data_path;
using avsink::test::read_file;

struct Case {
  std::string file, trick, payload, expect;
  int hostile_class = 0;
  bool pending = false;  // today's reader is known to get it wrong (issue 21)
};

std::vector<Case> load_manifest() {
  std::vector<Case> out;
  auto j = nlohmann::json::parse(read_file(data_path("evasion/manifest.json")));
  for (const auto &e : j)
    out.push_back({e.at("file"), e.at("trick"), e.at("payload"), e.at("expect"),
                   e.at("hostile_class").get<int>(), e.value("pending", false)});
  return out;
}

bool acceptable(avsink_action a, const std::string &expect) {
  if (expect == "accept") return a == AVSINK_ACTION_ACCEPT;
  if (expect == "reject") return a == AVSINK_ACTION_REJECT;
  if (expect == "quarantine") return a == AVSINK_ACTION_QUARANTINE;
  return a == AVSINK_ACTION_REJECT || a == AVSINK_ACTION_QUARANTINE;  // reject-or-quarantine
}

// An engine on the shipped signatures only (no system database), never writing a quarantine.
class Engine {
 public:
  explicit Engine(const std::string &extra_config = "") {
    dir_ = avsink::test::make_temp_dir("avsink-evasion-");
    std::string cfg = dir_ + "/avsink.toml";
    std::ofstream(cfg) << "[clamav]\nsystem_db = false\n" << extra_config;
    avsink_engine_options o = AVSINK_ENGINE_OPTIONS_INIT;
    o.config_path = cfg.c_str();
    o.flags = AVSINK_ENGINE_DRY_RUN;
    avsink_error err = AVSINK_ERROR_INIT;
    status_ = avsink_engine_open(&engine_, &o, &err);
    message_ = err.message;
  }
  ~Engine() {
    avsink_engine_free(engine_);
    std::filesystem::remove_all(dir_);
  }
  avsink_engine *get() const { return engine_; }
  avsink_status status() const { return status_; }
  const std::string &message() const { return message_; }

 private:
  std::string dir_;
  avsink_engine *engine_ = nullptr;
  avsink_status status_ = AVSINK_EINTERNAL;
  std::string message_;
};

struct Outcome {
  avsink_status status = AVSINK_EINTERNAL;
  avsink_action action = AVSINK_ACTION_TEMPFAIL;
  std::string reason;
};

Outcome scan(avsink_engine *engine, const std::string &bytes) {
  Outcome o;
  const avsink_verdict *v = nullptr;
  avsink_scan *s = nullptr;
  o.status = avsink_scan_buffer(&v, &s, engine, nullptr, bytes.data(), bytes.size());
  if (o.status == AVSINK_OK) {
    o.action = avsink_verdict_action(v);
    o.reason = avsink_verdict_reason(v);
  } else {
    o.reason = avsink_scan_errmsg(s);
  }
  avsink_scan_free(s);
  return o;
}

// AVSINK_EVASION_STRICT=1: pending cases fail like any other (to see what is left).
bool strict() {
  const char *s = std::getenv("AVSINK_EVASION_STRICT");
  return s != nullptr && std::string(s) == "1";
}

// Scans every case with `payload` and fails with one table of every wrong verdict. A "pending"
// case that fails is listed apart without failing; one that passes is listed so its flag goes.
void run_cases(const std::string &payload, const std::string &extra_config = "") {
  Engine engine(extra_config);
  ASSERT_EQ(engine.status(), AVSINK_OK) << engine.message();
  std::vector<Case> cases = load_manifest();
  ASSERT_GE(cases.size(), 40u);
  std::ostringstream table, pending_table;
  int bad = 0, ran = 0, pending_bad = 0;
  std::string pending_ok;
  for (const Case &c : cases) {
    if (c.payload != payload) continue;
    ++ran;
    Outcome o = scan(engine.get(), read_file(data_path("evasion/" + c.file)));
    const bool ok = o.status == AVSINK_OK && acceptable(o.action, c.expect);
    if (ok && c.pending) pending_ok += " " + c.file;
    if (ok) continue;
    const bool counts = !c.pending || strict();
    (counts ? bad : pending_bad)++;
    (counts ? table : pending_table)
        << "  " << c.file << ": got "
        << (o.status == AVSINK_OK ? avsink_action_name(o.action) : avsink_strerror(o.status))
        << ", want " << c.expect << ", trick: " << c.trick << " (HOSTILE #" << c.hostile_class
        << "); reason: " << o.reason << "\n";
  }
  if (pending_bad > 0)
    std::printf("%d pending %s evasion cases still fail (manifest \"pending\": true):\n%s",
                pending_bad, payload.c_str(), pending_table.str().c_str());
  if (!pending_ok.empty()) {
    std::string where = extra_config.empty() ? "" : " with " + extra_config;
    std::replace(where.begin(), where.end(), '\n', ' ');
    std::printf(
        "pending %s cases that pass here%s (drop the flag once every test passes them):%s\n",
        payload.c_str(), where.c_str(), pending_ok.c_str());
  }
  EXPECT_GT(ran, 0);
  EXPECT_EQ(bad, 0) << bad << " of " << ran << " " << payload << " evasion cases failed:\n"
                    << table.str();
}

TEST(CapiEvasion, ManifestIsComplete) {
  std::vector<Case> cases = load_manifest();
  EXPECT_GE(cases.size(), 40u);
  for (const Case &c : cases) {
    EXPECT_TRUE(std::filesystem::exists(data_path("evasion/" + c.file))) << c.file;
    EXPECT_TRUE(c.payload == "eicar" || c.payload == "banned" || c.payload == "none") << c.file;
    EXPECT_TRUE(c.expect == "reject" || c.expect == "quarantine" ||
                c.expect == "reject-or-quarantine" || c.expect == "accept")
        << c.file;
    EXPECT_EQ(c.payload == "none", c.expect == "accept") << c.file;  // only controls are accepted
    EXPECT_TRUE(c.hostile_class >= 1 && c.hostile_class <= 50) << c.file;
  }
}

TEST(CapiEvasion, EicarNeverAccepted) {
  run_cases("eicar");
}

// The MIME reader alone, without libclamav's own pass over the raw message (issue 21: the reader
// must see everything that pass sees), and with that pass on: both settings, whatever the default.
TEST(CapiEvasion, EicarNeverAcceptedReaderAlone) {
  run_cases("eicar", "[scan]\nraw_message_pass = false\n");
}

TEST(CapiEvasion, EicarNeverAcceptedWithRawPass) {
  run_cases("eicar", "[scan]\nraw_message_pass = true\n");
}

// Needs the attachments stage in the scan session (extension, true-type and member policy).
TEST(CapiEvasion, BannedAttachmentNeverAccepted) {
  run_cases("banned");
}

// Benign controls (message/external-body, a 30-post Mailman digest): blocking them is a false
// positive.
TEST(CapiEvasion, BenignControlsAccepted) {
  run_cases("none");
}

// The same corpus chunked byte-by-byte at awkward sizes gives the same verdict (MILTER_CHUNK_SIZE
// chunks are arbitrary; boundaries and base64 lines straddle them).
TEST(CapiEvasion, ChunkingDoesNotChangeTheVerdict) {
  Engine engine;
  ASSERT_EQ(engine.status(), AVSINK_OK) << engine.message();
  for (const char *file : {"base64-garbage.eml", "boundary-inner-extends-outer.eml",
                           "eol-mixed-crlf-lf.eml", "uuencode-in-preamble.eml"}) {
    std::string bytes = read_file(data_path(std::string("evasion/") + file));
    Outcome whole = scan(engine.get(), bytes);
    avsink_scan *s = nullptr;
    ASSERT_EQ(avsink_scan_begin(&s, engine.get(), nullptr), AVSINK_OK);
    for (size_t i = 0, step = 1; i < bytes.size(); i += step, step = step % 61 + 7)
      ASSERT_EQ(avsink_scan_write(s, bytes.data() + i, std::min(step, bytes.size() - i)),
                AVSINK_OK);
    const avsink_verdict *v = nullptr;
    ASSERT_EQ(avsink_scan_end(&v, s), AVSINK_OK) << avsink_scan_errmsg(s);
    EXPECT_EQ(avsink_verdict_action(v), whole.action) << file;
    EXPECT_NE(avsink_verdict_action(v), AVSINK_ACTION_ACCEPT) << file;
    avsink_scan_free(s);
  }
}

// ---- Limits (DESIGN.md §4, §7): every attacker-controlled size at limit-1, limit, limit+1 ----

using avsink::test::base64;
using avsink::test::stored_zip;  // zips with stored members, for the archive limits

const std::string kTop = "From: a@example.org\r\nTo: b@example.net\r\nSubject: limits\r\n";

std::string with_attachment(const std::string &data, const std::string &name) {
  return kTop +
         "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
         "Content-Type: application/octet-stream; name=\"" +
         name + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64(data) + "--b--\r\n";
}

// Multipart nested `n` levels (n >= 1): n multipart entities, the innermost holding one text part.
std::string nested_multipart(uint32_t n) {
  std::string body = "Content-Type: text/plain\r\n\r\nbottom\r\n";
  for (uint32_t i = n; i >= 1; --i) {
    std::string b = "d" + std::to_string(i);
    body = "Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\n--" + b + "\r\n" + body +
           "--" + b + "--\r\n";
  }
  return kTop + body;
}

// `n` message/rfc822 parts, each holding the next; the innermost message is plain text.
std::string nested_rfc822(uint32_t n) {
  std::string m = kTop + "\r\nbottom\r\n";
  for (uint32_t i = 0; i < n; ++i) m = kTop + "Content-Type: message/rfc822\r\n\r\n" + m;
  return m;
}

// A message of exactly `n` entities: the multipart root and n-1 text children.
std::string parts(uint32_t n) {
  std::string m = kTop + "Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n";
  for (uint32_t i = 1; i < n; ++i) m += "--p\r\nContent-Type: text/plain\r\n\r\nx\r\n";
  return m + "--p--\r\n";
}

// A top-level header block of exactly `n` fields (n >= 3).
std::string header_fields(uint32_t n) {
  std::string m = kTop;
  for (uint32_t i = 3; i < n; ++i) m += "X-F" + std::to_string(i) + ": v\r\n";
  return m + "\r\nbody\r\n";
}

// A top-level header block of exactly `n` bytes, CRLFs included (the blank line is not counted).
std::string header_bytes(uint32_t n) {
  const std::string f = "X-Pad: ";
  std::string m = kTop;
  m += f + std::string(n - kTop.size() - f.size() - 2, 'a') + "\r\n";
  return m + "\r\nbody\r\n";
}

std::string params(uint32_t n) {
  std::string ct = "Content-Type: text/plain; charset=us-ascii";
  for (uint32_t i = 1; i < n; ++i) ct += "; p" + std::to_string(i) + "=v";
  return kTop + ct + "\r\n\r\nbody\r\n";
}

std::string boundary(uint32_t n) {
  std::string b(n, 'b');
  return kTop + "Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\n--" + b +
         "\r\nContent-Type: text/plain\r\n\r\nx\r\n--" + b + "--\r\n";
}

// Archive recursion counts levels as ClamAV's MaxRecursion does: the attachment is level 0 and
// a member of a zip nested k deep is at level k. `n` levels used = n-1 nested zips + the leaf.
std::string archive_depth(uint32_t n) {
  std::string z = stored_zip({{"leaf.txt", "hello\r\n"}});
  for (uint32_t i = 2; i < n; ++i) z = stored_zip({{"z" + std::to_string(i) + ".zip", z}});
  return with_attachment(z, "nested.zip");
}

std::string archive_files(uint32_t n) {
  std::vector<std::pair<std::string, std::string>> m;
  for (uint32_t i = 0; i < n; ++i) m.push_back({"f" + std::to_string(i) + ".txt", "x"});
  return with_attachment(stored_zip(m), "many.zip");
}

// A leaf body that decodes to exactly `n` bytes.
std::string file_bytes(uint32_t n) {
  return kTop + "\r\n" + std::string(n, 'a');
}

// Four base64 parts of n/4 decoded bytes each (n divisible by 4).
std::string decoded_bytes(uint32_t n) {
  std::string m = kTop + "Content-Type: multipart/mixed; boundary=\"q\"\r\n\r\n";
  for (int i = 0; i < 4; ++i)
    m += "--q\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64(std::string(n / 4, 'q'));
  return m + "--q--\r\n";
}

std::string message_bytes(uint32_t n) {
  std::string m = kTop + "\r\n";
  return m + std::string(n - m.size(), 'm');
}

struct LimitCase {
  const char *key;      // [limits] key
  uint32_t limit;       // value configured
  const char *finding;  // substring of the finding name at limit+1
  std::string (*make)(uint32_t);
};

struct ScanResult {
  avsink_status status = AVSINK_EINTERNAL;
  avsink_action action = AVSINK_ACTION_TEMPFAIL;
  std::vector<std::string> findings;
  std::string describe() const {
    std::string s = std::string(avsink_strerror(status)) + " " + avsink_action_name(action) + " [";
    for (const auto &f : findings) s += f + " ";
    return s + "]";
  }
  bool has(const std::string &sub) const {
    for (const auto &f : findings)
      if (f.find(sub) != std::string::npos) return true;
    return false;
  }
};

ScanResult scan_findings(avsink_engine *engine, const std::string &bytes) {
  ScanResult r;
  const avsink_verdict *v = nullptr;
  avsink_scan *s = nullptr;
  r.status = avsink_scan_buffer(&v, &s, engine, nullptr, bytes.data(), bytes.size());
  if (r.status == AVSINK_OK) {
    r.action = avsink_verdict_action(v);
    for (size_t i = 0; i < avsink_verdict_finding_count(v); ++i)
      r.findings.emplace_back(avsink_verdict_finding(v, i)->name);
  }
  avsink_scan_free(s);
  return r;
}

TEST(CapiLimits, EveryLimitAtMinusOneExactlyAndPlusOne) {
  const LimitCase cases[] = {
      {"max_message_bytes", 4096, "Limits.Exceeded.MessageBytes", message_bytes},
      {"max_mime_depth", 8, "Limits.Exceeded.Depth", nested_multipart},
      {"max_rfc822_depth", 3, "Limits.Exceeded.Depth", nested_rfc822},
      {"max_parts", 16, "Limits.Exceeded.Parts", parts},
      {"max_header_fields", 16, "Limits.Exceeded.HeaderFields", header_fields},
      {"max_header_bytes", 2048, "Limits.Exceeded.HeaderBytes", header_bytes},
      {"max_params", 8, "Limits.Exceeded.Params", params},
      {"max_boundary_length", 100, "Limits.Exceeded.BoundaryLength", boundary},
      {"max_archive_recursion", 4, "Limits.Exceeded", archive_depth},
      {"max_archive_files", 8, "Limits.Exceeded", archive_files},
      {"max_file_bytes", 2048, "Limits.Exceeded.FileBytes", file_bytes},
      {"max_decoded_bytes", 8192, "Limits.Exceeded.DecodedBytes", decoded_bytes},
  };
  for (const LimitCase &c : cases) {
    // Each limit alone is small; the decoded/file caps stay apart so each one is hit on its own.
    std::string extra = "[limits]\n" + std::string(c.key) + " = " + std::to_string(c.limit) + "\n";
    if (std::string(c.key) == "max_decoded_bytes") extra += "max_file_bytes = 1048576\n";
    Engine engine(extra);
    ASSERT_EQ(engine.status(), AVSINK_OK) << c.key << ": " << engine.message();
    const uint32_t step = std::string(c.key) == "max_decoded_bytes" ? 4 : 1;
    for (uint32_t n : {c.limit - step, c.limit}) {
      ScanResult r = scan_findings(engine.get(), c.make(n));
      EXPECT_EQ(r.status, AVSINK_OK) << c.key << " at " << n;
      EXPECT_FALSE(r.has("Limits.Exceeded"))
          << c.key << " at " << n << " (limit " << c.limit << "): " << r.describe();
      EXPECT_EQ(r.action, AVSINK_ACTION_ACCEPT) << c.key << " at " << n << ": " << r.describe();
    }
    ScanResult r = scan_findings(engine.get(), c.make(c.limit + step));
    EXPECT_EQ(r.status, AVSINK_OK) << c.key;
    EXPECT_TRUE(r.has(c.finding)) << c.key << " at limit+1 (" << c.limit + step << "): want "
                                  << c.finding << ", got " << r.describe();
    // A message past max_message_bytes was kept only in part: refused (552 5.3.4), not stored.
    const avsink_action want =
        std::string(c.key) == "max_message_bytes" ? AVSINK_ACTION_REJECT : AVSINK_ACTION_QUARANTINE;
    EXPECT_EQ(r.action, want) << c.key << " at limit+1: " << r.describe();
  }
}

// Issue 14 item 1 through the C ABI, written in chunks as an adapter does: past
// max_message_bytes the verdict is REJECT 552 5.3.4 with no quarantine id, whatever the
// configured actions; at the limit the same bytes are accepted.
TEST(CapiLimits, OversizeMessageIsRefused552NeverStored) {
  for (const char *actions :
       {"", "[actions]\nunscannable = \"discard\"\n", "[actions]\nunscannable = \"accept\"\n"}) {
    Engine engine(std::string("[limits]\nmax_message_bytes = 4096\n") + actions);
    ASSERT_EQ(engine.status(), AVSINK_OK) << engine.message();
    // Written in pieces, and handed over whole (avsink_scan_buffer reads it in place).
    for (const bool whole : {false, true})
      for (uint32_t n : {4096u, 4097u, 108063u}) {
        SCOPED_TRACE(whole ? "avsink_scan_buffer" : "avsink_scan_write");
        const std::string bytes = message_bytes(n);
        avsink_scan *s = nullptr;
        const avsink_verdict *v = nullptr;
        if (whole) {
          ASSERT_EQ(avsink_scan_buffer(&v, &s, engine.get(), nullptr, bytes.data(), bytes.size()),
                    AVSINK_OK)
              << avsink_scan_errmsg(s);
        } else {
          ASSERT_EQ(avsink_scan_begin(&s, engine.get(), nullptr), AVSINK_OK);
          for (size_t off = 0; off < bytes.size(); off += 1000)
            ASSERT_EQ(avsink_scan_write(s, bytes.data() + off,
                                        std::min<size_t>(1000, bytes.size() - off)),
                      AVSINK_OK);
          ASSERT_EQ(avsink_scan_end(&v, s), AVSINK_OK) << avsink_scan_errmsg(s);
        }
        if (n == 4096u) {
          EXPECT_EQ(avsink_verdict_action(v), AVSINK_ACTION_ACCEPT) << actions;
        } else {
          EXPECT_EQ(avsink_verdict_action(v), AVSINK_ACTION_REJECT) << actions << " " << n;
          EXPECT_EQ(avsink_verdict_smtp_code(v), 552) << actions << " " << n;
          EXPECT_STREQ(avsink_verdict_enhanced_status(v), "5.3.4") << actions << " " << n;
          EXPECT_STREQ(avsink_verdict_quarantine_id(v), "") << actions << " " << n;
        }
        avsink_scan_free(s);
      }
  }
}

// The scan deadline cannot be hit at +-1 ms deterministically: a 100 ms deadline against a scan
// that needs far longer must give ScanTime (quarantine), never accept.
TEST(CapiLimits, ScanDeadline) {
  Engine engine("[limits]\nscan_deadline_ms = 100\n");
  ASSERT_EQ(engine.status(), AVSINK_OK) << engine.message();
  std::string big;
  for (int i = 0; i < 200; ++i)
    big += "--s\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
           base64(std::string(256 << 10, static_cast<char>('a' + i % 26)));
  ScanResult r =
      scan_findings(engine.get(), kTop + "Content-Type: multipart/mixed; boundary=\"s\"\r\n\r\n" +
                                      big + "--s--\r\n");
  EXPECT_EQ(r.status, AVSINK_OK);
  EXPECT_TRUE(r.has("ScanTime")) << r.describe();
  EXPECT_EQ(r.action, AVSINK_ACTION_QUARANTINE) << r.describe();
}

}  // namespace
