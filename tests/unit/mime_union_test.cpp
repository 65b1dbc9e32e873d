// mime_union_test.cpp - alternate readings of ambiguous entities (UNION), embedded yEnc/BinHex,
// bare-CR line ends, message/partial and message/external-body; each bounded by its caps.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "mime/parser.h"
#include "test_support.h"

namespace {

using avsink::Finding;
using avsink::FindingKind;
using avsink::Limits;
using avsink::mime::MessageTree;
using avsink::mime::parse_message;
using avsink::mime::Part;
using avsink::mime::PartOrigin;

using avsink::test::crlf;

const Part *part(const MessageTree &t, const std::string &path) {
  for (const auto &p : t.parts)
    if (p.path == path) return &p;
  return nullptr;
}

const Finding *finding(const MessageTree &t, const std::string &name) {
  for (const auto &f : t.findings)
    if (f.name == name) return &f;
  return nullptr;
}

std::string describe(const MessageTree &t) {
  std::string o;
  for (const Part &p : t.parts)
    o += "  " + p.path + " " + p.media_type + " origin " +
         std::to_string(static_cast<int>(p.origin)) + " body \"" + p.body.substr(0, 40) + "\"\n";
  for (const auto &f : t.findings) o += "  finding " + f.name + "@" + f.part_path + "\n";
  return o;
}

size_t count_origin(const MessageTree &t, PartOrigin o) {
  return static_cast<size_t>(
      std::count_if(t.parts.begin(), t.parts.end(), [o](const Part &p) { return p.origin == o; }));
}

int index_of(const MessageTree &t, const std::string &path) {
  for (size_t i = 0; i < t.parts.size(); ++i)
    if (t.parts[i].path == path) return static_cast<int>(i);
  return -1;
}

// "PAYLOAD" in base64 is "UEFZTE9BRA==".
const char kPayloadB64[] = "UEFZTE9BRA==";

// ------------------------------------------------------------------ field ambiguities

TEST(MimeUnion, TwoBoundaryParamsSplitBothWays) {
  const std::string raw = crlf(std::string("Content-Type: multipart/mixed; boundary=a; boundary=b\n"
                                           "\n--a\nContent-Type: text/plain\n\nhello\n--b\n"
                                           "Content-Type: application/octet-stream\n"
                                           "Content-Transfer-Encoding: base64\n\n") +
                               kPayloadB64 + "\n--b--\n--a--\n");
  MessageTree t = parse_message(raw, Limits());
  const Part *primary = part(t, "1.1");
  ASSERT_NE(primary, nullptr) << describe(t);
  EXPECT_EQ(primary->origin, PartOrigin::kMime);
  const Part *alt = part(t, "1.a1");
  ASSERT_NE(alt, nullptr) << describe(t);
  EXPECT_EQ(alt->origin, PartOrigin::kAlternate);
  EXPECT_TRUE(alt->is_multipart);
  EXPECT_EQ(alt->parent, 0);
  EXPECT_EQ(alt->raw_offset, 0u);
  EXPECT_EQ(alt->raw_length, raw.size());
  const Part *hidden = part(t, "1.a1.1");
  ASSERT_NE(hidden, nullptr) << describe(t);
  EXPECT_EQ(hidden->body, "PAYLOAD");
  EXPECT_EQ(hidden->origin, PartOrigin::kAlternate);
  EXPECT_EQ(raw.substr(hidden->raw_offset, 7), "Content") << "alternate children keep raw ranges";
  ASSERT_NE(finding(t, "MIME.Ambiguous.DuplicateParam"), nullptr);
  const Finding *f = finding(t, "MIME.Ambiguous.AlternateReading");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->part_path, "1.a1");
  EXPECT_EQ(f->kind, FindingKind::kMalformed);
  EXPECT_NE(f->detail.find("boundary \"b\""), std::string::npos) << f->detail;
}

