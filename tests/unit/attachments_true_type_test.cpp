// attachments_true_type_test.cpp - magic-byte detection, libclamav type mapping, zip directories.
// Both directions: every executable class is found, and ordinary documents are not.
#include <gtest/gtest.h>

#include <string>

#include "attachments/true_type.h"
#include "test_support.h"

namespace {

using namespace avsink::attachments;

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

std::string pe() {
  std::string s(0x80, '\0');
  s[0] = 'M';
  s[1] = 'Z';
  s[0x3C] = 0x40;
  s.replace(0x40, 4, std::string("PE\0\0", 4));
  return s;
}

std::string msi(unsigned char kind) {
  std::string s(1536, '\0');
  s.replace(0, 8, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
  s[0x1E] = 9;  // 512-byte sectors
  s[0x30] = 1;  // directory in sector 1 -> offset 1024
  const std::string clsid = bytes({kind, 0x10, 0x0C, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46});
  s.replace(1024 + 0x50, 16, clsid);
  return s;
}

TEST(AttachmentTrueType, Detects) {
  struct Case {
    const char *what;
    std::string data;
    TrueType want;
  } cases[] = {
      {"PE", pe(), TrueType::kPe},
      {"MZ stub with binary header", std::string("MZ\x90\0\x03\0\0\0", 8), TrueType::kPe},
      {"ELF",
       std::string("\x7F"
                   "ELF\x02\x01\x01\0",
                   8),
       TrueType::kElf},
      {"Mach-O 64 LE", bytes({0xCF, 0xFA, 0xED, 0xFE, 7, 0, 0, 1}), TrueType::kMachO},
      {"Mach-O 32 BE", bytes({0xFE, 0xED, 0xFA, 0xCE, 0, 0, 0, 7}), TrueType::kMachO},
      {"Mach-O universal", bytes({0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 2}), TrueType::kMachO},
      {"shebang", "#!/bin/sh\necho hi\n", TrueType::kShebang},
      {"shebang with space", "#! /usr/bin/env python3\n", TrueType::kShebang},
      {"HTA", "<html><head><hta:application id=x></head></html>", TrueType::kHta},
      {"HTA upper case late", std::string(3000, ' ') + "<HTA:APPLICATION/>", TrueType::kHta},
      {"HTA after many '<'", std::string(5000, '<') + "<Hta:Application>", TrueType::kHta},
      {"HTA ending at the last byte looked at",
       std::string(64 * 1024 - 16, '<') + "<hta:application", TrueType::kHta},
      {"HTA cut by the end of what is looked at",
       std::string(64 * 1024 - 15, '<') + "<hta:application", TrueType::kNone},
      {"LNK",
       bytes({0x4C, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46}) +
           std::string(56, '\0'),
       TrueType::kLnk},
      {"MSI", msi(0x84), TrueType::kMsi},
      {"MSP", msi(0x86), TrueType::kMsi},
      {"MST", msi(0x82), TrueType::kMsi},
      // Not executables:
      {"text starting MZ", "MZ Industries quarterly report\r\n", TrueType::kNone},
      {"Java class (same magic as universal Mach-O)", bytes({0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52}),
       TrueType::kNone},
      {"OLE2 document, not MSI", msi(0x06), TrueType::kNone},
      {"PDF", "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n", TrueType::kNone},
      {"PNG", "\x89PNG\r\n\x1A\n", TrueType::kNone},
      {"zip", std::string("PK\x03\x04\x14\0", 6), TrueType::kNone},
      {"markdown hash-bang-ish", "#!important note\n", TrueType::kNone},
      {"HTML", "<html><body>Hello</body></html>", TrueType::kNone},
      {"empty", "", TrueType::kNone},
      {"short MZ", "MZ", TrueType::kNone},
  };
  for (const auto &c : cases) {
    EXPECT_EQ(detect_true_type(c.data), c.want)
        << c.what << ": got " << to_string(detect_true_type(c.data));
  }
}

TEST(AttachmentTrueType, TruncatedInputsNeverReadPastTheEnd) {
  // Every prefix of every magic: must not crash (ASan build) and must not claim MSI/PE wrongly.
  for (const std::string &full : {pe(), msi(0x84)}) {
    for (size_t n = 0; n <= full.size(); ++n) (void)detect_true_type(full.substr(0, n));
  }
  std::string bad_lfanew = pe();
  bad_lfanew[0x3C] = '\xF0';
  bad_lfanew[0x3F] = '\x7F';                               // e_lfanew far beyond the end
  EXPECT_EQ(detect_true_type(bad_lfanew), TrueType::kPe);  // still a binary MZ header
  std::string bad_dir = msi(0x84);
  bad_dir[0x30] = '\xFF';
  bad_dir[0x33] = '\x7F';
  EXPECT_EQ(detect_true_type(bad_dir), TrueType::kNone);
}

TEST(AttachmentTrueType, ClamavTypes) {
  EXPECT_EQ(true_type_of_clamav("CL_TYPE_MSEXE"), TrueType::kPe);
  EXPECT_EQ(true_type_of_clamav("CL_TYPE_ELF"), TrueType::kElf);
  EXPECT_EQ(true_type_of_clamav("CL_TYPE_MACHO"), TrueType::kMachO);
  EXPECT_EQ(true_type_of_clamav("CL_TYPE_MACHO_UNIBIN"), TrueType::kMachO);
  EXPECT_EQ(true_type_of_clamav("CL_TYPE_LNK"), TrueType::kLnk);
  for (const char *t : {"CL_TYPE_ZIP", "CL_TYPE_POSIX_TAR", "CL_TYPE_MAIL", "CL_TYPE_TEXT_ASCII",
                        "CL_TYPE_OOXML_WORD", "CL_TYPE_PDF", "CL_TYPE_MSOLE2", ""}) {
    EXPECT_EQ(true_type_of_clamav(t), TrueType::kNone) << t;
  }
}

TEST(AttachmentTrueType, Names) {
  for (TrueType t : all_true_types()) {
    auto back = true_type_from_string(to_string(t));
    ASSERT_TRUE(back.has_value()) << to_string(t);
    EXPECT_EQ(*back, t);
    EXPECT_NE(finding_suffix(t), "None");
  }
  EXPECT_FALSE(true_type_from_string("none").has_value());
  EXPECT_FALSE(true_type_from_string("PE").has_value());
  EXPECT_TRUE(is_text_class(TrueType::kShebang));
  EXPECT_FALSE(is_text_class(TrueType::kPe));
}

// A zip written by hand: one stored entry with the given general-purpose flags.
std::string tiny_zip(const std::string &name, uint16_t flags, const std::string &prefix = "") {
  auto le16 = [](uint16_t v) { return bytes({v & 0xFF, v >> 8}); };
  auto le32 = [&](uint32_t v) { return le16(v & 0xFFFF) + le16(v >> 16); };
  const std::string data = "hello";
  std::string local = "PK\x03\x04" + le16(20) + le16(flags) + le16(0) + le32(0) + le32(0) +
                      le32(5) + le32(5) + le16(static_cast<uint16_t>(name.size())) + le16(0) +
                      name + data;
  std::string central = "PK\x01\x02" + le16(20) + le16(20) + le16(flags) + le16(0) + le32(0) +
                        le32(0) + le32(5) + le32(5) + le16(static_cast<uint16_t>(name.size())) +
                        le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(0) + name;
  std::string eocd = "PK\x05\x06" + le16(0) + le16(0) + le16(1) + le16(1) +
                     le32(static_cast<uint32_t>(central.size())) +
                     le32(static_cast<uint32_t>(local.size())) + le16(0);
  return prefix + local + central + eocd;
}

TEST(AttachmentTrueType, ZipDirectory) {
  auto plain = scan_zip_directory(tiny_zip("a.exe", 0), 8);
  EXPECT_TRUE(plain.is_zip);
  EXPECT_FALSE(plain.any_encrypted);
  auto enc = scan_zip_directory(tiny_zip("dir/a.exe", 1), 8);
  EXPECT_TRUE(enc.any_encrypted);
  ASSERT_EQ(enc.encrypted_names.size(), 1u);
  EXPECT_EQ(enc.encrypted_names[0], "dir/a.exe");
  // Self-extractor style: bytes before the archive; offsets are then off by the prefix.
  auto sfx = scan_zip_directory(tiny_zip("a.exe", 1, std::string(300, 'X')), 8);
  EXPECT_TRUE(sfx.any_encrypted);
  EXPECT_EQ(scan_zip_directory(tiny_zip("a.exe", 1), 0).encrypted_names.size(), 0u);
  EXPECT_FALSE(scan_zip_directory("not a zip at all", 8).is_zip);
  // The record is found behind a comment full of 'P's and "PK" (the backward search stops at
  // each 'P'), and a record-like string inside the comment is not taken for it.
  {
    std::string z = tiny_zip("c.exe", 1);
    const std::string comment = std::string(4000, 'P') + "PK\x05" + std::string(999, 'P');
    z[z.size() - 2] = static_cast<char>(comment.size() & 0xFF);
    z[z.size() - 1] = static_cast<char>(comment.size() >> 8);
    auto with_comment = scan_zip_directory(z + comment, 8);
    EXPECT_TRUE(with_comment.is_zip);
    ASSERT_EQ(with_comment.encrypted_names.size(), 1u);
    EXPECT_EQ(with_comment.encrypted_names[0], "c.exe");
    // Beyond the 64 KiB a comment can hold, no record is looked for.
    EXPECT_FALSE(scan_zip_directory(z + std::string(70000, 'P'), 8).is_zip);
  }
  // Truncations of a valid zip never read out of bounds.
  const std::string z = tiny_zip("a.exe", 1);
  for (size_t n = 0; n < z.size(); ++n) (void)scan_zip_directory(z.substr(0, n), 8);
  for (size_t n = 0; n < z.size(); ++n) (void)scan_zip_directory(z.substr(n), 8);
}

}  // namespace
