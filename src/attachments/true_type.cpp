// true_type.cpp - magic-byte detection of executables and scripts, libclamav type mapping, zip
// directory reading. Every read is bounds-checked against the input; nothing here allocates much.
#include "attachments/true_type.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace avsink::attachments {
namespace {

constexpr size_t kHeadBytes = 64 * 1024;  // the most of a body the text checks look at

uint32_t le16(std::string_view d, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(d[at])) |
         static_cast<uint32_t>(static_cast<unsigned char>(d[at + 1])) << 8;
}

uint32_t le32(std::string_view d, size_t at) {
  return le16(d, at) | le16(d, at + 2) << 16;
}

uint32_t be32(std::string_view d, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(d[at + i]);
  return v;
}

bool is_pe(std::string_view d) {
  if (!d.starts_with("MZ")) return false;
  if (d.size() >= 0x40) {
    const uint32_t lfanew = le32(d, 0x3C);
    if (lfanew <= d.size() - 4 && d.compare(lfanew, 4, std::string_view("PE\0\0", 4)) == 0) {
      return true;
    }
  }
  // A DOS executable (or a truncated PE) still has a binary header; text starting "MZ" has not.
  const size_t n = std::min<size_t>(d.size(), 64);
  for (size_t i = 2; i < n; ++i) {
    const auto c = static_cast<unsigned char>(d[i]);
    if (c < 0x09 || (c > 0x0d && c < 0x20 && c != 0x1b)) return true;
  }
  return false;
}

bool is_macho(std::string_view d) {
  if (d.size() < 8) return false;
  const uint32_t magic = be32(d, 0);
  switch (magic) {
    case 0xFEEDFACE:  // 32-bit, big-endian
    case 0xFEEDFACF:  // 64-bit, big-endian
    case 0xCEFAEDFE:  // 32-bit, little-endian
    case 0xCFFAEDFE:  // 64-bit, little-endian
      return true;
    case 0xCAFEBABE:  // universal binary; a Java class shares the magic (then this is its version)
    case 0xCAFEBABF: {
      const uint32_t nfat = be32(d, 4);
      return nfat > 0 && nfat < 45;
    }
    default:
      return false;
  }
}

bool is_shebang(std::string_view d) {
  if (!d.starts_with("#!")) return false;
  size_t i = 2;
  while (i < d.size() && i < 64 && (d[i] == ' ' || d[i] == '\t')) ++i;
  return i < d.size() && d[i] == '/';
}

bool contains_nocase(std::string_view hay, std::string_view lower_needle) {
  if (hay.size() < lower_needle.size()) return false;
  const size_t last = hay.size() - lower_needle.size();
  for (size_t i = 0; i <= last; ++i) {
    // Every needle here starts with '<': jump to the next one.
    const void *lt = std::memchr(hay.data() + i, '<', last + 1 - i);
    if (lt == nullptr) return false;
    i = static_cast<size_t>(static_cast<const char *>(lt) - hay.data());
    bool match = true;
    for (size_t k = 1; k < lower_needle.size() && match; ++k) {
      char c = hay[i + k];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      match = c == lower_needle[k];
    }
    if (match) return true;
  }
  return false;
}

bool is_hta(std::string_view d) {
  std::string_view head = d.substr(0, std::min(d.size(), kHeadBytes));
  if (contains_nocase(head, "<hta:application")) return true;
  // UTF-16LE text (BOM FF FE): look at the low bytes.
  if (head.starts_with("\xFF\xFE")) {
    std::string narrow;
    narrow.reserve(head.size() / 2);
    for (size_t i = 2; i + 1 < head.size(); i += 2) {
      if (head[i + 1] == '\0') narrow.push_back(head[i]);
    }
    return contains_nocase(narrow, "<hta:application");
  }
  return false;
}