TEST(MimeUnion, ReadingsThatCannotDifferAreSkipped) {
  const char *cases[] = {
      // the second boundary never occurs as a delimiter line
      "Content-Type: multipart/mixed; boundary=a; boundary=zz\n\n--a\n\nA\n--a--\n",
      // the same CTE twice (case and comments aside)
      "Content-Transfer-Encoding: base64\nContent-Transfer-Encoding: BASE64 (again)\n\nQQ==\n",
      // two Content-Types that decode to the same leaf bytes
      "Content-Type: application/pdf\nContent-Type: application/octet-stream\n\nA\n",
      // a boundary on Content-Disposition when Content-Type's boundary splits the body
      "Content-Type: multipart/mixed; boundary=a\nContent-Disposition: inline; boundary=b\n\n"
      "--a\n\nA\n--b\n\nB\n--a--\n",
      // an unknown CTE on prose
      "Content-Transfer-Encoding: x-foo\n\nJust some words, nothing encoded here.\n",
      // a bare CR inside a Subject does not change the reading
      "Subject: a\rb\nContent-Type: text/plain\n\nA\n",
  };
  for (const char *c : cases) {
    MessageTree t = parse_message(crlf(c), Limits());
    EXPECT_EQ(count_origin(t, PartOrigin::kAlternate), 0u) << c << "\n" << describe(t);
    EXPECT_EQ(finding(t, "MIME.Ambiguous.AlternateReading"), nullptr) << c;
  }
}

TEST(MimeUnion, SecondContentTypeIsReadToo) {
  const std::string raw = crlf(std::string("Content-Type: text/plain\n"
                                           "Content-Type: multipart/mixed; boundary=\"x\"\n\n"
                                           "--x\nContent-Transfer-Encoding: base64\n\n") +
                               kPayloadB64 + "\n--x--\n");
  MessageTree t = parse_message(raw, Limits());
  ASSERT_NE(part(t, "1"), nullptr);
  EXPECT_EQ(part(t, "1")->media_type, "text/plain");
  EXPECT_EQ(part(t, "1")->body.substr(0, 3), "--x") << "the primary reading is unchanged";
  ASSERT_NE(part(t, "1.a1"), nullptr) << describe(t);
  EXPECT_EQ(part(t, "1.a1")->media_type, "multipart/mixed");
  ASSERT_NE(part(t, "1.a1.1"), nullptr) << describe(t);
  EXPECT_EQ(part(t, "1.a1.1")->body, "PAYLOAD");
  EXPECT_NE(finding(t, "MIME.Ambiguous.DuplicateContentType"), nullptr);

  // text/plain, then message/rfc822: the alternate is parsed as a message.
  MessageTree m = parse_message(crlf("Content-Type: text/plain\nContent-Type: message/rfc822\n\n"
                                     "Content-Type: application/octet-stream\n"
                                     "Content-Transfer-Encoding: base64\n\n" +
                                     std::string(kPayloadB64) + "\n"),
                                Limits());
  ASSERT_NE(part(m, "1.a1"), nullptr) << describe(m);
  EXPECT_TRUE(part(m, "1.a1")->is_message);
  ASSERT_NE(part(m, "1.a1.1"), nullptr) << describe(m);
  EXPECT_EQ(part(m, "1.a1.1")->body, "PAYLOAD");
}

TEST(MimeUnion, BoundaryOnDispositionIsAFallback) {
  const std::string raw = crlf(std::string("Content-Type: multipart/mixed\n"
                                           "Content-Disposition: inline; boundary=\"d\"\n\n"
                                           "--d\nContent-Transfer-Encoding: base64\n\n") +
                               kPayloadB64 + "\n--d--\n");
  MessageTree t = parse_message(raw, Limits());
  EXPECT_NE(finding(t, "MIME.Malformed.NoBoundary"), nullptr);
  EXPECT_NE(finding(t, "MIME.Ambiguous.BoundaryOnDisposition"), nullptr);
  ASSERT_NE(part(t, "1.a1.1"), nullptr) << describe(t);
  EXPECT_EQ(part(t, "1.a1.1")->body, "PAYLOAD");
}

