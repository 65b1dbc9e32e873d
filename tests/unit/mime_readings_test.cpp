// mime_readings_test.cpp - every plausible reading (issue 21): boundary, type, encoding, header-end
// and name dialects each expose a payload that some mail reader would see; ordinary mail has none.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "mime/decode.h"
#include "mime/header_words.h"
#include "mime/parser.h"
#include "mime/readings.h"
#include "test_support.h"

namespace {

using avsink::FindingKind;
using avsink::Limits;
using avsink::mime::MessageTree;
using avsink::mime::parse_message;
using avsink::mime::Part;
using avsink::mime::PartOrigin;

const std::string kMarker = "PAYLOAD-MARKER-0123456789";

using avsink::test::crlf;

std::string describe(const MessageTree &t) {
  std::string o;
  for (const Part &p : t.parts)
    o += "  " + p.path + " " + p.media_type + " te=" + p.transfer_encoding + " origin " +
         std::to_string(static_cast<int>(p.origin)) + " body \"" + p.body.substr(0, 30) + "\"\n";
  for (const auto &f : t.findings) o += "  finding " + f.name + "@" + f.part_path + "\n";
  return o;
}

bool leaf_has(const MessageTree &t, const std::string &bytes) {
  for (const Part &p : t.parts)
    if (!p.is_multipart && !p.is_message && p.body == bytes) return true;
  return false;
}

bool has_unscannable(const MessageTree &t) {
  return std::any_of(t.findings.begin(), t.findings.end(),
                     [](const auto &f) { return f.kind == FindingKind::kUnscannable; });
}

bool has_name(const MessageTree &t, const std::string &name) {
  for (const Part &p : t.parts)
    if (std::find(p.filenames.begin(), p.filenames.end(), name) != p.filenames.end()) return true;
  return false;
}

// A multipart message whose second part carries the marker in base64.
std::string multipart_with(const std::string &content_type, const std::string &delim,
                           const std::string &close) {
  return crlf("Content-Type: " + content_type + "\n\npreamble\n" + delim +
              "\nContent-Type: text/plain\n\nhello\n" + delim +
              "\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n" +
              avsink::test::base64(kMarker) + close + "\n");
}

TEST(MimeReadings, BoundaryDialects) {
  struct C {
    const char *what;
    std::string content_type;
    std::string boundary_as_used;
  };
  const C cases[] = {
      {"single quotes", "multipart/mixed; boundary='sq1'", "sq1"},
      {"single quotes kept", "multipart/mixed; boundary='sq2'", "'sq2'"},
      {"unterminated quote", "multipart/mixed; boundary=\"un1", "un1"},
      {"escaped quote kept", "multipart/mixed; boundary=\"a\\\\\"b\"", "a\\\\"},
      {"quote mid-value", "multipart/mixed; boundary=ab\"cd\"ef", "ab\"cd\"ef"},
      {"VT before =", "multipart/mixed; boundary\v=vt1", "vt1"},
      {"FF after =", "multipart/mixed; boundary=\fff1", "ff1"},
      {"comment inside value", "multipart/mixed; boundary=(c)cm1", "(c)cm1"},
      {"key inside a quoted value", "multipart/mixed; x=\"boundary=kq1\"", "kq1"},
      {"RFC 2231 two segments", "multipart/mixed; boundary*0=seg; boundary*1=ment", "segment"},
      {"RFC 2231 UTF-16", "multipart/mixed; boundary*=utf-16''%FF%FEu%00t%00f%001%00", "utf1"},
      {"no boundary at all", "multipart/mixed", "guessed"},
      {"near-miss type", "x-multipart/mixed; boundary=nm1", "nm1"},
      {"RFC 2047 type", "=?utf-8?B?bXVsdGlwYXJ0L21peGVk?=; boundary=ew1", "ew1"},
      {"quoted type", "\"multipart/mixed\"; boundary=qt1", "qt1"},
  };
  for (const C &c : cases) {
    MessageTree t = parse_message(
        multipart_with(c.content_type, "--" + c.boundary_as_used, "--" + c.boundary_as_used + "--"),
        Limits());
    EXPECT_TRUE(leaf_has(t, kMarker)) << c.what << "\n" << describe(t);
    EXPECT_FALSE(has_unscannable(t)) << c.what << "\n" << describe(t);
  }
}

TEST(MimeReadings, EmptyBoundarySplitsOnBareDashLines) {
  MessageTree t =
      parse_message(multipart_with("multipart/mixed; boundary=\"\"", "--", "----"), Limits());
  EXPECT_TRUE(leaf_has(t, kMarker)) << describe(t);
}

TEST(MimeReadings, PrefixDelimiterLinesAreReadLikeThunderbird) {
  // "--pfxJUNK" is a delimiter only for readers that compare the start of the line.
  MessageTree t = parse_message(
      multipart_with("multipart/mixed; boundary=pfx", "--pfxJUNK", "--pfx--"), Limits());
  EXPECT_TRUE(leaf_has(t, kMarker)) << describe(t);
  bool prefix_reading = false;
  for (const auto &f : t.findings)
    prefix_reading |= f.detail.find("prefix delimiters") != std::string::npos;
  EXPECT_TRUE(prefix_reading) << describe(t);
}

TEST(MimeReadings, LenientTransferEncodingValues) {
  using avsink::mime::lenient_transfer_encodings;
  using avsink::mime::TransferEncoding;
  auto has = [](const std::string &v, TransferEncoding te) {
    auto l = lenient_transfer_encodings(v);
    return std::find(l.begin(), l.end(), te) != l.end();
  };
  EXPECT_TRUE(has("\"base64\"", TransferEncoding::kBase64));
  EXPECT_TRUE(has("=?utf-8?Q?base64?=", TransferEncoding::kBase64));
  EXPECT_TRUE(has("7bit, base64", TransferEncoding::kBase64));
  EXPECT_TRUE(has("qp;64", TransferEncoding::kBase64));
  EXPECT_TRUE(has("qp;64", TransferEncoding::kQuotedPrintable));
  EXPECT_TRUE(has("base64 (comment)", TransferEncoding::kBase64));
  EXPECT_TRUE(has("mac-binhex40", TransferEncoding::kBinhex));
  EXPECT_TRUE(has("x-yencode", TransferEncoding::kYenc));
  EXPECT_TRUE(lenient_transfer_encodings("x-whatever").empty());

  for (const char *cte : {"\"base64\"", "=?utf-8?B?YmFzZTY0?=", "7bit, base64", "base\v64"}) {
    MessageTree t = parse_message(crlf(std::string("Content-Transfer-Encoding: ") + cte + "\n\n" +
                                       avsink::test::base64(kMarker)),
                                  Limits());
    EXPECT_TRUE(leaf_has(t, kMarker)) << cte << "\n" << describe(t);
  }
}

TEST(MimeReadings, Base64DecoderDialects) {
  // Each line encoded on its own (lengths not a multiple of 4, no padding): only a per-line
  // decoder reads the marker.
  std::string per_line;
  for (size_t at = 0; at < kMarker.size(); at += 7) {
    std::string chunk = avsink::test::base64(kMarker.substr(at, 7));
    chunk.erase(std::remove_if(chunk.begin(), chunk.end(),
                               [](char c) { return c == '=' || c == '\r' || c == '\n'; }),
                chunk.end());
    per_line += chunk + "\n";
  }
  MessageTree t = parse_message(crlf("Content-Transfer-Encoding: base64\n\n" + per_line), Limits());
  EXPECT_TRUE(leaf_has(t, kMarker)) << describe(t);

  // Junk lines (headers) inside a base64 body: a reader that skips whole lines sees the marker.
  std::string b64 = avsink::test::base64(kMarker);
  std::string junk = "Content-Transfer-Encoding: base64\n\n" + b64.substr(0, 8) +
                     "\nX-Inserted: junk here\n" + b64.substr(8);
  MessageTree u = parse_message(crlf(junk), Limits());
  EXPECT_TRUE(leaf_has(u, kMarker)) << describe(u);

  EXPECT_TRUE(avsink::mime::decode_dialects(avsink::mime::TransferEncoding::kBase64, "QUJD\nREVG\n")
                  .empty())
      << "a well-formed body has no other reading";
}

TEST(MimeReadings, BinhexAndYencAsTransferEncoding) {
  // yEnc: each byte + 42 (escape NUL, LF, CR, '=' with '=' and +64).
  std::string y;
  for (unsigned char c : kMarker) {
    unsigned char e = static_cast<unsigned char>(c + 42);
    if (e == 0 || e == '\n' || e == '\r' || e == '=') {
      y += '=';
      e = static_cast<unsigned char>(e + 64);
    }
    y += static_cast<char>(e);
  }
  MessageTree t = parse_message(
      crlf("Content-Type: application/octet-stream\nContent-Transfer-Encoding: x-yencode\n\n"
           "=ybegin line=128 size=" +
           std::to_string(kMarker.size()) + " name=m.bin\n" + y +
           "\n=yend size=" + std::to_string(kMarker.size()) + "\n"),
      Limits());
  EXPECT_TRUE(leaf_has(t, kMarker)) << describe(t);
}

TEST(MimeReadings, HeaderBlockLinesAndEnd) {
  const std::string b64 = avsink::test::base64(kMarker);
  const std::string cases[] = {
      // A junk line before Content-Type: readers that skip it still read the fields below.
      "Subject: x\nthis line is junk\nContent-Transfer-Encoding: base64\n\n" + b64,
      // A line that starts with VT: folding for readers that take it for whitespace.
      "Content-Transfer-Encoding:\n\v base64\n\n" + b64,
      // A whitespace-only line ends the header block for some readers.
      "Content-Transfer-Encoding: base64\n \nX-After: y\n\n" + b64,
  };
  for (const std::string &c : cases) {
    MessageTree t = parse_message(crlf(c), Limits());
    EXPECT_TRUE(leaf_has(t, kMarker)) << c << "\n" << describe(t);
  }
}

TEST(MimeReadings, NamesFromEverySegmentNumberCharsetAndDialect) {
  struct C {
    std::string disposition;
    std::string name;
  };
  const C cases[] = {
      {"attachment; filename*0000000=\"invoice.bat\"", "invoice.bat"},
      {"attachment; filename*0=\"invoice\"; filename*1000000=\".bat\"", "invoice.bat"},
      {"attachment; filename*1=\".bat\"; filename*0=\"invoice\"", "invoice.bat"},
      {"attachment; name*1234567=\"run.scr\"", "run.scr"},
      {"attachment; filename*=utf-16''i%00n%00v%00.%00z%00i%00p%00", "inv.zip"},
      {"attachment; filename=\"=?utf-16le?B?aQBuAHYALgB6AGkAcAA=?=\"", "inv.zip"},
      {"attachment; file(c)name=\"order.zip\"", "order.zip"},
      {"attachment; filename=order;x.zip", "order;x.zip"},
      {"attachment; filename=order x.zip", "order x.zip"},
  };
  for (const C &c : cases) {
    MessageTree t = parse_message(
        crlf("Content-Type: application/octet-stream\nContent-Disposition: " + c.disposition +
             "\n\nAAAA\n"),
        Limits());
    EXPECT_TRUE(has_name(t, c.name))
        << c.disposition << "\n"
        << (t.parts[0].filenames.empty() ? std::string("(none)") : t.parts[0].filenames[0]);
  }
}

TEST(MimeReadings, LenientParamValues) {
  using avsink::mime::lenient_param_values;
  auto has = [](const std::string &v, const std::string &key, const std::string &want) {
    auto l = lenient_param_values(v, key);
    return std::find(l.begin(), l.end(), want) != l.end();
  };
  EXPECT_TRUE(has("multipart/mixed; BOUNDARY = 'x1'", "boundary", "x1"));
  EXPECT_TRUE(has("multipart/mixed; boundary=\"a;b\"", "boundary", "a;b"));
  EXPECT_TRUE(has("multipart/mixed; boundary=\"a;b\"", "boundary", "a"));
  EXPECT_TRUE(has("multipart/mixed; boundary (c) = x2 ; y=1", "boundary", "x2"));
  EXPECT_TRUE(lenient_param_values("text/plain; charset=utf-8", "boundary").empty());
}

TEST(MimeReadings, MessageReturnedInTextRfc822HeadersIsReadAsAMessage) {
  // RFC 6522 means the part for the returned header block; OpenSMTPD's bounces carry the whole
  // message there, its attachment still base64 text (issue 20's end-to-end run).
  const std::string returned =
      "From: a@example.org\nSubject: x\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"r\"\n\n--r\nContent-Type: text/plain\n\nhi\n"
      "--r\nContent-Type: application/octet-stream; name=\"p.bin\"\n"
      "Content-Transfer-Encoding: base64\n\n" +
      avsink::test::base64(kMarker) + "--r--\n";
  auto report = [](const std::string &quoted, const std::string &cte,
                   const std::string &type = "text/rfc822-headers") {
    return crlf(
        "From: MAILER-DAEMON@example.org\nMIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
        "--b\nContent-Type: text/plain\n\nfailed\n"
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
        "--b\nContent-Type: " +
        type + "\n" + cte + "\n" + quoted + "--b--\n");
  };
  MessageTree whole = parse_message(report(returned, ""), Limits());
  EXPECT_TRUE(leaf_has(whole, kMarker)) << describe(whole);
  EXPECT_TRUE(has_name(whole, "p.bin")) << describe(whole);
  EXPECT_FALSE(has_unscannable(whole)) << describe(whole);

  // The same in message/global-headers, RFC 6533's part for it.
  MessageTree global = parse_message(report(returned, "", "message/global-headers"), Limits());
  EXPECT_TRUE(leaf_has(global, kMarker)) << describe(global);

  // Base64 over the returned message: decoded, then read as a message.
  MessageTree encoded = parse_message(
      report(avsink::test::base64(returned), "Content-Transfer-Encoding: base64\n"), Limits());
  EXPECT_TRUE(leaf_has(encoded, kMarker)) << describe(encoded);

  // The header block alone, as RFC 6522 means it: no reading is added.
  const std::string headers_only = returned.substr(0, returned.find("\n\n") + 1);
  MessageTree plain = parse_message(report(headers_only, ""), Limits());
  for (const Part &p : plain.parts) EXPECT_NE(p.origin, PartOrigin::kAlternate) << describe(plain);
  for (const auto &f : plain.findings)
    EXPECT_EQ(f.name.rfind("MIME.Ambiguous", 0), std::string::npos) << describe(plain);
}

TEST(MimeReadings, BareCrLineEndsInAMessageWithLfsAreAlsoLineEnds) {
  // Python's email and uudeview take every CR for a line end. A message whose headers end in
  // CRLF but whose body (or only the line end before each delimiter) is bare CRs hides its parts
  // from a reader that splits on LF alone.
  const std::string b64 = avsink::test::base64(kMarker);
  auto cr_only = [](std::string s) {
    for (char &c : s)
      if (c == '\n') c = '\r';
    return s;
  };
  const std::string head =
      crlf("From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n");
  const std::string parts =
      "preamble\n--b\nContent-Type: text/plain\n\nhello\n--b\n"
      "Content-Type: application/octet-stream\n"
      "Content-Transfer-Encoding: base64\n\n" +
      b64 + "--b--\n";
  std::string before_delims = crlf(parts);
  for (size_t i = before_delims.find("\r\n--b"); i != std::string::npos;
       i = before_delims.find("\r\n--b", i + 2))
    before_delims.erase(i + 1, 1);  // "\r--b": only the delimiters' line ends are bare CRs
  for (const std::string &body : {cr_only(parts), before_delims}) {
    MessageTree t = parse_message(head + body, Limits());
    EXPECT_TRUE(leaf_has(t, kMarker)) << describe(t);
    EXPECT_FALSE(has_unscannable(t)) << describe(t);
    // The same message forwarded inside a base64-encoded message/rfc822 part.
    MessageTree fwd = parse_message(
        crlf("Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: text/plain\n\nfyi\n"
             "--o\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n") +
            avsink::test::base64(head + body) + crlf("--o--\n"),
        Limits());
    EXPECT_TRUE(leaf_has(fwd, kMarker)) << describe(fwd);
  }
}

TEST(MimeReadings, EntitiesQuotedInTextAreRead) {
  // A bounce quoting the message, or a text part holding an entity: ripmime, munpack, uudeview
  // and libclamav extract the entity. A header block that declares no structure or encoding
  // (an inline forward's From/Sent/To/Subject, a digest's kept fields) is not read as one.
  const std::string entity =
      "Content-Type: application/octet-stream; name=\"m.bin\"\n"
      "Content-Transfer-Encoding: base64\n\n" +
      avsink::test::base64(kMarker);
  for (const std::string &text :
       {entity,
        "Hi. This is the mail program.\n--- Below this line is a copy of the message.\n\n"
        "Return-Path: <a@example.org>\nFrom: a@example.org\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"q\"\n\n--q\n" +
            entity + "--q--\n"}) {
    MessageTree t =
        parse_message(crlf("Subject: returned\nContent-Type: text/plain\n\n" + text), Limits());
    EXPECT_TRUE(leaf_has(t, kMarker)) << describe(t);
  }
  MessageTree fwd = parse_message(
      crlf("Content-Type: text/plain\n\nsee below\n\n-----Original Message-----\nFrom: Bob\n"
           "Sent: Monday\nTo: Alice\nSubject: plans\n\nthe plans\n"),
      Limits());
  for (const Part &p : fwd.parts) EXPECT_NE(p.origin, PartOrigin::kAlternate) << describe(fwd);
}

TEST(MimeReadings, OrdinaryMailHasNoAlternateReadings) {
  // Nested multipart/mixed with alternative text/html, a signature, a quoted reply, a PGP block
  // and a base64 attachment: what ordinary clients send. No reading may be added.
  const std::string raw = crlf(
      "From: a@example.org\nTo: b@example.net\nSubject: re: hi\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"----=_Part_1_2.3\"\n\n"
      "This is a multi-part message in MIME format.\n\n"
      "------=_Part_1_2.3\n"
      "Content-Type: multipart/alternative; boundary=\"alt-4\"\n\n"
      "--alt-4\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: "
      "quoted-printable\n\nHello =E2=80=94 see below.\n\n-- \nAlice\n\n"
      "-----Original Message-----\nFrom: Bob\n\n--\n-----BEGIN PGP SIGNATURE-----\nabc\n"
      "-----END PGP SIGNATURE-----\n"
      "--alt-4\nContent-Type: text/html; charset=utf-8\n\n<p>Hello</p>\n--alt-4--\n\n"
      "------=_Part_1_2.3\n"
      "Content-Type: application/pdf; name=\"report.pdf\"\n"
      "Content-Disposition: attachment; filename=\"report.pdf\"\n"
      "Content-Transfer-Encoding: base64\n\n" +
      avsink::test::base64(std::string(300, 'x')) + "------=_Part_1_2.3--\n");
  MessageTree t = parse_message(raw, Limits());
  for (const Part &p : t.parts) EXPECT_NE(p.origin, PartOrigin::kAlternate) << describe(t);
  for (const auto &f : t.findings)
    EXPECT_EQ(f.name.rfind("MIME.Ambiguous", 0), std::string::npos) << describe(t);
  ASSERT_EQ(t.parts.size(), 5u) << describe(t);
  EXPECT_EQ(t.parts[4].filenames, std::vector<std::string>{"report.pdf"});
}

}  // namespace