bool is_lnk(std::string_view d) {
  static constexpr std::array<unsigned char, 20> kHeader = {
      0x4C, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00, 0x00, 0x00,
      0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
  return d.size() >= kHeader.size() && std::memcmp(d.data(), kHeader.data(), kHeader.size()) == 0;
}

bool is_msi(std::string_view d) {
  static constexpr std::string_view kOle2("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
  if (d.size() < 512 || !d.starts_with(kOle2)) return false;
  const uint32_t shift = le16(d, 0x1E);
  if (shift != 9 && shift != 12) return false;
  const uint64_t dir_sector = le32(d, 0x30);
  if (dir_sector >= 0xFFFFFFFAu) return false;  // special sector numbers
  const uint64_t root = (dir_sector + 1) << shift;
  if (root + 0x60 > d.size()) return false;
  // Root entry CLSID: {000C1084-...} MSI, {000C1086-...} MSP patch, {000C1082-...} MST transform.
  static constexpr std::array<unsigned char, 16> kMsi = {0x84, 0x10, 0x0C, 0x00, 0x00, 0x00,
                                                         0x00, 0x00, 0xC0, 0x00, 0x00, 0x00,
                                                         0x00, 0x00, 0x00, 0x46};
  const auto *clsid = reinterpret_cast<const unsigned char *>(d.data() + root + 0x50);
  if (std::memcmp(clsid + 1, kMsi.data() + 1, kMsi.size() - 1) != 0) return false;
  return clsid[0] == 0x84 || clsid[0] == 0x86 || clsid[0] == 0x82;
}

}  // namespace

std::string_view to_string(TrueType type) {
  switch (type) {
    case TrueType::kNone:
      return "none";
    case TrueType::kPe:
      return "pe";
    case TrueType::kElf:
      return "elf";
    case TrueType::kMachO:
      return "macho";
    case TrueType::kShebang:
      return "shebang";
    case TrueType::kHta:
      return "hta";
    case TrueType::kLnk:
      return "lnk";
    case TrueType::kMsi:
      return "msi";
  }
  return "none";
}

std::optional<TrueType> true_type_from_string(std::string_view name) {
  for (TrueType t : all_true_types()) {
    if (to_string(t) == name) return t;
  }
  return std::nullopt;
}

std::string_view finding_suffix(TrueType type) {
  switch (type) {
    case TrueType::kPe:
      return "PE";
    case TrueType::kElf:
      return "ELF";
    case TrueType::kMachO:
      return "MachO";
    case TrueType::kShebang:
      return "Script";
    case TrueType::kHta:
      return "HTA";
    case TrueType::kLnk:
      return "LNK";
    case TrueType::kMsi:
      return "MSI";
    case TrueType::kNone:
      break;
  }
  return "None";
}

std::string_view describe(TrueType type) {
  switch (type) {
    case TrueType::kPe:
      return "a Windows (PE/MZ) executable";
    case TrueType::kElf:
      return "an ELF executable";
    case TrueType::kMachO:
      return "a Mach-O executable";
    case TrueType::kShebang:
      return "an interpreter script (#!)";
    case TrueType::kHta:
      return "an HTML application (HTA)";
    case TrueType::kLnk:
      return "a Windows shortcut (LNK)";
    case TrueType::kMsi:
      return "a Windows Installer package (MSI/MSP/MST)";
    case TrueType::kNone:
      break;
  }
  return "nothing blocked by type";
}

bool is_text_class(TrueType type) {
  return type == TrueType::kShebang || type == TrueType::kHta;
}

const std::vector<TrueType> &all_true_types() {
  static const std::vector<TrueType> kAll = {TrueType::kPe,      TrueType::kElf, TrueType::kMachO,
                                             TrueType::kShebang, TrueType::kHta, TrueType::kLnk,
                                             TrueType::kMsi};
  return kAll;
}

TrueType detect_true_type(std::string_view data) {
  if (is_pe(data)) return TrueType::kPe;
  if (data.starts_with("\x7F"
                       "ELF"))
    return TrueType::kElf;
  if (is_macho(data)) return TrueType::kMachO;
  if (is_lnk(data)) return TrueType::kLnk;
  if (is_msi(data)) return TrueType::kMsi;
  if (is_shebang(data)) return TrueType::kShebang;
  if (is_hta(data)) return TrueType::kHta;
  return TrueType::kNone;
}

TrueType true_type_of_clamav(std::string_view cl_type) {
  if (cl_type == "CL_TYPE_MSEXE") return TrueType::kPe;
  if (cl_type == "CL_TYPE_ELF") return TrueType::kElf;
  if (cl_type == "CL_TYPE_MACHO" || cl_type == "CL_TYPE_MACHO_UNIBIN") return TrueType::kMachO;
  if (cl_type == "CL_TYPE_LNK") return TrueType::kLnk;
  return TrueType::kNone;
}

ZipDirectoryScan scan_zip_directory(std::string_view d, size_t max_names) {
  ZipDirectoryScan out;
  constexpr size_t kEocd = 22;
  if (d.size() < kEocd) return out;
  // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
  size_t eocd = std::string_view::npos;
  const size_t lowest = d.size() > kEocd + 0xFFFF ? d.size() - kEocd - 0xFFFF : 0;
  // Backwards from the last place a record fits, one 'P' at a time.
  for (size_t hi = d.size() - kEocd + 1; hi > lowest;) {
    const void *p = memrchr(d.data() + lowest, 'P', hi - lowest);
    if (p == nullptr) break;
    const size_t i = static_cast<size_t>(static_cast<const char *>(p) - d.data());
    if (d.compare(i, 4, "PK\x05\x06") == 0) {
      eocd = i;
      break;
    }
    hi = i;
  }
  if (eocd == std::string_view::npos) return out;
  out.is_zip = true;
  const uint32_t entries = le16(d, eocd + 10);
  const uint64_t cd_size = le32(d, eocd + 12);
  uint64_t cd_offset = le32(d, eocd + 16);
  if (cd_size > eocd) return out;  // zip64 or damaged: nothing we can read here
  if (cd_offset + cd_size != eocd) cd_offset = eocd - cd_size;  // data prepended (SFX stub)
  size_t pos = static_cast<size_t>(cd_offset);
  for (uint32_t n = 0; n < entries; ++n) {
    if (pos + 46 > eocd || d.compare(pos, 4, "PK\x01\x02") != 0) break;
    const uint32_t flags = le16(d, pos + 8);
    const size_t name_len = le16(d, pos + 28);
    const size_t extra_len = le16(d, pos + 30);
    const size_t comment_len = le16(d, pos + 32);
    if (pos + 46 + name_len > eocd) break;
    // The local header this entry points at (offsets shift with a prepended SFX stub).
    const uint64_t local = le32(d, pos + 42) + (cd_offset - le32(d, eocd + 16));
    if (local < cd_offset && local + 30 <= cd_offset && d.compare(local, 4, "PK\x03\x04") == 0 &&
        out.mismatched_names.size() < max_names) {
      const size_t local_len = le16(d, local + 26);
      if (local + 30 + local_len <= cd_offset &&
          d.substr(local + 30, local_len) != d.substr(pos + 46, name_len)) {
        out.mismatched_names.emplace_back(d.substr(local + 30, local_len));
        out.mismatched_names.emplace_back(d.substr(pos + 46, name_len));
      }
    }
    if ((flags & 1u) != 0) {
      out.any_encrypted = true;
      if (out.encrypted_names.size() < max_names) {
        out.encrypted_names.emplace_back(d.substr(pos + 46, name_len));
      }
    }
    pos += 46 + name_len + extra_len + comment_len;
  }
  return out;
}

}  // namespace avsink::attachments
