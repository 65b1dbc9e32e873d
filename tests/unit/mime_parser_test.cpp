// mime_parser_test.cpp - the splitter, parse_message's tree, findings, and every limit at -1/0/+1.
// Hostile sizes (10,000-deep nesting, 100k parts, a 2 MB header line) must end fast and bounded.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "mime/entity.h"
#include "mime/multipart.h"
#include "mime/parser.h"
#include "test_support.h"

namespace {

using avsink::FindingKind;
using avsink::Limits;
using avsink::mime::MessageTree;
using avsink::mime::parse_message;
using avsink::mime::Part;

using avsink::Finding;

const Finding *finding(const MessageTree &t, const std::string &name) {
  for (const auto &f : t.findings)
    if (f.name == name) return &f;
  return nullptr;
}

std::string names(const MessageTree &t) {
  std::string out;
  for (const auto &f : t.findings) out += (out.empty() ? "" : ", ") + f.name + "@" + f.part_path;
  return out.empty() ? "(none)" : out;
}

bool any_unscannable(const MessageTree &t) {
  return std::any_of(t.findings.begin(), t.findings.end(),
                     [](const Finding &f) { return f.kind == FindingKind::kUnscannable; });
}

const Part *part(const MessageTree &t, const std::string &path) {
  for (const auto &p : t.parts)
    if (p.path == path) return &p;
  return nullptr;
}

std::string crlf(std::string s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
    out += s[i];
  }
  return out;
}

// ---------------------------------------------------------------- splitter

TEST(MimeSplitter, Table) {
  struct Case {
    const char *name;
    std::string body;
    std::vector<std::string> parts;
    bool start, close;
    std::string preamble, epilogue;
    bool after_close = false;
  };
  const Case cases[] = {
      {"basic crlf", "--b\r\nA\r\n--b\r\nB\r\n--b--\r\n", {"A", "B"}, true, true, "", ""},
      {"lf only", "--b\nA\n--b\nB\n--b--\n", {"A", "B"}, true, true, "", ""},
      {"preamble epilogue",
       "pre\r\n--b\r\nA\r\n--b--\r\nepi\r\n",
       {"A"},
       true,
       true,
       "pre",
       "epi\r\n"},
      {"transport padding", "--b \t\r\nA\r\n--b--  \r\n", {"A"}, true, true, "", ""},
      {"near miss is content", "--b\r\nA\r\n--bx\r\n--b--\r\n", {"A\r\n--bx"}, true, true, "", ""},
      {"mid-line is content", "--b\r\nA --b\r\n--b--\r\n", {"A --b"}, true, true, "", ""},
      {"missing close", "--b\r\nA\r\n--b\r\nB\r\n", {"A", "B"}, true, false, "", ""},
      {"missing close no final eol", "--b\r\nA\r\n--b\r\nB", {"A", "B"}, true, false, "", ""},
      {"empty part", "--b\r\n--b--\r\n", {""}, true, true, "", ""},
      {"no delimiter", "just text\r\n", {}, false, false, "", ""},
      {"close at eof without eol", "--b\r\nA\r\n--b--", {"A"}, true, true, "", ""},
      {"parts after close",
       "--b\r\nA\r\n--b--\r\n--b\r\nhidden\r\n",
       {"A"},
       true,
       true,
       "",
       "--b\r\nhidden\r\n",
       true},
      {"nul bytes",
       std::string("--b\r\nA\0B\r\n--b--\r\n", 15),
       {std::string("A\0B", 3)},
       true,
       true,
       "",
       ""},
  };
  for (const auto &c : cases) {
    auto s = avsink::mime::split_multipart(c.body, "b", 100);
    std::vector<std::string> got;
    for (const auto &r : s.parts) got.emplace_back(c.body.substr(r.begin, r.size()));
    EXPECT_EQ(got, c.parts) << c.name << ": parts differ (got " << got.size() << ", want "
                            << c.parts.size() << ")";
    EXPECT_EQ(s.found_start, c.start) << c.name;
    EXPECT_EQ(s.found_close, c.close) << c.name;
    EXPECT_EQ(c.body.substr(s.preamble.begin, s.preamble.size()), c.preamble) << c.name;
    if (c.close) {
      EXPECT_EQ(c.body.substr(s.epilogue.begin, s.epilogue.size()), c.epilogue) << c.name;
    }
    EXPECT_EQ(s.after_close, c.after_close) << c.name;
  }
}

TEST(MimeSplitter, MaxPartsStopsScanning) {
  std::string body;
  for (int i = 0; i < 10; ++i) body += "--b\r\nx\r\n";
  body += "--b--\r\n";
  const struct {
    size_t limit;
    size_t want;
    bool exceeded;
  } cases[] = {{11, 10, false}, {10, 10, false}, {9, 9, true}, {0, 0, true}};
  for (const auto &c : cases) {
    auto s = avsink::mime::split_multipart(body, "b", c.limit);
    EXPECT_EQ(s.parts.size(), c.want) << "max_parts " << c.limit;
    EXPECT_EQ(s.parts_exceeded, c.exceeded) << "max_parts " << c.limit;
  }
}

