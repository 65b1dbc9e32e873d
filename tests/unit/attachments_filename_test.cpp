// attachments_filename_test.cpp - name normalisation and readings (HOSTILE #35-38), table-driven.
// Each case: a name as it arrives, and what the extension test must see.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "attachments/filename.h"

namespace {

using namespace avsink::attachments;

struct NormCase {
  const char *what;
  std::string in;
  std::string want;
};

TEST(AttachmentFilename, Normalize) {
  const NormCase cases[] = {
      {"plain", "invoice.pdf", "invoice.pdf"},
      {"ascii case", "SETUP.EXE", "setup.exe"},
      {"trailing dot", "a.exe.", "a.exe"},
      {"trailing dots and spaces", "a.exe . . ", "a.exe"},
      {"trailing tab", "a.exe\t", "a.exe"},
      {"rtlo removed", "invoice\u202Efdp.exe", "invoicefdp.exe"},
      {"lro and pdf removed", "a\u202D.exe\u202C", "a.exe"},
      {"isolates removed", "a\u2066.e\u2069xe", "a.exe"},
      {"zwsp zwnj zwj", "a.e\u200Bx\u200C\u200De", "a.exe"},
      {"word joiner", "a.\u2060exe", "a.exe"},
      {"bom", "\uFEFFa.exe", "a.exe"},
      {"soft hyphen", "a.ex\u00ADe", "a.exe"},
      {"lrm rlm", "a.\u200Eexe\u200F", "a.exe"},
      {"full-width dot", "a\uFF0Eexe", "a.exe"},
      {"one-dot leader", "a\u2024exe", "a.exe"},
      {"ideographic full stop", "a\u3002exe", "a.exe"},
      {"small full stop", "a\uFE52exe", "a.exe"},
      {"full-width letters", "a.\uFF25\uFF38\uFF25", "a.exe"},
      {"nbsp trailing", "a.exe\u00A0", "a.exe"},
      {"ideographic space trailing", "a.exe\u3000", "a.exe"},
      {"path forward", "dir/sub/a.exe", "a.exe"},
      {"path backslash", "C:\\Users\\x\\a.exe", "a.exe"},
      {"full-width solidus", "dir\uFF0Fa.exe", "a.exe"},
      {"controls dropped",
       std::string("a.e\x01x\x7F"
                   "e"),
       "a.exe"},
      {"c1 control dropped", "a.e\u0085xe", "a.exe"},
      {"nul kept as a char", std::string("a.exe\0.txt", 10), std::string("a.exe\0.txt", 10)},
      {"non-ascii kept, ascii folded", "Übersicht März.pdf", "Übersicht märz.pdf"},
      {"invalid utf-8 kept", std::string("caf\xE9.exe"), std::string("caf\xE9.exe")},
      {"only dots", "...", ""},
  };
  for (const auto &c : cases) {
    EXPECT_EQ(normalize_name(c.in), c.want) << c.what;
  }
}

bool has_reading(const std::vector<std::string> &rs, const std::string &want) {
  for (const auto &r : rs) {
    if (r == want) return true;
  }
  return false;
}

TEST(AttachmentFilename, Readings) {
  struct Case {
    const char *what;
    std::string in;
    std::string want;  // one of the readings
  } cases[] = {
      {"nul terminator", std::string("a.exe\0.txt", 10), "a.exe"},
      {"percent nul", "a.exe%00.pdf", "a.exe"},
      {"percent dot", "a%2Eexe", "a.exe"},
      {"rfc2231 prefix + percent", "utf-8''invoice%E2%80%AEfdp.exe", "invoicefdp.exe"},
      {"rfc2231 prefix with language", "iso-8859-1'en'a%2Escr", "a.scr"},
      {"comment", "file.exe(.gif)", "file.exe"},
      {"semicolon", "file.exe;.txt", "file.exe"},
      {"quote", "file.exe\".txt", "file.exe"},
      {"ISO 9660 version suffix", "SETUP.EXE;1", "setup.exe"},
      {"decompressed by gunzip", "invoice.js.gz", "invoice.js"},
      {"decompressed by unxz, after a NUL cut", std::string("a.exe.xz\0.txt", 13), "a.exe"},
      {"decompressed by unzstd", "Setup.EXE.zst", "setup.exe"},
      {"bytes not UTF-8 dropped (Info-ZIP unzip)",
       "setup.e\xff"
       "xe",
       "setup.exe"},
      {"a broken sequence dropped",
       "setup.\xe2\x80"
       "exe\xc3",
       "setup.exe"},
  };
  for (const auto &c : cases) {
    const auto rs = name_readings(c.in);
    EXPECT_TRUE(has_reading(rs, c.want)) << c.what << ": no reading \"" << c.want << "\"";
  }
  // The as-given reading always comes first and readings are unique.
  const auto rs = name_readings("A.EXE");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0], "a.exe");
  EXPECT_TRUE(name_readings("").empty());
  // A compression suffix alone, or none, adds nothing.
  EXPECT_EQ(name_readings(".gz").size(), 1u);
  EXPECT_EQ(name_readings("report.pdf.gzip").size(), 1u);
}

