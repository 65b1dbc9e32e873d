// tnef.cpp - TNEF attribute and MAPI property parsing, only as far as attachment names and bytes.
// Every length is checked against what is left before it is used; the input is never copied.
#include "containers/tnef.h"

#include <cstdint>

#include "util/utf8.h"

namespace avsink::containers {
namespace {

constexpr uint32_t kSignature = 0x223E9F78;
constexpr uint8_t kLevelAttachment = 0x02;
// Attribute ids (low 16 bits of the attribute id; MS-OXTNEF 2.1.3.1).
constexpr uint16_t kAttAttachData = 0x800F;
constexpr uint16_t kAttAttachTitle = 0x8010;
constexpr uint16_t kAttAttachRenddata = 0x9002;
constexpr uint16_t kAttAttachment = 0x9005;
// MAPI property ids and types (MS-OXPROPS, MS-OXCDATA 2.11.1).
constexpr uint16_t kPrDisplayName = 0x3001;
constexpr uint16_t kPrAttachDataObj = 0x3701;
constexpr uint16_t kPrAttachFilename = 0x3704;
constexpr uint16_t kPrAttachLongFilename = 0x3707;
constexpr uint16_t kPtString8 = 0x001E;
constexpr uint16_t kPtUnicode = 0x001F;
constexpr uint16_t kPtBinary = 0x0102;
constexpr uint16_t kPtObject = 0x000D;
constexpr uint16_t kMvFlag = 0x1000;

// A bounds-checked little-endian cursor over the input.
class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  size_t left() const { return d_.size() - pos_; }
  bool u8(uint8_t &v) {
    if (left() < 1) return false;
    v = static_cast<uint8_t>(d_[pos_++]);
    return true;
  }
  bool u16(uint16_t &v) {
    if (left() < 2) return false;
    v = static_cast<uint16_t>(byte(0) | byte(1) << 8);
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t &v) {
    if (left() < 4) return false;
    v = byte(0) | byte(1) << 8 | byte(2) << 16 | static_cast<uint32_t>(byte(3)) << 24;
    pos_ += 4;
    return true;
  }
  bool bytes(size_t n, std::string_view &out) {
    if (left() < n) return false;
    out = d_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool skip(size_t n) {
    if (left() < n) return false;
    pos_ += n;
    return true;
  }

 private:
  uint32_t byte(size_t i) const { return static_cast<uint8_t>(d_[pos_ + i]); }
  std::string_view d_;
  size_t pos_ = 0;
};

size_t pad4(size_t n) {
  return (n + 3) & ~size_t(3);
}

// UTF-16LE to UTF-8; a lone surrogate becomes U+FFFD; stops at the first NUL.
std::string utf16le_to_utf8(std::string_view s) {
  std::string out;
  auto unit = [&s](size_t i) {
    return static_cast<uint32_t>(static_cast<uint8_t>(s[i]) | static_cast<uint8_t>(s[i + 1]) << 8);
  };
  for (size_t i = 0; i + 1 < s.size(); i += 2) {
    uint32_t cp = unit(i);
    if (cp == 0) break;
    if (cp >= 0xD800 && cp < 0xDC00 && i + 3 < s.size()) {
      const uint32_t lo = unit(i + 2);
      if (lo >= 0xDC00 && lo < 0xE000) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        i += 2;
      } else {
        cp = 0xFFFD;
      }
    } else if (cp >= 0xD800 && cp < 0xE000) {
      cp = 0xFFFD;
    }
    util::utf8_append(&out, cp);
  }
  return out;
}

// An 8-bit string attribute or property, without its terminating NUL(s).
std::string string8(std::string_view s) {
  const size_t nul = s.find('\0');
  return std::string(nul == std::string_view::npos ? s : s.substr(0, nul));
}

void add_name(TnefAttachment &a, const std::string &name) {
  if (name.empty()) return;
  for (const auto &n : a.names) {
    if (n == name) return;
  }
  a.names.push_back(name);
}

// Size of one fixed-width MAPI value as TNEF stores it (padded to 4), 0 for unknown types.
size_t fixed_size(uint16_t type) {
  switch (type) {
    case 0x0001:  // PtypNull
    case 0x0002:  // PtypInteger16 (padded)
    case 0x0003:  // PtypInteger32
    case 0x0004:  // PtypFloating32
    case 0x000A:  // PtypErrorCode
    case 0x000B:  // PtypBoolean (padded)
      return 4;
    case 0x0005:  // PtypFloating64
    case 0x0006:  // PtypCurrency
    case 0x0007:  // PtypFloatingTime
    case 0x0014:  // PtypInteger64
    case 0x0040:  // PtypTime
      return 8;
    case 0x0048:  // PtypGuid
      return 16;
    default:
      return 0;
  }
}

// The MAPI property list of one attAttachment attribute: names and PR_ATTACH_DATA_OBJ.
// Returns "" when the whole list was read, else why it stopped.
std::string read_props(std::string_view list, TnefAttachment &a, std::string &long_name,
                       std::string &short_name, std::string &display) {
  Reader r(list);
  uint32_t count = 0;
  if (!r.u32(count)) return "MAPI property list too short";
  for (uint32_t i = 0; i < count; ++i) {
    uint16_t type = 0, id = 0;
    if (!r.u16(type) || !r.u16(id)) return "MAPI property header truncated";
    if (id >= 0x8000) {  // a named property: GUID, kind, then an id or a name
      uint32_t kind = 0, value = 0;
      if (!r.skip(16) || !r.u32(kind)) return "named property truncated";
      if (kind == 0) {
        if (!r.u32(value)) return "named property id truncated";
      } else if (kind == 1) {
        if (!r.u32(value) || !r.skip(pad4(value))) return "named property name truncated";
      } else {
        return "named property of unknown kind " + std::to_string(kind);
      }
    }
    const bool multi = (type & kMvFlag) != 0;
    const uint16_t base = static_cast<uint16_t>(type & ~kMvFlag);
    const bool variable =
        base == kPtString8 || base == kPtUnicode || base == kPtBinary || base == kPtObject;
    uint32_t values = 1;
    if (multi || variable) {
      if (!r.u32(values)) return "property value count truncated";
    }
    if (!variable) {
      const size_t size = fixed_size(base);
      if (size == 0) return "MAPI property of unknown type " + std::to_string(base);
      if (values > r.left() / size) return "property values truncated";
      r.skip(size * values);
      continue;
    }
    for (uint32_t v = 0; v < values; ++v) {
      uint32_t len = 0;
      std::string_view bytes;
      if (!r.u32(len) || !r.bytes(len, bytes) || !r.skip(pad4(len) - len)) {
        return "property value truncated";
      }
      if (multi || v > 0) continue;
      if (base == kPtString8 || base == kPtUnicode) {
        const std::string s = base == kPtUnicode ? utf16le_to_utf8(bytes) : string8(bytes);
        if (id == kPrAttachLongFilename) long_name = s;
        if (id == kPrAttachFilename) short_name = s;
        if (id == kPrDisplayName) display = s;
      } else if (id == kPrAttachDataObj && !a.has_data) {
        // PT_OBJECT data starts with the interface id of the object (16 bytes).
        if (base == kPtObject) bytes = bytes.size() >= 16 ? bytes.substr(16) : std::string_view();
        a.data = bytes;
        a.has_data = true;
      }
    }
  }
  return {};
}

}  // namespace