// Random bodies built from the pieces delimiter lines are made of. The dash-line index must list
// exactly the lines a plain walk finds, and a split over it must equal a plain line-by-line split
// (written here from RFC 2046 §5.1.1, independently of multipart.cpp).
TEST(MimeSplitter, DashLineIndexAgreesWithAPlainLineWalk) {
  struct Ref {
    bool start = false, close = false, after_close = false, prefix_lines = false;
    std::vector<std::pair<size_t, size_t>> parts;
  };
  auto reference = [](std::string_view body, std::string_view b, bool prefix) {
    Ref r;
    int state = 0;  // 0 preamble, 1 in a part, 2 epilogue
    size_t part_start = 0, pos = 0;
    auto cut = [&](size_t at) {
      if (at == 0 || body[at - 1] != '\n') return at;
      return at >= 2 && body[at - 2] == '\r' ? at - 2 : at - 1;
    };
    while (pos < body.size()) {
      size_t nl = body.find('\n', pos);
      const size_t next = nl == std::string_view::npos ? body.size() : nl + 1;
      std::string_view line =
          body.substr(pos, (nl == std::string_view::npos ? body.size() : nl) - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const std::string lead = "--" + std::string(b);
      bool is_delim = false, is_close = false;
      if (line.substr(0, lead.size()) == lead) {
        std::string_view rest = line.substr(lead.size());
        is_close = rest.substr(0, 2) == "--";
        if (is_close) rest.remove_prefix(2);
        const bool blank = rest.find_first_not_of(" \t") == std::string_view::npos;
        is_delim = prefix || blank;
        if (!prefix && !blank) r.prefix_lines = true;
      }
      if (is_delim) {
        if (state == 2) {
          r.after_close = true;
          break;
        }
        if (state == 0) r.start = true;
        if (state == 1) r.parts.emplace_back(part_start, std::max(cut(pos), part_start));
        if (is_close) {
          r.close = true;
          state = 2;
        } else {
          part_start = next;
          state = 1;
        }
      }
      pos = next;
    }
    if (state == 1) {
      size_t end = body.size();
      if (end > part_start && body[end - 1] == '\n') {
        --end;
        if (end > part_start && body[end - 1] == '\r') --end;
      }
      r.parts.emplace_back(part_start, end);
    }
    return r;
  };
  const std::vector<std::string> pieces = {"--b", "--b--", "--", "-",  "b",    "x",    " ",
                                           "\t",  "\r\n",  "\n", "\r", "--bx", "---b", "PK"};
  uint32_t seed = 20261203;
  auto rnd = [&seed](uint32_t n) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) % n;
  };
  for (int round = 0; round < 3000; ++round) {
    std::string body;
    const uint32_t n = rnd(40);
    for (uint32_t i = 0; i < n; ++i) body += pieces[rnd(static_cast<uint32_t>(pieces.size()))];
    std::vector<size_t> naive;
    for (size_t p = 0; p < body.size(); ++p)
      if (body[p] == '-' && (p == 0 || body[p - 1] == '\n')) naive.push_back(p);
    ASSERT_EQ(avsink::mime::dash_line_starts(body), naive) << "body \"" << body << "\"";
    for (const char *b : {"b", ""}) {
      for (bool prefix : {false, true}) {
        const avsink::mime::MultipartSplit got =
            avsink::mime::split_multipart(body, b, 1000, prefix);
        const Ref want = reference(body, b, prefix);
        std::vector<std::pair<size_t, size_t>> got_parts;
        for (const auto &r : got.parts) got_parts.emplace_back(r.begin, r.end);
        ASSERT_EQ(got_parts, want.parts)
            << "boundary \"" << b << "\" prefix " << prefix << " body \"" << body << "\"";
        ASSERT_EQ(got.found_start, want.start) << body;
        ASSERT_EQ(got.found_close, want.close) << body;
        ASSERT_EQ(got.after_close, want.after_close) << body;
        if (!prefix) {
          ASSERT_EQ(got.prefix_lines, want.prefix_lines) << body;
        }
      }
    }
  }
}

// ---------------------------------------------------------------- header block

