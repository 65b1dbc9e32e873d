// rewrite_strip_test.cpp - strip_parts(): the notice replaces exactly the stripped entity, the
// result re-parses cleanly, and every other part stays byte-identical.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/limits.h"
#include "mime/parser.h"
#include "rewrite/strip_part.h"
#include "test_support.h"

namespace {

using avsink::ErrorCode;
using avsink::Limits;
using avsink::mime::MessageTree;
using avsink::mime::parse_message;
using avsink::mime::Part;
using avsink::rewrite::strip_parts;
using avsink::rewrite::StripOptions;

using Strips = std::vector<std::pair<std::string, std::string>>;

const Part *part_at(const MessageTree &t, const std::string &path) {
  for (const auto &p : t.parts) {
    if (p.path == path) return &p;
  }
  return nullptr;
}

std::string slice(const std::string &raw, const Part &p) {
  return raw.substr(p.raw_offset, p.raw_length);
}

bool is_under(const std::string &path, const std::string &root) {
  return path == root || path.rfind(root + ".", 0) == 0;
}

bool is_ancestor_path(const std::string &anc, const std::string &path) {
  return path.rfind(anc + ".", 0) == 0;
}

// Every part of `before` that is neither replaced (nor inside a replaced part) nor an ancestor of
// one has the same raw bytes and the same decoded body in `after`; the bytes before the first
// replaced entity and after the last one are unchanged.
void expect_others_identical(const std::string &raw, const MessageTree &before,
                             const std::string &out, const MessageTree &after,
                             const std::vector<std::string> &replaced) {
  for (const auto &p : before.parts) {
    bool skip = false;
    for (const auto &r : replaced)
      skip = skip || is_under(p.path, r) || is_ancestor_path(p.path, r);
    if (skip || p.origin != avsink::mime::PartOrigin::kMime) continue;
    const Part *q = part_at(after, p.path);
    ASSERT_NE(q, nullptr) << "part " << p.path << " is gone";
    EXPECT_EQ(slice(raw, p), slice(out, *q)) << "part " << p.path << " changed";
    EXPECT_EQ(p.body, q->body) << "part " << p.path << " decodes differently";
    EXPECT_EQ(p.filenames, q->filenames) << p.path;
  }
  uint64_t first = raw.size(), last_end = 0;
  for (const auto &r : replaced) {
    const Part *p = part_at(before, r);
    ASSERT_NE(p, nullptr) << r;
    first = std::min(first, p->raw_offset);
    last_end = std::max(last_end, p->raw_offset + p->raw_length);
  }
  EXPECT_EQ(out.substr(0, first), raw.substr(0, first)) << "prefix changed";
  const size_t tail = raw.size() - last_end;
  ASSERT_GE(out.size(), tail);
  EXPECT_EQ(out.substr(out.size() - tail), raw.substr(last_end)) << "suffix changed";
}

std::string strip_ok(const std::string &raw, const MessageTree &tree, const Strips &s,
                     const StripOptions &o = StripOptions()) {
  auto r = strip_parts(raw, tree, s, o);
  if (!r) {
    ADD_FAILURE() << r.error().describe();
    return {};
  }
  return *r;
}

TEST(RewriteStrip, ExeBetweenTwoPartsStaysInPlace) {
  const std::string raw =
      avsink::test::read_file(avsink::test::data_path("attachments/strip-mixed-exe.eml"));
  const MessageTree before = parse_message(raw, Limits{});
  const Part *exe = part_at(before, "1.3");
  ASSERT_NE(exe, nullptr);
  ASSERT_EQ(exe->filenames.at(0), "invoice.pdf.exe");

  const std::string out = strip_ok(
      raw, before, {{"1.3", "Attachment.DoubleExtension: blocked extension .exe behind .pdf"}});
  const MessageTree after = parse_message(out, Limits{});
  EXPECT_TRUE(after.findings.empty()) << after.findings.at(0).name;  // re-parses cleanly
  ASSERT_EQ(after.parts.size(), before.parts.size());
  const Part *notice = part_at(after, "1.3");
  ASSERT_NE(notice, nullptr);
  EXPECT_EQ(notice->media_type, "text/plain");
  EXPECT_EQ(notice->charset, "utf-8");
  EXPECT_EQ(notice->disposition, "inline");
  EXPECT_TRUE(notice->filenames.empty());
  EXPECT_NE(notice->body.find("File:   invoice.pdf.exe"), std::string::npos) << notice->body;
  EXPECT_NE(notice->body.find("Part:   1.3"), std::string::npos) << notice->body;
  EXPECT_NE(notice->body.find("Reason: Attachment.DoubleExtension: blocked extension .exe"),
            std::string::npos)
      << notice->body;
  EXPECT_EQ(notice->body.find("MZ"), std::string::npos);
  EXPECT_EQ(out.find("\n") - 1, out.find("\r\n"));  // CRLF message: CRLF notice
  EXPECT_EQ(notice->body.find('\n') > 0 ? notice->body[notice->body.find('\n') - 1] : 0, '\r');
  expect_others_identical(raw, before, out, after, {"1.3"});
}

TEST(RewriteStrip, TwoSiblingsAndAddedHeader) {
  const std::string raw =
      avsink::test::read_file(avsink::test::data_path("attachments/strip-mixed-exe.eml"));
  const MessageTree before = parse_message(raw, Limits{});
  StripOptions o;
  o.added_header = "X-Avsink-Stripped";
  const std::string out = strip_ok(raw, before, {{"1.2", "test one"}, {"1.4", "test two"}}, o);
  ASSERT_EQ(out.rfind("X-Avsink-Stripped: 2 part(s) removed: 1.2 invoice-2025-031.pdf; 1.4 "
                      "logo.png\r\nFrom: ",
                      0),
            0u)
      << out.substr(0, 200);
  const std::string body = out.substr(out.find("\r\n") + 2);
  const MessageTree after = parse_message(out, Limits{});
  EXPECT_EQ(after.header("X-Avsink-Stripped"),
            "2 part(s) removed: 1.2 invoice-2025-031.pdf; 1.4 logo.png");
  EXPECT_EQ(part_at(after, "1.2")->media_type, "text/plain");
  EXPECT_EQ(part_at(after, "1.4")->media_type, "text/plain");
  EXPECT_EQ(slice(raw, *part_at(before, "1.3")), slice(out, *part_at(after, "1.3")));
  EXPECT_EQ(slice(raw, *part_at(before, "1.1")), slice(out, *part_at(after, "1.1")));
  // Without the added line, everything outside 1.2..1.4 is identical.
  const MessageTree body_tree = parse_message(body, Limits{});
  expect_others_identical(raw, before, body, body_tree, {"1.2", "1.4"});
}

// Two findings on one part (its name and its true type) remove one part: it is counted and listed
// once, and its notice gives both reasons.
TEST(RewriteStrip, TwoReasonsForOnePartListItOnce) {
  const std::string raw =
      avsink::test::read_file(avsink::test::data_path("attachments/strip-mixed-exe.eml"));
  const MessageTree before = parse_message(raw, Limits{});
  StripOptions o;
  o.added_header = "X-Avsink-Stripped";
  const std::string out = strip_ok(raw, before, {{"1.2", "reason one"}, {"1.2", "reason two"}}, o);
  const MessageTree after = parse_message(out, Limits{});
  EXPECT_EQ(after.header("X-Avsink-Stripped"), "1 part(s) removed: 1.2 invoice-2025-031.pdf");
  EXPECT_NE(out.find("reason one"), std::string::npos);
  EXPECT_NE(out.find("reason two"), std::string::npos);
}

TEST(RewriteStrip, SinglePartMessageKeepsItsHeaders) {
  const std::string raw =
      "From: a@example.org\nTo: b@example.net\nSubject: tool\n"
      "Content-Type: application/octet-stream;\n name=\"tool.exe\"\n"
      "Content-Disposition: attachment; filename=\"tool.exe\"\n"
      "Content-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA\n";
  const MessageTree before = parse_message(raw, Limits{});
  const std::string out = strip_ok(raw, before, {{"1", "Attachment.Extension.exe"}});
  EXPECT_EQ(out.rfind("From: a@example.org\nTo: b@example.net\nSubject: tool\nMIME-Version: 1.0\n"
                      "Content-Type: text/plain; charset=utf-8\n",
                      0),
            0u)
      << out;
  EXPECT_EQ(out.find("\r"), std::string::npos);  // LF message: LF notice
  EXPECT_EQ(out.find("name=\"tool.exe\""), std::string::npos);
  const MessageTree after = parse_message(out, Limits{});
  EXPECT_TRUE(after.findings.empty());
  ASSERT_EQ(after.parts.size(), 1u);
  EXPECT_EQ(after.parts[0].media_type, "text/plain");
  EXPECT_NE(after.parts[0].body.find("File:   tool.exe"), std::string::npos);
  EXPECT_EQ(after.header("Subject"), "tool");
}

TEST(RewriteStrip, MboxFromLineStaysFirst) {
  const std::string raw =
      "From sender@example.org Tue Mar  4 10:15:00 2025\nFrom: a@example.org\nMIME-Version: 1.0\n"
      "Content-Type: application/x-msdownload; name=a.exe\n\nMZ\n";
  const MessageTree before = parse_message(raw, Limits{});
  StripOptions o;
  o.added_header = "X-Avsink-Stripped";
  const std::string out = strip_ok(raw, before, {{"1", "r"}}, o);
  EXPECT_EQ(out.rfind("From sender@example.org Tue Mar  4 10:15:00 2025\nX-Avsink-Stripped: 1 "
                      "part(s) removed: 1 a.exe\nFrom: a@example.org\nMIME-Version: 1.0\n"
                      "Content-Type: text/plain",
                      0),
            0u)
      << out;
}

TEST(RewriteStrip, UuencodedFileReplacesItsTextPart) {
  const std::string raw =
      avsink::test::read_file(avsink::test::data_path("attachments/trick-uuencoded-exe.eml"));
  const MessageTree before = parse_message(raw, Limits{});
  ASSERT_NE(part_at(before, "1.1.u1"), nullptr);
  const std::string out = strip_ok(raw, before, {{"1.1.u1", "Attachment.Extension.exe"}});
  const MessageTree after = parse_message(out, Limits{});
  EXPECT_EQ(part_at(after, "1.1.u1"), nullptr);
  EXPECT_NE(part_at(after, "1.1")->body.find("File:   setup.exe"), std::string::npos);
  EXPECT_NE(part_at(after, "1.1")->body.find("Part:   1.1.u1"), std::string::npos);
  expect_others_identical(raw, before, out, after, {"1.1"});
}

std::string forwarded(bool encode_rfc822) {
  const std::string inner =
      "From: c@example.org\r\nSubject: inner\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"in\"\r\n\r\n"
      "--in\r\nContent-Type: text/plain\r\n\r\ninner text\r\n"
      "--in\r\nContent-Type: application/octet-stream; name=\"x.scr\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--in--\r\n";
  std::string rfc822_part = "Content-Type: message/rfc822\r\n";
  if (encode_rfc822) {
    static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string b;
    for (size_t i = 0; i < inner.size(); i += 3) {
      uint32_t v = static_cast<unsigned char>(inner[i]) << 16;
      if (i + 1 < inner.size()) v |= static_cast<unsigned char>(inner[i + 1]) << 8;
      if (i + 2 < inner.size()) v |= static_cast<unsigned char>(inner[i + 2]);
      b += kB64[v >> 18 & 63];
      b += kB64[v >> 12 & 63];
      b += i + 1 < inner.size() ? kB64[v >> 6 & 63] : '=';
      b += i + 2 < inner.size() ? kB64[v & 63] : '=';
    }
    rfc822_part += "Content-Transfer-Encoding: base64\r\n\r\n" + b;
  } else {
    rfc822_part += "\r\n" + inner;
  }
  return "From: a@example.org\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"out\"\r\n\r\n"
         "--out\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--out\r\n" +
         rfc822_part + "\r\n--out--\r\n";
}

TEST(RewriteStrip, InsideAPlainForwardOnlyThatPartGoes) {
  const std::string raw = forwarded(false);
  const MessageTree before = parse_message(raw, Limits{});
  ASSERT_NE(part_at(before, "1.2.1.2"), nullptr);
  const std::string out = strip_ok(raw, before, {{"1.2.1.2", "Attachment.Extension.scr"}});
  const MessageTree after = parse_message(out, Limits{});
  EXPECT_TRUE(after.findings.empty());
  EXPECT_EQ(part_at(after, "1.2")->media_type, "message/rfc822");
  EXPECT_EQ(part_at(after, "1.2.1.2")->media_type, "text/plain");
  expect_others_identical(raw, before, out, after, {"1.2.1.2"});
}

TEST(RewriteStrip, InsideAnEncodedForwardTheForwardGoes) {
  const std::string raw = forwarded(true);
  const MessageTree before = parse_message(raw, Limits{});
  ASSERT_NE(part_at(before, "1.2.1.2"), nullptr) << "the parser decodes encoded message/rfc822";
  const std::string out = strip_ok(raw, before, {{"1.2.1.2", "Attachment.Extension.scr"}});
  const MessageTree after = parse_message(out, Limits{});
  EXPECT_EQ(part_at(after, "1.2")->media_type, "text/plain");
  EXPECT_NE(part_at(after, "1.2")->body.find("File:   x.scr"), std::string::npos);
  expect_others_identical(raw, before, out, after, {"1.2"});
}

TEST(RewriteStrip, OuterRequestSwallowsInner) {
  const std::string raw = forwarded(false);
  const MessageTree before = parse_message(raw, Limits{});
  const std::string out = strip_ok(raw, before, {{"1.2.1.2", "inner"}, {"1.2", "outer"}});
  const MessageTree after = parse_message(out, Limits{});
  const Part *notice = part_at(after, "1.2");
  ASSERT_NE(notice, nullptr);
  EXPECT_EQ(notice->media_type, "text/plain");
  EXPECT_NE(notice->body.find("removed 2 attachments"), std::string::npos) << notice->body;
  EXPECT_NE(notice->body.find("Part:   1.2.1.2"), std::string::npos);
  EXPECT_NE(notice->body.find("Part:   1.2\r\n"), std::string::npos);
}

// The notice text comes from the template when one is given (rules/templates/strip-notice.txt).
TEST(RewriteStrip, NoticeFromTheShippedTemplate) {
  const std::string raw = forwarded(false);
  const MessageTree before = parse_message(raw, Limits{});
  avsink::rewrite::StripOptions o;
  o.notice_template =
      avsink::test::read_file(std::string(AVSINK_SOURCE_DIR) + "/rules/templates/strip-notice.txt");
  o.footer = "Ask ${removed} nothing";  // a value is never expanded again
  auto out = avsink::rewrite::strip_parts(raw, before, {{"1.2", "Attachment.Extension.scr"}}, o);
  ASSERT_TRUE(out.ok()) << out.error().describe();
  const MessageTree after = parse_message(*out, Limits{});
  const Part *notice = part_at(after, "1.2");
  ASSERT_NE(notice, nullptr);
  EXPECT_NE(notice->body.find("removed 1 attachment(s) from this message.\r\n\r\n  File:"),
            std::string::npos)
      << notice->body;
  EXPECT_NE(notice->body.find("Reason: Attachment.Extension.scr\r\n\r\nAsk ${removed} nothing"),
            std::string::npos)
      << notice->body;
}

TEST(RewriteStrip, HostileNamesAreShownSafely) {
  const std::string raw =
      "From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
      "boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
      "--b\r\nContent-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename*=UTF-8''Rechnung%E2%80%AEfdp.exe\r\n\r\nMZ\r\n"
      "--b\r\nContent-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename*=UTF-8''%C3%9Cbersicht.scr\r\n\r\nMZ\r\n--b--\r\n";
  const MessageTree before = parse_message(raw, Limits{});
  const std::string out =
      strip_ok(raw, before, {{"1.2", "bidi\r\nInjected: header"}, {"1.3", "scr"}});
  EXPECT_EQ(out.find("\r\nInjected:"), std::string::npos);
  const MessageTree after = parse_message(out, Limits{});
  EXPECT_NE(part_at(after, "1.2")->body.find("Rechnung<U+202E>fdp.exe"), std::string::npos)
      << part_at(after, "1.2")->body;
  EXPECT_NE(part_at(after, "1.2")->body.find("bidi<U+000D><U+000A>Injected: header"),
            std::string::npos);
  const Part *qp = part_at(after, "1.3");
  EXPECT_EQ(qp->transfer_encoding, "quoted-printable");
  EXPECT_NE(qp->body.find("File:   Übersicht.scr"), std::string::npos) << qp->body;
  for (size_t pos = 0, nl; (nl = out.find("\r\n", pos)) != std::string::npos; pos = nl + 2) {
    EXPECT_LE(nl - pos, 998u);
  }
}

TEST(RewriteStrip, Errors) {
  const std::string raw =
      avsink::test::read_file(avsink::test::data_path("attachments/strip-mixed-exe.eml"));
  const MessageTree tree = parse_message(raw, Limits{});
  auto none = strip_parts(raw, tree, {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidArgument);
  auto missing = strip_parts(raw, tree, {{"1.9", "x"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  auto other = strip_parts(raw + "extra", tree, {{"1.3", "x"}});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::kInvalidArgument);
  MessageTree empty;
  EXPECT_FALSE(strip_parts(raw, empty, {{"1", "x"}}));
}

}  // namespace