TEST(MimeUnion, ConflictingAndUnknownTransferEncodings) {
  // quoted-printable, then base64: each decoding is a part.
  MessageTree t = parse_message(crlf(std::string("Content-Transfer-Encoding: quoted-printable\n"
                                                 "Content-Transfer-Encoding: base64\n\n") +
                                     kPayloadB64 + "\n"),
                                Limits());
  ASSERT_NE(part(t, "1"), nullptr);
  EXPECT_EQ(part(t, "1")->body, "UEFZTE9BRA=") << "QP: a literal '=', then a soft break";
  ASSERT_NE(part(t, "1.a1"), nullptr) << describe(t);
  EXPECT_EQ(part(t, "1.a1")->body, "PAYLOAD");
  EXPECT_EQ(part(t, "1.a1")->transfer_encoding, "base64");

  // Unknown tokens: decoded as what they name or what the body looks like.
  struct C {
    const char *cte;
    std::string body;
    const char *want_a1;
  };
  const C cases[] = {
      {"x-base64", std::string(kPayloadB64) + "\n", "PAYLOAD"},
      {"x-uu", "begin 644 x\n#0V%T\n`\nend\n", "Cat"},
      {"x-whatever", "UEFZTE9BRCBQQVlMT0FE\n", "PAYLOAD PAYLOAD"},  // looks like base64
      {"x-qp", "PAY=4C=4FAD\n", "PAYLOAD\r\n"},
  };
  // ("base64 xx" needs no second reading: the tokenizer reads it as base64 (junk dropped).)
  for (const auto &c : cases) {
    MessageTree u = parse_message(
        crlf(std::string("Content-Transfer-Encoding: ") + c.cte + "\n\n" + c.body), Limits());
    EXPECT_NE(finding(u, "MIME.Malformed.UnknownTransferEncoding"), nullptr) << c.cte;
    ASSERT_NE(part(u, "1.a1"), nullptr) << c.cte << "\n" << describe(u);
    EXPECT_EQ(part(u, "1.a1")->body, c.want_a1) << c.cte << describe(u);
  }
}

TEST(MimeUnion, BareCrSmuggledHeaderIsReadBothWays) {
  const std::string raw = crlf(
                              "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                              "Content-Type: application/octet-stream\n") +
                          "X-Foo: bar\rContent-Transfer-Encoding: base64\r\n\r\n" + kPayloadB64 +
                          "\r\n--b--\r\n";
  MessageTree t = parse_message(raw, Limits());
  const Part *primary = part(t, "1.1");
  ASSERT_NE(primary, nullptr) << describe(t);
  EXPECT_EQ(primary->transfer_encoding, "") << "primary: the CR is inside X-Foo's value";
  EXPECT_EQ(primary->body, kPayloadB64);
  const Part *alt = part(t, "1.1.a1");
  ASSERT_NE(alt, nullptr) << describe(t);
  EXPECT_EQ(alt->transfer_encoding, "base64");
  EXPECT_EQ(alt->body, "PAYLOAD");
  EXPECT_EQ(alt->raw_offset, primary->raw_offset);
  EXPECT_EQ(alt->raw_length, primary->raw_length);
  EXPECT_NE(finding(t, "MIME.Ambiguous.BareCRInHeader"), nullptr);
}

TEST(MimeUnion, AmbiguityInsideAnAlternateIsReadToo) {
  const std::string raw = crlf(std::string("Content-Type: text/plain\n"
                                           "Content-Type: multipart/mixed; boundary=x\n\n"
                                           "--x\nContent-Transfer-Encoding: quoted-printable\n"
                                           "Content-Transfer-Encoding: base64\n\n") +
                               kPayloadB64 + "\n--x--\n");
  MessageTree t = parse_message(raw, Limits());
  ASSERT_NE(part(t, "1.a1.1.a1"), nullptr) << describe(t);
  EXPECT_EQ(part(t, "1.a1.1.a1")->body, "PAYLOAD");
  EXPECT_EQ(part(t, "1.a1.1.a1")->parent, index_of(t, "1.a1.1"));
}

// ------------------------------------------------------------------ caps

TEST(MimeUnion, EveryBoundaryParameterIsReadNoneDropped) {
  // Ten boundary parameters, each used by one delimiter line: every one is a reading (issue 21:
  // the old per-entity cap of 4 dropped the rest without a finding).
  std::string ct = "Content-Type: multipart/mixed; boundary=b0";
  std::string body;
  for (int i = 1; i < 10; ++i) {
    ct += "; boundary=b" + std::to_string(i);
    body += "--b" + std::to_string(i) + "\n\nx" + std::to_string(i) + "\n";
  }
  MessageTree t = parse_message(crlf(ct + "\n\n--b0\n\nA\n" + body + "--b0--\n"), Limits());
  for (int i = 1; i < 10; ++i) {
    bool found = false;
    for (const Part &p : t.parts)
      found |=
          p.origin == PartOrigin::kAlternate && p.body.compare(0, 2, "x" + std::to_string(i)) == 0;
    EXPECT_TRUE(found) << "b" << i << "\n" << describe(t);
  }
  EXPECT_EQ(finding(t, "Limits.Exceeded.Alternates"), nullptr);
}

TEST(MimeUnion, AlternatesPerMessageAreCappedAndUnscannable) {
  std::string raw = "Content-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 200; ++i)
    raw +=
        "--b\nContent-Transfer-Encoding: quoted-printable\n"
        "Content-Transfer-Encoding: base64\n\nQUJD\n";
  raw += "--b--\n";
  const auto start = std::chrono::steady_clock::now();
  MessageTree t = parse_message(crlf(raw), Limits());
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            avsink::test::scaled(std::chrono::seconds(2)));
  EXPECT_EQ(count_origin(t, PartOrigin::kAlternate), 128u);
  const Finding *f = finding(t, "Limits.Exceeded.Alternates");
  ASSERT_NE(f, nullptr) << describe(t);
  EXPECT_EQ(f->kind, FindingKind::kUnscannable);
}