TEST(MimeHeaders, ScanAndUnfold) {
  Limits lim;
  auto hs = avsink::mime::scan_headers(
      "Subject: a\r\n  folded\r\n\tagain\r\nX-Empty:\r\nTo: b\r\n\r\nbody", true, lim);
  ASSERT_EQ(hs.fields.size(), 3u);
  EXPECT_EQ(hs.fields[0].name, "Subject");
  EXPECT_EQ(hs.fields[0].value, "a  folded\tagain") << "unfold removes only CRLF";
  EXPECT_EQ(hs.fields[1].value, "");
  EXPECT_TRUE(hs.problems.empty());

  hs = avsink::mime::scan_headers("Subject: a\r\nthis is not a header\r\nmore\r\n", false, lim);
  ASSERT_EQ(hs.fields.size(), 1u);
  EXPECT_EQ(hs.body_offset, 12u) << "the non-header line starts the body";
  EXPECT_EQ(hs.problems, std::vector<std::string>{"MIME.Malformed.NoHeaderSeparator"});

  hs = avsink::mime::scan_headers("Content-Type : text/html\n\nx", false, lim);
  ASSERT_EQ(hs.fields.size(), 1u);
  EXPECT_EQ(hs.fields[0].name, "Content-Type");
  EXPECT_EQ(hs.problems, std::vector<std::string>{"MIME.Malformed.HeaderNameWhitespace"});

  hs = avsink::mime::scan_headers("From alice Tue Mar 4\nSubject: s\n\nb", true, lim);
  ASSERT_EQ(hs.fields.size(), 1u) << "mbox From_ line is skipped at the top level";
  EXPECT_EQ(hs.fields[0].name, "Subject");
}

// ---------------------------------------------------------------- tree shape

TEST(MimeParser, TreeShapePathsAndOffsets) {
  const std::string raw = crlf(
      "From: a@example.org\n"
      "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n"
      "Content-Type: multipart/mixed; boundary=outer\n"
      "\n"
      "--outer\n"
      "Content-Type: text/plain; charset=UTF-8\n"
      "\n"
      "hello\n"
      "--outer\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "Subject: inner\n"
      "Content-Type: multipart/alternative; boundary=inner\n"
      "\n"
      "--inner\n"
      "\n"
      "plain\n"
      "--inner\n"
      "Content-Type: application/octet-stream\n"
      "Content-Disposition: ATTACHMENT; filename=\"x.bin\"\n"
      "Content-Transfer-Encoding: Base64\n"
      "\n"
      "AAEC\n"
      "--inner--\n"
      "--outer--\n");
  MessageTree t = parse_message(raw, Limits());
  EXPECT_TRUE(t.findings.empty()) << names(t);
  const struct {
    const char *path;
    const char *media_type;
    uint32_t depth;
    const char *parent;
    const char *body;
  } want[] = {
      {"1", "multipart/mixed", 0, "", ""},
      {"1.1", "text/plain", 1, "1", "hello"},
      {"1.2", "message/rfc822", 1, "1", ""},
      {"1.2.1", "multipart/alternative", 2, "1.2", ""},
      {"1.2.1.1", "text/plain", 3, "1.2.1", "plain"},
      {"1.2.1.2", "application/octet-stream", 3, "1.2.1", "\x00\x01\x02"},
  };
  ASSERT_EQ(t.parts.size(), std::size(want));
  for (size_t i = 0; i < std::size(want); ++i) {
    const Part &p = t.parts[i];
    EXPECT_EQ(p.path, want[i].path) << "part " << i;
    EXPECT_EQ(p.media_type, want[i].media_type) << p.path;
    EXPECT_EQ(p.depth, want[i].depth) << p.path;
    std::string parent = p.parent < 0 ? "" : t.parts[static_cast<size_t>(p.parent)].path;
    EXPECT_EQ(parent, want[i].parent) << p.path;
    std::string body(want[i].body, i == 5 ? 3 : std::char_traits<char>::length(want[i].body));
    EXPECT_EQ(p.body, body) << p.path;
    // raw_offset/raw_length locate the entity in the raw message.
    ASSERT_LE(p.raw_offset + p.raw_length, raw.size()) << p.path;
  }
  EXPECT_TRUE(t.parts[0].is_multipart);
  EXPECT_TRUE(t.parts[2].is_message);
  EXPECT_EQ(t.parts[1].charset, "utf-8");
  EXPECT_EQ(t.parts[5].disposition, "attachment");
  EXPECT_EQ(t.parts[5].transfer_encoding, "base64");
  EXPECT_EQ(t.parts[5].filenames, std::vector<std::string>{"x.bin"});
  EXPECT_EQ(t.parts[5].filename_raw, "x.bin");
  EXPECT_EQ(raw.substr(t.parts[1].raw_offset, t.parts[1].raw_length),
            "Content-Type: text/plain; charset=UTF-8\r\n\r\nhello");
  EXPECT_EQ(raw.substr(t.parts[3].raw_offset, 9), "Subject: ");
  EXPECT_EQ(t.subject(),
            "Gr\xc3\xbc\xc3\x9f"
            "e");
  EXPECT_EQ(t.header("from"), "a@example.org");
  EXPECT_EQ(t.header("X-Missing"), "");
  EXPECT_EQ(t.decoded_bytes, 5u + 5u + 3u);
}

