// sevenzip.cpp - reads a 7z start header and an encoded header's stream description (7-Zip's
// 7zFormat.txt layout) far enough to bound what libarchive will allocate for them.
#include "containers/sevenzip.h"

#include <optional>
#include <vector>

namespace avsink::containers {
namespace {

constexpr std::string_view kSignature("7z\xbc\xaf\x27\x1c", 6);
constexpr size_t kStartHeaderBytes = 32;

// 7z property ids used in a stream description.
enum : uint8_t {
  kEnd = 0x00,
  kHeader = 0x01,
  kPackInfo = 0x06,
  kUnpackInfo = 0x07,
  kSubStreamsInfo = 0x08,
  kSize = 0x09,
  kCrc = 0x0a,
  kFolder = 0x0b,
  kCodersUnpackSize = 0x0c,
  kEncodedHeader = 0x17,
};

uint64_t le(std::string_view d, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = v << 8 | static_cast<uint8_t>(d[at + i]);
  return v;
}

// CRC-32 (IEEE 802.3, reflected), the checksum a 7z start header carries over its last 20 bytes.
uint32_t crc32(std::string_view d) {
  uint32_t c = 0xffffffffu;
  for (char ch : d) {
    c ^= static_cast<uint8_t>(ch);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// A bounded reader over one header; every read fails (nullopt/false) past its end.
class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}

  std::optional<uint8_t> byte() {
    if (pos_ >= d_.size()) return std::nullopt;
    return static_cast<uint8_t>(d_[pos_++]);
  }
  bool skip(uint64_t n) {
    if (n > d_.size() - pos_) return false;
    pos_ += static_cast<size_t>(n);
    return true;
  }
  // 7z's variable-length number: the leading one bits of the first byte count the bytes that
  // follow (little-endian); the first byte's remaining bits are the number's top bits.
  std::optional<uint64_t> number() {
    const auto first = byte();
    if (!first) return std::nullopt;
    uint64_t value = 0;
    uint8_t mask = 0x80;
    for (int i = 0; i < 8; ++i, mask >>= 1) {
      if ((*first & mask) == 0) {
        return value | static_cast<uint64_t>(*first & (mask - 1)) << (8 * i);
      }
      const auto b = byte();
      if (!b) return std::nullopt;
      value |= static_cast<uint64_t>(*b) << (8 * i);
    }
    return value;
  }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

// Skips a digest list of `n` items: an all-defined byte, else a bit per item, then 4 bytes each.
bool skip_digests(Reader &r, uint64_t n) {
  const auto all = r.byte();
  if (!all) return false;
  uint64_t defined = n;
  if (*all == 0) {
    defined = 0;
    for (uint64_t i = 0; i < n; i += 8) {
      const auto bits = r.byte();
      if (!bits) return false;
      for (uint64_t k = 0; k < 8 && i + k < n; ++k) defined += (*bits >> (7 - k)) & 1u;
    }
  }
  return defined <= UINT64_MAX / 4 && r.skip(defined * 4);
}

// Reads one folder's coders and bindings; `outs` = its output stream count.
bool read_folder(Reader &r, uint64_t &outs) {
  const auto coders = r.number();
  if (!coders || *coders == 0) return false;
  uint64_t ins = 0;
  outs = 0;
  for (uint64_t c = 0; c < *coders; ++c) {
    const auto flag = r.byte();
    if (!flag || (*flag & 0x80) != 0) return false;  // alternative methods: never written
    if (!r.skip(*flag & 0x0f)) return false;         // the method id
    uint64_t in = 1, out = 1;
    if ((*flag & 0x10) != 0) {
      const auto i = r.number(), o = r.number();
      if (!i || !o) return false;
      in = *i;
      out = *o;
    }
    if ((*flag & 0x20) != 0) {
      const auto props = r.number();
      if (!props || !r.skip(*props)) return false;
    }
    if (in > UINT32_MAX || out > UINT32_MAX) return false;
    ins += in;
    outs += out;
  }
  if (outs == 0 || ins < outs - 1) return false;
  for (uint64_t b = 0; b + 1 < outs; ++b) {  // bind pairs: in index, out index
    if (!r.number() || !r.number()) return false;
  }
  const uint64_t packed = ins - (outs - 1);
  if (packed > 1) {
    for (uint64_t p = 0; p < packed; ++p) {
      if (!r.number()) return false;
    }
  }
  return true;
}

// Reads an encoded header's stream description and returns every unpacked size it declares.
std::optional<std::vector<uint64_t>> unpack_sizes(Reader &r) {
  std::vector<uint64_t> sizes;
  for (;;) {
    const auto id = r.byte();
    if (!id) return std::nullopt;
    if (*id == kEnd || *id == kSubStreamsInfo) return sizes;  // sub-streams come after the sizes
    if (*id == kPackInfo) {
      const auto pos = r.number(), n = r.number();
      if (!pos || !n) return std::nullopt;
      for (;;) {
        const auto sub = r.byte();
        if (!sub) return std::nullopt;
        if (*sub == kEnd) break;
        if (*sub == kSize) {
          for (uint64_t i = 0; i < *n; ++i) {
            if (!r.number()) return std::nullopt;
          }
        } else if (*sub != kCrc || !skip_digests(r, *n)) {
          return std::nullopt;
        }
      }
    } else if (*id == kUnpackInfo) {
      const auto folder = r.byte();
      const auto n = r.number();
      const auto external = r.byte();
      if (!folder || *folder != kFolder || !n || !external || *external != 0) return std::nullopt;
      std::vector<uint64_t> outs;
      for (uint64_t f = 0; f < *n; ++f) {
        uint64_t o = 0;
        if (!read_folder(r, o)) return std::nullopt;
        outs.push_back(o);
      }
      const auto tag = r.byte();
      if (!tag || *tag != kCodersUnpackSize) return std::nullopt;
      for (uint64_t o : outs) {
        for (uint64_t i = 0; i < o; ++i) {
          const auto s = r.number();
          if (!s) return std::nullopt;
          sizes.push_back(*s);
        }
      }
      for (;;) {
        const auto sub = r.byte();
        if (!sub) return std::nullopt;
        if (*sub == kEnd) break;
        if (*sub != kCrc || !skip_digests(r, *n)) return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
  }
}

SevenZipCheck check_at(std::string_view d, size_t at, uint64_t max_header_bytes,
                       uint64_t ratio_bytes) {
  SevenZipCheck res;
  const uint64_t offset = le(d, at + 12, 8), size = le(d, at + 20, 8);
  const uint64_t base = at + kStartHeaderBytes;
  // A header that starts outside the data is a failed seek in libarchive (a split archive's first
  // volume looks like that): nothing is allocated for it.
  if (size == 0 || offset >= d.size() - base) return res;
  const uint64_t header_at = base + offset;
  if (size > d.size() - header_at) {
    res.bound = SevenZipCheck::Bound::kPastData;
    res.detail = "7z directory of " + std::to_string(size) +
                 " bytes lies beyond the data (a split volume or a truncated archive)";
    return res;
  }
  const std::string_view header = d.substr(static_cast<size_t>(header_at), size);
  if (static_cast<uint8_t>(header[0]) != kEncodedHeader) return res;
  Reader r(header.substr(1));
  const auto sizes = unpack_sizes(r);
  if (!sizes) {
    res.bound = SevenZipCheck::Bound::kCorrupt;
    res.detail = "7-Zip encoded header: its stream description cannot be read";
    return res;
  }
  for (uint64_t s : *sizes) {
    if (s > max_header_bytes) {
      res.bound = SevenZipCheck::Bound::kFileBytes;
      res.detail = "7-Zip encoded header declares " + std::to_string(s) +
                   " bytes, more than max_file_bytes (" + std::to_string(max_header_bytes) + ")";
      return res;
    }
    if (s > ratio_bytes) {
      res.bound = SevenZipCheck::Bound::kRatio;
      res.detail = "7-Zip encoded header declares " + std::to_string(s) +
                   " bytes, more than max_compression_ratio allows for its " +
                   std::to_string(d.size()) + " bytes";
      return res;
    }
  }
  return res;
}

// The test libarchive's SFX search applies to a signature it finds: the start header's CRC.
bool start_header_valid(std::string_view d, size_t at) {
  return d.size() - at >= kStartHeaderBytes &&
         crc32(d.substr(at + 12, 20)) == static_cast<uint32_t>(le(d, at + 8, 4));
}

}  // namespace

SevenZipCheck check_sevenzip(std::string_view d, uint64_t max_header_bytes, uint64_t ratio_bytes) {
  if (d.starts_with(kSignature)) {
    // Debian's libarchive (3.6.2) reads a start header at offset 0 whatever its CRC says.
    if (d.size() < kStartHeaderBytes) return {};
    return check_at(d, 0, max_header_bytes, ratio_bytes);
  }
  if (!d.starts_with("MZ") && !d.starts_with("\x7f"
                                             "ELF"))
    return {};
  for (size_t p = d.find(kSignature, 1); p != std::string_view::npos;
       p = d.find(kSignature, p + 1)) {
    if (!start_header_valid(d, p)) continue;
    SevenZipCheck c = check_at(d, p, max_header_bytes, ratio_bytes);
    if (!c.ok()) return c;
  }
  return {};
}

}  // namespace avsink::containers