TEST(MimeUnion, AlternatesCountAgainstPartsAndDecodedBytes) {
  const std::string raw = crlf(std::string("Content-Transfer-Encoding: quoted-printable\n"
                                           "Content-Transfer-Encoding: base64\n\n") +
                               kPayloadB64 + "\n");
  Limits one_part;
  one_part.max_parts = 1;
  MessageTree t = parse_message(raw, one_part);
  EXPECT_EQ(t.parts.size(), 1u);
  EXPECT_NE(finding(t, "Limits.Exceeded.Parts"), nullptr) << describe(t);

  Limits small;
  small.max_decoded_bytes = 14;  // the QP reading (11 bytes) fits, the base64 one (7) does not
  MessageTree u = parse_message(raw, small);
  EXPECT_NE(finding(u, "Limits.Exceeded.DecodedBytes"), nullptr) << describe(u);
  EXPECT_LE(u.decoded_bytes, 14u);
}

// ------------------------------------------------------------------ bare CR line ends

TEST(MimeUnion, CrOnlyMessageIsReadWithCrLineEnds) {
  std::string raw = std::string(
                        "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nhello\n--b\n"
                        "Content-Transfer-Encoding: base64\n\n") +
                    kPayloadB64 + "\n--b--\n";
  std::replace(raw.begin(), raw.end(), '\n', '\r');
  MessageTree t = parse_message(raw, Limits());
  const Finding *f = finding(t, "MIME.Malformed.BareCR");
  ASSERT_NE(f, nullptr) << describe(t);
  EXPECT_EQ(f->part_path, "1");
  ASSERT_NE(part(t, "1.2"), nullptr) << describe(t);
  EXPECT_EQ(part(t, "1.2")->body, "PAYLOAD");
  EXPECT_EQ(part(t, "1.2")->origin, PartOrigin::kMime);
  EXPECT_EQ(part(t, "1.1")->body, "hello");
  const Part &p = *part(t, "1.2");
  EXPECT_EQ(raw.substr(p.raw_offset, p.raw_length),
            std::string("Content-Transfer-Encoding: base64\r\r") + kPayloadB64)
      << "raw offsets index the message as received";
  EXPECT_EQ(count_origin(t, PartOrigin::kAlternate), 0u);

  // A CR-only message inside a base64-encoded message/rfc822 part.
  // base64 of "Content-Transfer-Encoding: base64" CR CR "UEFZTE9BRA==" CR
  MessageTree m = parse_message(crlf("Content-Type: message/rfc822\n"
                                     "Content-Transfer-Encoding: base64\n\n"
                                     "Q29udGVudC1UcmFuc2Zlci1FbmNvZGluZzogYmFzZTY0DQ1VRUZaVEU5QlJB"
                                     "PT0N\n"),
                                Limits());
  ASSERT_NE(part(m, "1.1"), nullptr) << describe(m);
  EXPECT_EQ(part(m, "1.1")->body, "PAYLOAD") << describe(m);
  EXPECT_NE(finding(m, "MIME.Malformed.BareCR"), nullptr);
}

TEST(MimeUnion, OversizedCrOnlyMessageReadsItsHeaderOnly) {
  std::string raw = "Subject: big\rContent-Type: text/plain\r\r" + std::string(5000, 'x');
  Limits l;
  l.max_message_bytes = 1000;
  l.max_header_bytes = 100;
  MessageTree t = parse_message(raw, l);
  ASSERT_EQ(t.parts.size(), 1u);
  EXPECT_EQ(t.subject(), "big");
  EXPECT_EQ(t.parts[0].media_type, "text/plain");
  EXPECT_EQ(t.parts[0].raw_length, raw.size());
  EXPECT_NE(finding(t, "Limits.Exceeded.MessageBytes"), nullptr);
  EXPECT_NE(finding(t, "MIME.Malformed.BareCR"), nullptr);
}