TEST(MimeParser, DigestDefaultsAndUnknownMultipart) {
  const std::string raw = crlf(
      "Content-Type: multipart/digest; boundary=d\n\n"
      "--d\n\nSubject: one\n\nbody one\n"
      "--d\nContent-Type: text/plain\n\nexplicit\n"
      "--d--\n");
  MessageTree t = parse_message(raw, Limits());
  ASSERT_EQ(t.parts.size(), 4u) << names(t);
  EXPECT_EQ(t.parts[1].media_type, "message/rfc822");
  EXPECT_EQ(t.parts[2].path, "1.1.1");
  EXPECT_EQ(t.parts[2].body, "body one");
  EXPECT_EQ(t.parts[3].media_type, "text/plain");

  // HOSTILE #20: an unknown multipart subtype is split like mixed.
  MessageTree u = parse_message(
      crlf("Content-Type: mULTipart/x-invalid; boundary=q\n\n--q\n\na\n--q\n\nb\n--q--\n"),
      Limits());
  ASSERT_EQ(u.parts.size(), 3u);
  EXPECT_EQ(u.parts[0].media_type, "multipart/x-invalid");
  EXPECT_EQ(u.parts[2].body, "b");
}

TEST(MimeParser, UuencodeInTextPreambleAndEpilogue) {
  const std::string raw = crlf(
      "Content-Type: multipart/mixed; boundary=b\n\n"
      "begin 644 pre.txt\n#0V%T\n`\nend\n"
      "--b\nContent-Type: text/plain\n\n"
      "see:\nbegin 644 cat.txt\n#0V%T\n`\nend\nbegin 600 dog.txt\n#9&]G\n`\nend\n"
      "--b--\n"
      "begin 644 epi.txt\n#0V%T\n`\nend\n");
  MessageTree t = parse_message(raw, Limits());
  struct W {
    const char *path, *name, *body;
  };
  const W want[] = {{"1.u1", "pre.txt", "Cat"},
                    {"1.u2", "epi.txt", "Cat"},
                    {"1.1.u1", "cat.txt", "Cat"},
                    {"1.1.u2", "dog.txt", "dog"}};
  for (const auto &w : want) {
    const Part *p = part(t, w.path);
    ASSERT_NE(p, nullptr) << "no part " << w.path << "; findings " << names(t);
    EXPECT_EQ(p->origin, avsink::mime::PartOrigin::kUuencode) << w.path;
    EXPECT_EQ(p->filenames, std::vector<std::string>{w.name}) << w.path;
    EXPECT_EQ(p->body, w.body) << w.path;
    EXPECT_EQ(p->depth, t.parts[static_cast<size_t>(p->parent)].depth + 1) << w.path;
  }
}

TEST(MimeParser, ShortUuencodeBodiesSurviveTreeGrowth) {
  // A 13-byte text body lives inside the Part (small-string storage); adding the uuencode parts
  // grows the part vector and moves it. Several such parts make a reallocation certain.
  std::string raw = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 20; ++i) raw += "--b\r\n\r\nbegin 1 a\n!80\r\n";
  raw += "--b--\r\n";
  MessageTree t = parse_message(raw, Limits());
  size_t uu = 0;
  for (const auto &p : t.parts) {
    if (p.origin != avsink::mime::PartOrigin::kUuencode) continue;
    ++uu;
    EXPECT_EQ(p.body, "a") << p.path;
    EXPECT_EQ(p.filenames, std::vector<std::string>{"a"}) << p.path;
  }
  EXPECT_EQ(uu, 20u) << names(t);
}

TEST(MimeParser, NulBytesNeverTruncate) {
  const std::string raw("Subject: a\0b\r\nContent-Type: text/plain\r\n\r\nx\0y\0z", 47);
  MessageTree t = parse_message(raw, Limits());
  ASSERT_EQ(t.parts.size(), 1u);
  EXPECT_EQ(t.parts[0].body, std::string("x\0y\0z", 5));
  EXPECT_EQ(t.header("subject"), std::string("a\0b", 3));
}

TEST(MimeParser, EncodedMessageRfc822IsDecodedAndParsed) {
  std::string inner =
      "Subject: hidden\r\nContent-Type: application/x-msdownload; "
      "name=evil.exe\r\n\r\nMZ";
  // base64 of the inner message, computed by the decoder's inverse in Python:
  // here we just use a known encoding.
  const std::string b64 =
      "U3ViamVjdDogaGlkZGVuDQpDb250ZW50LVR5cGU6IGFwcGxpY2F0aW9uL3gtbXNkb3dubG9hZDsg"
      "bmFtZT1ldmlsLmV4ZQ0KDQpNWg==";
  const std::string raw =
      crlf("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n" + b64 + "\n");
  MessageTree t = parse_message(raw, Limits());
  ASSERT_EQ(t.parts.size(), 2u) << names(t);
  EXPECT_NE(finding(t, "MIME.Malformed.EncodedMessage"), nullptr) << names(t);
  EXPECT_EQ(t.parts[1].filenames, std::vector<std::string>{"evil.exe"});
  EXPECT_EQ(t.parts[1].body, "MZ");
  EXPECT_EQ(t.parts[1].raw_offset, t.parts[0].raw_offset + raw.find(b64));
}

