// util_text_test.cpp - the util layer: UTF-8 decoding modes, validation, sanitising, case folding
// and ISO 8601 stamps, each against hand-checked bytes.
#include <gtest/gtest.h>

#include "util/text.h"
#include "util/utf8.h"

namespace {

using avsink::util::Utf8Mode;

TEST(UtilUtf8, StrictDecodeAcceptsShortestFormsOnly) {
  uint32_t cp = 0;
  EXPECT_EQ(avsink::util::utf8_decode("A", 0, &cp), 1u);
  EXPECT_EQ(cp, 0x41u);
  EXPECT_EQ(avsink::util::utf8_decode("\xC3\xA9", 0, &cp), 2u);
  EXPECT_EQ(cp, 0xE9u);
  EXPECT_EQ(avsink::util::utf8_decode("\xE2\x80\xAE", 0, &cp), 3u);
  EXPECT_EQ(cp, 0x202Eu);
  EXPECT_EQ(avsink::util::utf8_decode("\xF0\x9F\x98\x80", 0, &cp), 4u);
  EXPECT_EQ(cp, 0x1F600u);
  // Overlong '.', a surrogate, past U+10FFFF, a bad continuation, truncated, a stray continuation.
  for (const char *bad :
       {"\xC0\xAE", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xC3\x41", "\xE2\x80", "\x80", "\xFF"}) {
    EXPECT_EQ(avsink::util::utf8_decode(bad, 0, &cp), 0u) << bad;
  }
}

TEST(UtilUtf8, LenientDecodeReadsAsWrittenAndNeverFails) {
  uint32_t cp = 0;
  EXPECT_EQ(avsink::util::utf8_decode("\xC0\xAE", 0, &cp, Utf8Mode::kLenient), 2u);
  EXPECT_EQ(cp, 0x2Eu);  // the overlong '.'
  EXPECT_EQ(avsink::util::utf8_decode("\xE2\x80", 0, &cp, Utf8Mode::kLenient), 1u);
  EXPECT_EQ(cp, 0xE2u);
  EXPECT_EQ(avsink::util::utf8_decode("\x80", 0, &cp, Utf8Mode::kLenient), 1u);
  EXPECT_EQ(cp, 0x80u);
}

TEST(UtilUtf8, ValidSanitizeAppendAndLatin1) {
  EXPECT_TRUE(avsink::util::utf8_valid("plain caf\xC3\xA9"));
  EXPECT_FALSE(avsink::util::utf8_valid("caf\xE9"));
  EXPECT_EQ(avsink::util::utf8_sanitize("a\xFF"
                                        "b\xC3\xA9"),
            "a\xEF\xBF\xBD"
            "b\xC3\xA9");
  std::string out;
  for (uint32_t cp : {0x41u, 0xE9u, 0x202Eu, 0x1F600u}) avsink::util::utf8_append(&out, cp);
  EXPECT_EQ(out, "A\xC3\xA9\xE2\x80\xAE\xF0\x9F\x98\x80");
  EXPECT_EQ(avsink::util::latin1_to_utf8("caf\xE9"), "caf\xC3\xA9");
  EXPECT_EQ(avsink::util::utf8_lead_length(0xBF), 0u);
  EXPECT_EQ(avsink::util::utf8_lead_length(0xF0), 4u);
}

TEST(UtilText, AsciiFoldingLeavesOtherBytesAlone) {
  EXPECT_EQ(avsink::util::ascii_lower("INVOICE.EXE \xC3\x89"), "invoice.exe \xC3\x89");
  EXPECT_TRUE(avsink::util::ascii_iequals("Content-Type", "content-TYPE"));
  EXPECT_FALSE(avsink::util::ascii_iequals("\xC3\x89", "\xC3\xA9"));
  EXPECT_FALSE(avsink::util::ascii_iequals("abc", "abcd"));
}

TEST(UtilText, Iso8601Utc) {
  EXPECT_EQ(avsink::util::iso8601_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(avsink::util::iso8601_utc(1796256000), "2026-12-03T00:00:00Z");
  EXPECT_EQ(avsink::util::iso8601_utc_ms(1796256000123), "2026-12-03T00:00:00.123Z");
  EXPECT_EQ(avsink::util::iso8601_utc_ms(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