bool is_tnef(std::string_view data) {
  Reader r(data);
  uint32_t sig = 0;
  return r.u32(sig) && sig == kSignature;
}

TnefStream read_tnef(std::string_view data) {
  TnefStream out;
  Reader r(data);
  uint32_t sig = 0;
  uint16_t key = 0;
  if (!r.u32(sig) || sig != kSignature || !r.u16(key)) {
    out.error = "not a TNEF stream";
    return out;
  }
  // Names per attachment, collected and ordered once the attachment ends.
  struct Names {
    std::string title, long_name, short_name, display;
  };
  std::vector<Names> names;
  auto current = [&out, &names]() -> TnefAttachment & {
    if (out.attachments.empty()) {
      out.attachments.emplace_back();
      names.emplace_back();
    }
    return out.attachments.back();
  };
  while (r.left() > 0) {
    // Line-end or NUL padding after the last attribute (a transfer artefact) holds nothing.
    std::string_view rest;
    if (r.left() < 11 && r.bytes(r.left(), rest) &&
        rest.find_first_not_of(std::string_view("\r\n\0 ", 4)) == std::string_view::npos) {
      break;
    }
    if (!rest.empty()) {
      out.error = "attribute truncated";
      break;
    }
    uint8_t level = 0;
    uint32_t id = 0, len = 0;
    uint16_t checksum = 0;
    std::string_view value;
    if (!r.u8(level) || !r.u32(id) || !r.u32(len) || !r.bytes(len, value) || !r.u16(checksum)) {
      out.error = "attribute truncated";
      break;
    }
    // The checksum is not verified: mail clients and libclamav ignore it, and streams with
    // wrong ones exist (ClamAV's own clam.tnef); stopping there would hide what they read.
    (void)checksum;
    if (level != kLevelAttachment) continue;
    const uint16_t attr = static_cast<uint16_t>(id & 0xFFFF);
    if (attr == kAttAttachRenddata) {
      out.attachments.emplace_back();
      names.emplace_back();
    } else if (attr == kAttAttachTitle) {
      current();
      names.back().title = string8(value);
    } else if (attr == kAttAttachData) {
      TnefAttachment &a = current();
      a.data = value;
      a.has_data = true;
    } else if (attr == kAttAttachment) {
      TnefAttachment &a = current();
      Names &n = names.back();
      std::string why = read_props(value, a, n.long_name, n.short_name, n.display);
      if (!why.empty()) {
        out.error = why;
        break;
      }
    }
  }
  for (size_t i = 0; i < out.attachments.size(); ++i) {
    TnefAttachment &a = out.attachments[i];
    const Names &n = names[i];
    add_name(a, n.long_name);
    add_name(a, n.short_name);
    add_name(a, n.title);
    add_name(a, n.display);
    if (!a.names.empty()) a.name = a.names.front();
  }
  return out;
}

}  // namespace avsink::containers