TEST(MimeParser, MalformedFindings) {
  struct Case {
    const char *name;
    std::string raw;
    const char *want;  // finding name
    size_t want_parts;
  };
  const Case cases[] = {
      {"missing close", crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nA\n"),
       "MIME.Malformed.MissingCloseBoundary", 2},
      {"no boundary", crlf("Content-Type: multipart/mixed\n\n--b\n\nA\n--b--\n"),
       "MIME.Malformed.NoBoundary", 1},
      {"boundary not found", crlf("Content-Type: multipart/mixed; boundary=zz\n\n--b\nA\n"),
       "MIME.Malformed.BoundaryNotFound", 1},
      {"no separator", crlf("Subject: x\nnot a header\n"), "MIME.Malformed.NoHeaderSeparator", 1},
      {"bad base64", crlf("Content-Transfer-Encoding: base64\n\nYW#Jj\n"), "MIME.Malformed.Base64",
       1},
      {"bad qp", crlf("Content-Transfer-Encoding: quoted-printable\n\na=ZZ\n"),
       "MIME.Malformed.QuotedPrintable", 1},
      {"unknown cte", crlf("Content-Transfer-Encoding: x-base64\n\nabc\n"),
       "MIME.Malformed.UnknownTransferEncoding", 1},
      {"duplicate boundary",
       crlf("Content-Type: multipart/mixed; boundary=a; boundary=b\n\n--a\n\nA\n--a--\n"),
       "MIME.Ambiguous.DuplicateParam", 2},
      {"two content-types",
       crlf("Content-Type: multipart/mixed; boundary=a\nContent-Type: text/plain\n\n--a\n\nA\n"
            "--a--\n"),
       "MIME.Ambiguous.DuplicateContentType", 2},
      {"boundary on disposition",
       crlf("Content-Type: text/plain\nContent-Disposition: inline; boundary=x\n\nA\n"),
       "MIME.Ambiguous.BoundaryOnDisposition", 1},
      {"unbalanced quote", crlf("Content-Type: multipart/mixed; boundary=\"a\n\n--a\n\nA\n--a--\n"),
       "MIME.Malformed.UnbalancedQuote", 2},
      {"content-type junk", crlf("Content-Type: text\n\nA\n"), "MIME.Malformed.ContentType", 1},
      {"parts after close",
       crlf("Content-Type: multipart/mixed; boundary=a\n\n--a\n\nA\n--a--\n"
            "--a\n\nhidden\n"),
       "MIME.Ambiguous.PartsAfterCloseBoundary", 2},
  };
  for (const auto &c : cases) {
    MessageTree t = parse_message(c.raw, Limits());
    const Finding *f = finding(t, c.want);
    ASSERT_NE(f, nullptr) << c.name << ": findings got [" << names(t) << "], want " << c.want;
    EXPECT_EQ(f->kind, FindingKind::kMalformed) << c.name;
    EXPECT_EQ(f->inspector, "mime") << c.name;
    // The MIME structure only: ambiguous cases also get alternate readings (tested below).
    size_t mime_parts = 0;
    for (const Part &p : t.parts) mime_parts += p.origin == avsink::mime::PartOrigin::kMime;
    EXPECT_EQ(mime_parts, c.want_parts) << c.name << ": parts";
    EXPECT_FALSE(any_unscannable(t)) << c.name << ": " << names(t);
  }
}

TEST(MimeParser, MimeticOnBlockCrashRegression) {
  // DESIGN.md §7: this 1 KB message makes mimetic 0.9.8's IteratorParser::onBlock throw.
  std::string raw = avsink::test::read_file(
      avsink::test::data_path("regressions/mimetic-0.9.8-onblock-crash.eml"));
  ASSERT_FALSE(raw.empty());
  MessageTree t = parse_message(raw, Limits());
  ASSERT_FALSE(t.parts.empty());
  EXPECT_FALSE(t.findings.empty()) << "the broken structure must be reported";
  EXPECT_NE(finding(t, "MIME.Malformed.NoBoundary"), nullptr) << names(t);
  EXPECT_EQ(t.parts[0].media_type, "multipart/mixenid");
  EXPECT_FALSE(t.parts[0].body.empty()) << "the unsplittable body is still kept for scanning";
}

// ---------------------------------------------------------------- limits at -1 / 0 / +1

std::string nested_multiparts(int levels) {
  std::string head, tail;
  for (int i = 0; i < levels; ++i) {
    std::string b = "b" + std::to_string(i);
    head += "Content-Type: multipart/mixed; boundary=" + b + "\r\n\r\n--" + b + "\r\n";
    tail = "\r\n--" + b + "--\r\n" + tail;
  }
  return head + "Content-Type: text/plain\r\n\r\nleaf" + tail;
}