TEST(AttachmentFilename, Extensions) {
  EXPECT_EQ(extension_of("invoice.pdf.exe"), "exe");
  EXPECT_EQ(extension_of(".exe"), "exe");
  EXPECT_EQ(extension_of("readme"), "");
  EXPECT_EQ(extension_of("a."), "");
  EXPECT_EQ(previous_extension("invoice.pdf.exe"), "pdf");
  EXPECT_EQ(previous_extension("invoice.pdf      .exe"), "pdf");
  EXPECT_EQ(previous_extension("invoice.exe"), "");
  EXPECT_EQ(previous_extension(".exe"), "");
  EXPECT_TRUE(has_padded_extension("invoice.pdf      .exe"));
  EXPECT_FALSE(has_padded_extension("invoice.pdf .exe"));
  EXPECT_FALSE(has_padded_extension("a.exe"));
}

TEST(AttachmentFilename, Clsid) {
  EXPECT_TRUE(is_clsid("{3050f4d8-98b5-11cf-bb82-00aa00bdce0b}"));
  EXPECT_TRUE(is_clsid("{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}"));
  EXPECT_FALSE(is_clsid("{3050f4d8-98b5-11cf-bb82-00aa00bdce0}"));
  EXPECT_FALSE(is_clsid("3050f4d8-98b5-11cf-bb82-00aa00bdce0b"));
  EXPECT_FALSE(is_clsid("{3050f4d8_98b5-11cf-bb82-00aa00bdce0b}"));
  EXPECT_FALSE(is_clsid("{zzzzzzzz-98b5-11cf-bb82-00aa00bdce0b}"));
}

TEST(AttachmentFilename, BidiOverride) {
  EXPECT_TRUE(has_bidi_override("invoice\u202Efdp.exe"));
  EXPECT_TRUE(has_bidi_override("a\u2067b"));
  EXPECT_TRUE(has_bidi_override("utf-8''invoice%E2%80%AEfdp.exe"));  // still percent-encoded
  EXPECT_FALSE(has_bidi_override("invoice.pdf"));
  EXPECT_FALSE(has_bidi_override("\u05D7\u05E9\u05D1\u05D5\u05DF.pdf"));  // Hebrew letters
  EXPECT_FALSE(has_bidi_override("a\u200Fb.pdf"));                        // a mark, not an override
}

TEST(AttachmentFilename, DisplayName) {
  EXPECT_EQ(display_name("invoice\u202Efdp.exe"), "invoice<U+202E>fdp.exe");
  EXPECT_EQ(display_name(std::string("a\0b\r\n", 5)), "a<U+0000>b<U+000D><U+000A>");
  EXPECT_EQ(display_name("caf\xE9"), "caf<0xE9>");
  EXPECT_EQ(display_name("Übersicht.pdf"), "Übersicht.pdf");
  const std::string longname(5000, 'a');
  const std::string shown = display_name(longname);
  EXPECT_LE(shown.size(), 520u);
  EXPECT_EQ(shown.substr(shown.size() - 3), "...");
}

TEST(AttachmentFilename, LongNamesKeepTheirExtension) {
  const std::string name = std::string(100000, 'x') + ".pdf.exe";
  EXPECT_EQ(extension_of(normalize_name(name)), "exe");
  EXPECT_TRUE(has_reading(name_readings(name), normalize_name(name)));
}

TEST(AttachmentFilename, MemberBasename) {
  EXPECT_EQ(member_basename("inner.zip/setup.exe"), "setup.exe");
  EXPECT_EQ(member_basename("Documents\\Invoice\\pay.vbs"), "pay.vbs");
  EXPECT_EQ(member_basename("setup.exe"), "setup.exe");
  EXPECT_EQ(member_basename("dir/"), "");
  EXPECT_EQ(member_basename(""), "");
}

}  // namespace