// ------------------------------------------------------------------ message/partial, external

TEST(MimeUnion, MessagePartialIsUnscannableExternalBodyIsInfo) {
  MessageTree t = parse_message(crlf("Content-Type: message/partial; id=\"x@y\"; number=1; "
                                     "total=2\n\nContent-Type: text/plain\n\nfirst half\n"),
                                Limits());
  const Finding *f = finding(t, "MIME.MessagePartial");
  ASSERT_NE(f, nullptr) << describe(t);
  EXPECT_EQ(f->kind, FindingKind::kUnscannable);
  EXPECT_EQ(f->part_path, "1");
  ASSERT_EQ(t.parts.size(), 1u) << "never reassembled or parsed as a message";
  EXPECT_NE(t.parts[0].body.find("first half"), std::string::npos) << "the fragment is scanned";

  MessageTree e = parse_message(
      crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
           "Content-Type: message/external-body; access-type=URL; URL=\"http://x/y.exe\"\n\n"
           "Content-Type: application/octet-stream\n\n\n--b--\n"),
      Limits());
  // external-body carries no content (the reader fetches it, as it follows a link): info only.
  const Finding *g = finding(e, "MIME.ExternalBody");
  ASSERT_NE(g, nullptr) << describe(e);
  EXPECT_EQ(g->kind, FindingKind::kMalformed);
  EXPECT_EQ(g->part_path, "1.1");
}

// ------------------------------------------------------------------ embedded yEnc / BinHex