std::string nested_messages(int levels) {
  std::string s;
  for (int i = 0; i < levels; ++i) s += "Content-Type: message/rfc822\r\n\r\n";
  return s + "Subject: x\r\n\r\nleaf";
}

std::string many_parts(int n) {
  std::string s = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < n; ++i) s += "--b\r\n\r\nx\r\n";
  return s + "--b--\r\n";
}

std::string many_fields(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "X-H: v\r\n";
  return s + "\r\nbody";
}

// One field line of exactly `bytes` bytes including CRLF.
std::string header_of_bytes(size_t bytes) {
  return "X: " + std::string(bytes - 5, 'a') + "\r\n\r\nbody";
}

std::string many_params(int n) {
  std::string s = "Content-Type: text/plain";
  for (int i = 0; i < n; ++i) s += "; p" + std::to_string(i) + "=v";
  return s + "\r\n\r\nbody";
}

std::string boundary_of(size_t len) {
  std::string b(len, 'q');
  return "Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\n--" + b + "\r\n\r\nA\r\n--" +
         b + "--\r\n";
}

TEST(MimeLimits, EachLimitAtMinusOneLimitPlusOne) {
  struct Case {
    const char *what;  // the Limits.Exceeded.<what> name
    uint32_t limit;    // the small limit used
    void (*set)(Limits &, uint32_t);
    std::string (*make)(int n);  // a message that needs exactly n of the resource
  };
  const Case cases[] = {
      {"Depth", 5, [](Limits &l, uint32_t v) { l.max_mime_depth = v; }, nested_multiparts},
      {"Depth", 4,
       [](Limits &l, uint32_t v) {
         l.max_rfc822_depth = v;
         l.max_mime_depth = 1000;
       },
       nested_messages},
      // root + (n-1) children = n parts
      {"Parts", 8, [](Limits &l, uint32_t v) { l.max_parts = v; },
       [](int n) { return many_parts(n - 1); }},
      {"HeaderFields", 16, [](Limits &l, uint32_t v) { l.max_header_fields = v; }, many_fields},
      {"HeaderBytes", 300, [](Limits &l, uint32_t v) { l.max_header_bytes = v; },
       [](int n) { return header_of_bytes(static_cast<size_t>(n)); }},
      {"Params", 10, [](Limits &l, uint32_t v) { l.max_params = v; }, many_params},
      {"BoundaryLength", 70, [](Limits &l, uint32_t v) { l.max_boundary_length = v; },
       [](int n) { return boundary_of(static_cast<size_t>(n)); }},
      {"FileBytes", 10, [](Limits &l, uint32_t v) { l.max_file_bytes = v; },
       [](int n) { return "Content-Type: text/plain\r\n\r\n" + std::string(n, 'z'); }},
      {"DecodedBytes", 10, [](Limits &l, uint32_t v) { l.max_decoded_bytes = v; },
       [](int n) {
         // two leaves sharing the decoded budget: n bytes in total
         return "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n" +
                std::string(n / 2, 'y') + "\r\n--b\r\n\r\n" + std::string(n - n / 2, 'y') +
                "\r\n--b--\r\n";
       }},
  };
  for (const auto &c : cases) {
    for (int delta : {-1, 0, 1}) {
      Limits lim;
      c.set(lim, c.limit);
      const int n = static_cast<int>(c.limit) + delta;
      MessageTree t = parse_message(c.make(n), lim);
      const std::string want = std::string("Limits.Exceeded.") + c.what;
      const Finding *f = finding(t, want);
      if (delta <= 0) {
        EXPECT_EQ(f, nullptr) << want << " limit " << c.limit << ", n=" << n
                              << ": got the finding, want none; findings " << names(t);
      } else {
        ASSERT_NE(f, nullptr) << want << " limit " << c.limit << ", n=" << n
                              << ": want the finding; got " << names(t);
        EXPECT_EQ(f->kind, FindingKind::kUnscannable) << want;
        EXPECT_EQ(f->inspector, "mime") << want;
      }
      EXPECT_LE(t.parts.size(), static_cast<size_t>(lim.max_parts)) << want << " n=" << n;
    }
  }
}

// Layers of base64 message/rfc822 each decode to 3/4 of the layer around them, and all stay held:
// ~2.1 x the message size here. The default max_decoded_percent (125: size x 1.25 + 8 MiB) stops
// it; 250 does not.
TEST(MimeLimits, DecodedPercentBoundsNestedEncodedMessages) {
  std::string leaf(4u << 20, '\0');
  uint32_t x = 11;
  for (char &c : leaf) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  std::string msg =
      "Subject: inner\r\nContent-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      avsink::test::base64(leaf);
  for (int level = 0; level < 4; ++level)
    msg =
        "Subject: layer\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n"
        "\r\n" +
        avsink::test::base64(msg);
  for (uint32_t percent : {125u, 250u}) {
    Limits lim;
    if (percent != 125) lim.max_decoded_percent = percent;
    const MessageTree t = parse_message(msg, lim);
    const Finding *f = finding(t, "Limits.Exceeded.DecodedBytes");
    if (percent == 125) {
      ASSERT_NE(f, nullptr) << "decoded " << t.decoded_bytes << " of a " << msg.size()
                            << "-byte message; findings " << names(t);
      EXPECT_NE(f->detail.find("max_decoded_percent 125"), std::string::npos) << f->detail;
      EXPECT_LE(t.decoded_bytes, msg.size() * 5 / 4 + (8u << 20));
    } else {
      EXPECT_EQ(f, nullptr) << names(t);
      EXPECT_GT(t.decoded_bytes, msg.size() * 5 / 4 + (8u << 20))
          << "the shape no longer tests the bound";
    }
  }
}

TEST(MimeLimits, MessageBytes) {
  const std::string raw = "Subject: big\r\nContent-Type: text/plain\r\n\r\n0123456789";
  for (int delta : {-1, 0, 1}) {
    Limits lim;
    lim.max_message_bytes = static_cast<uint64_t>(static_cast<int64_t>(raw.size()) + delta);
    MessageTree t = parse_message(raw, lim);
    bool want = delta < 0;
    EXPECT_EQ(finding(t, "Limits.Exceeded.MessageBytes") != nullptr, want)
        << "limit " << lim.max_message_bytes << " for " << raw.size() << " bytes: " << names(t);
    ASSERT_EQ(t.parts.size(), 1u);
    EXPECT_EQ(t.header("subject"), "big") << "headers are still read for the rules";
    EXPECT_EQ(t.parts[0].body.empty(), want) << "no prefix of an oversized body is kept";
  }
}

// One large body is one entity: the check between entities never runs inside it, so the
// decoders look at the deadline themselves (#14 item 8). Without that, the whole body was decoded
// after the deadline and nothing said so. The top-level entity is always read, so an expired
// deadline reaches the decoder deterministically.
TEST(MimeLimits, DeadlineInsideOneLargeBody) {
  const std::string payload(6u << 20, 'A');
  std::string qp;
  for (size_t i = 0; i < payload.size(); i += 70) qp += payload.substr(i, 70) + "=\r\n";
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"base64", avsink::test::base64(payload)}, {"quoted-printable", qp}};
  for (const auto &[cte, body] : bodies) {
    const std::string raw =
        "Subject: big\r\nContent-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: " +
        cte + "\r\n\r\n" + body;
    MessageTree late = parse_message(raw, Limits(), avsink::Deadline::after_ms(0));
    const Finding *f = finding(late, "Limits.Exceeded.ScanTime");
    ASSERT_NE(f, nullptr) << cte << ": " << names(late);
    EXPECT_EQ(f->kind, FindingKind::kUnscannable) << cte;
    ASSERT_GE(late.parts.size(), 1u) << cte;
    EXPECT_LT(late.parts[0].body.size(), payload.size()) << cte << ": decoded to the end";
    MessageTree ok = parse_message(raw, Limits(), avsink::Deadline::after_ms(600000));
    EXPECT_EQ(finding(ok, "Limits.Exceeded.ScanTime"), nullptr) << cte << ": " << names(ok);
    ASSERT_GE(ok.parts.size(), 1u) << cte;
    EXPECT_EQ(ok.parts[0].body, payload) << cte;
  }
}

TEST(MimeLimits, DeadlineBetweenParts) {
  MessageTree t = parse_message(many_parts(50), Limits(), avsink::Deadline::after_ms(0));
  const Finding *f = finding(t, "Limits.Exceeded.ScanTime");
  ASSERT_NE(f, nullptr) << names(t);
  EXPECT_EQ(f->kind, FindingKind::kUnscannable);
  ASSERT_GE(t.parts.size(), 1u) << "the top-level entity is always there";
  EXPECT_LT(t.parts.size(), 51u);
  MessageTree ok = parse_message(many_parts(50), Limits(), avsink::Deadline::after_ms(60000));
  EXPECT_EQ(finding(ok, "Limits.Exceeded.ScanTime"), nullptr);
  EXPECT_EQ(ok.parts.size(), 51u);
}

// ---------------------------------------------------------------- hostile sizes

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(MimeHostile, TenThousandNestedMultiparts) {
  const std::string raw = nested_multiparts(10000);
  auto t0 = std::chrono::steady_clock::now();
  MessageTree t = parse_message(raw, Limits());
  EXPECT_LT(seconds_since(t0), 5.0 * avsink::test::time_scale());
  ASSERT_NE(finding(t, "Limits.Exceeded.Depth"), nullptr) << names(t);
  uint32_t max_depth = 0;
  for (const auto &p : t.parts) max_depth = std::max(max_depth, p.depth);
  EXPECT_EQ(max_depth, Limits().max_mime_depth);
}