// BinHex 4.0 of name "a.txt", data "Hello" 0x90 + 20 x "A" + "z", resource fork "RS".
const char kBinhexFile[] = R"x(:"@%ZG(Kd!&4&@&4dG(Kd!*!&'`!!!!*9-%KPE'a[N!""N"4kkA458jr0:)x";

TEST(MimeUnion, YencAndBinhexInTextPreambleAndEpilogue) {
  // "Cat" in yEnc is "m" 0x8b 0x9e.
  const std::string yenc = "=ybegin line=128 size=3 name=cat.bin\nm\x8b\x9e\n=yend size=3\n";
  const std::string binhex =
      std::string("(This file must be converted with BinHex 4.0)\n") + kBinhexFile + "\n";
  const std::string binhex_upper =  // the marker's case does not matter
      std::string("(THIS FILE MUST BE CONVERTED WITH BINHEX 4.0)\n") + kBinhexFile + "\n";
  const std::string raw =
      crlf("Content-Type: multipart/mixed; boundary=b\n\n" + yenc +
           "--b\nContent-Type: text/plain\n\nsee:\n" + yenc + binhex + "--b--\n" + binhex_upper);
  MessageTree t = parse_message(raw, Limits());
  struct W {
    const char *path;
    PartOrigin origin;
    std::string body;
    const char *name;
  };
  const W want[] = {
      {"1.y1", PartOrigin::kYenc, "Cat", "cat.bin"},  // preamble
      {"1.1.y1", PartOrigin::kYenc, "Cat", "cat.bin"},
      {"1.1.b1", PartOrigin::kBinhex, "Hello\x90" + std::string(20, 'A') + "z", "a.txt"},
      {"1.1.b2", PartOrigin::kBinhex, "RS", "a.txt"},  // the resource fork
      {"1.b1", PartOrigin::kBinhex, "Hello\x90" + std::string(20, 'A') + "z", "a.txt"},  // epilogue
  };
  for (const auto &w : want) {
    const Part *p = part(t, w.path);
    ASSERT_NE(p, nullptr) << w.path << "\n" << describe(t);
    EXPECT_EQ(p->origin, w.origin) << w.path;
    EXPECT_EQ(p->body, w.body) << w.path;
    ASSERT_FALSE(p->filenames.empty()) << w.path;
    EXPECT_EQ(p->filenames[0], w.name) << w.path;
    const Part &parent = t.parts[static_cast<size_t>(p->parent)];
    EXPECT_EQ(p->raw_offset, parent.raw_offset) << w.path;
    EXPECT_EQ(p->raw_length, parent.raw_length) << w.path << ": the bytes that hold it";
  }
  for (const auto &f : t.findings) EXPECT_NE(f.kind, FindingKind::kUnscannable) << f.name;
}

TEST(MimeUnion, EmbeddedBlocksRespectMaxParts) {
  std::string text = "Content-Type: text/plain\n\n";
  for (int i = 0; i < 50; ++i) text += "=ybegin size=1 name=f\nk\n=yend\n";
  Limits l;
  l.max_parts = 10;
  MessageTree t = parse_message(crlf(text), l);
  EXPECT_EQ(t.parts.size(), 10u);
  EXPECT_NE(finding(t, "Limits.Exceeded.Parts"), nullptr);
}

// Found by fuzz_mime: blocks in the preamble were budgeted before the children were queued.
TEST(MimeUnion, PreambleBlocksAndChildrenShareThePartsBudget) {
  std::string raw = "Content-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 3; ++i)
    raw += "begin 644 u\n#0V%T\n`\nend\n=ybegin size=3 name=y\nk\n=yend\n";
  raw += "--b\n\nA\n--b\n\nB\n--b\n\nC\n--b--\n";
  for (uint32_t max = 1; max <= 12; ++max) {
    Limits l;
    l.max_parts = max;
    MessageTree t = parse_message(crlf(raw), l);
    EXPECT_LE(t.parts.size(), max) << describe(t);
    EXPECT_EQ(finding(t, "Limits.Exceeded.Parts") != nullptr, max < 10) << max << describe(t);
  }
}

// ------------------------------------------------------------------ hostile mixes

TEST(MimeUnion, RandomAmbiguousMessagesStayBounded) {
  const std::vector<std::string> pieces = {
      "Content-Type: multipart/mixed; boundary=a; boundary=b\n",
      "Content-Type: text/plain\n",
      "Content-Type: message/rfc822\n",
      "Content-Type: message/partial\n",
      "Content-Disposition: inline; boundary=a\n",
      "Content-Transfer-Encoding: base64\n",
      "Content-Transfer-Encoding: quoted-printable\n",
      "Content-Transfer-Encoding: x-base64\n",
      "X-Foo: bar\rContent-Type: multipart/mixed; boundary=b\n",
      "\n",
      "--a\n",
      "--b\n",
      "--a--\n",
      "--b--\n",
      "=ybegin size=3 name=x\nm\x8b\x9e\n",
      "(This file must be converted with BinHex 4.0)\n:",
      "begin 644 x\n#0V%T\n`\nend\n",
      "UEFZTE9BRA==\n",
      "\r",
  };
  std::mt19937 rng(12345);
  Limits l;
  l.max_parts = 200;
  for (int round = 0; round < 300; ++round) {
    std::string raw;
    const int n = 20 + static_cast<int>(rng() % 200);
    for (int i = 0; i < n; ++i) raw += pieces[rng() % pieces.size()];
    if (round % 2) raw = crlf(raw);
    MessageTree t = parse_message(raw, l);
    ASSERT_LE(t.parts.size(), l.max_parts) << round;
    ASSERT_LE(count_origin(t, PartOrigin::kAlternate), 200u) << round;
    for (const Part &p : t.parts) {
      ASSERT_LE(p.raw_offset + p.raw_length, raw.size()) << round;
      if (p.parent >= 0) {
        ASSERT_LT(static_cast<size_t>(p.parent), t.parts.size());
      }
    }
  }
}

}  // namespace

namespace {

// HOSTILE #34: a second Content-Disposition (or Content-Type) field's name is a candidate too.
TEST(MimeUnion, NamesFromEveryDispositionAndTypeFieldAreCandidates) {
  const std::string msg =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
      "Content-Type: application/octet-stream; name=\"a.txt\"\r\n"
      "Content-Type: application/octet-stream; name=\"b.js\"\r\n"
      "Content-Disposition: attachment; filename=\"photo.txt\"\r\n"
      "Content-Disposition: attachment; filename=\"photo.scr\"\r\n\r\nxyz\r\n--b--\r\n";
  auto tree = avsink::mime::parse_message(msg, avsink::Limits{});
  ASSERT_GE(tree.parts.size(), 2u);
  const auto &names = tree.parts[1].filenames;
  for (const char *want : {"photo.txt", "photo.scr", "a.txt", "b.js"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end())
        << "candidate " << want << " missing";
}

}  // namespace