TEST(MimeHostile, TenThousandNestedMessages) {
  MessageTree t = parse_message(nested_messages(10000), Limits());
  ASSERT_NE(finding(t, "Limits.Exceeded.Depth"), nullptr) << names(t);
  EXPECT_LE(t.parts.size(), Limits().max_rfc822_depth + 1u);
}

TEST(MimeHostile, HundredThousandParts) {
  const std::string raw = many_parts(100000);
  auto t0 = std::chrono::steady_clock::now();
  MessageTree t = parse_message(raw, Limits());
  EXPECT_LT(seconds_since(t0), 5.0 * avsink::test::time_scale());
  ASSERT_NE(finding(t, "Limits.Exceeded.Parts"), nullptr) << names(t);
  EXPECT_EQ(t.parts.size(), Limits().max_parts);
  // With a high limit all of them are read, in linear time.
  Limits big;
  big.max_parts = 200000;
  t0 = std::chrono::steady_clock::now();
  MessageTree all = parse_message(raw, big);
  EXPECT_LT(seconds_since(t0), 10.0 * avsink::test::time_scale());
  EXPECT_EQ(all.parts.size(), 100001u);
  EXPECT_EQ(finding(all, "Limits.Exceeded.Parts"), nullptr);
}

TEST(MimeHostile, TwoMegabyteHeaderLine) {
  const std::string raw =
      "Subject: " + std::string(2u << 20, 'h') + "\r\nContent-Type: text/plain\r\n\r\nbody";
  auto t0 = std::chrono::steady_clock::now();
  MessageTree t = parse_message(raw, Limits());
  EXPECT_LT(seconds_since(t0), 2.0 * avsink::test::time_scale());
  ASSERT_NE(finding(t, "Limits.Exceeded.HeaderBytes"), nullptr) << names(t);
  EXPECT_EQ(t.header("subject"), "") << "a cut field is never kept";
  ASSERT_EQ(t.parts.size(), 1u);
  EXPECT_EQ(t.parts[0].body, "body") << "the body is still found after the oversized header";
}

TEST(MimeHostile, ManyFoldedLinesAndHeaderFields) {
  std::string folded = "Subject: x\r\n";
  for (int i = 0; i < 256 * 1024; ++i) folded += " y\r\n";
  MessageTree t = parse_message(folded + "\r\nbody", Limits());
  EXPECT_NE(finding(t, "Limits.Exceeded.HeaderBytes"), nullptr) << names(t);
  MessageTree u = parse_message(many_fields(100000), Limits());
  EXPECT_NE(finding(u, "Limits.Exceeded.HeaderFields"), nullptr) << names(u);
  EXPECT_EQ(u.parts[0].headers.size(), Limits().max_header_fields);
  EXPECT_EQ(u.parts[0].body, "body");
}

TEST(MimeHostile, ParamFloodAndHugeBoundary) {
  MessageTree t = parse_message(many_params(10000), Limits());
  EXPECT_NE(finding(t, "Limits.Exceeded.Params"), nullptr) << names(t);
  MessageTree u = parse_message(boundary_of(100000), Limits());
  EXPECT_NE(finding(u, "Limits.Exceeded.BoundaryLength"), nullptr) << names(u);
}

TEST(MimeHostile, ArbitraryBytesNeverCrash) {
  // A cheap deterministic fuzz loop over mutations of a real message (the fuzz target runs longer).
  std::string seed =
      avsink::test::read_file(avsink::test::data_path("eml/nested-rfc822-two-levels.eml"));
  ASSERT_FALSE(seed.empty());
  uint32_t x = 12345;
  Limits lim;
  lim.max_parts = 64;
  for (int iter = 0; iter < 2000; ++iter) {
    std::string m = seed;
    for (int k = 0; k < 8; ++k) {
      x = x * 1103515245u + 12345u;
      size_t pos = (x >> 8) % m.size();
      x = x * 1103515245u + 12345u;
      switch ((x >> 16) % 4) {
        case 0:
          m[pos] = static_cast<char>(x >> 24);
          break;
        case 1:
          m.erase(pos, (x >> 20) % 64);
          break;
        case 2:
          m.insert(pos, m.substr((x >> 4) % m.size(), (x >> 22) % 128));
          break;
        default:
          m.insert(pos, (x & 1) ? "\r\n--" : "=?utf-8?b?");
          break;
      }
      if (m.empty()) m = "x";
    }
    MessageTree t = parse_message(m, lim);
    ASSERT_FALSE(t.parts.empty());
    for (const auto &p : t.parts) {
      ASSERT_LE(p.raw_offset + p.raw_length, m.size()) << "iteration " << iter;
      if (p.parent >= 0) {
        ASSERT_LT(static_cast<size_t>(p.parent), t.parts.size());
      }
    }
  }
}

}  // namespace
