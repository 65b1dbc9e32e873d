// sevenzip.cpp - reads a 7z start header and the header it points at (unpacking an LZMA-packed
// one with liblzma) far enough to bound what libarchive will allocate for them (7zFormat.txt).
#include "containers/declared.h"

#include <lzma.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
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
  kArchiveProperties = 0x02,
  kAdditionalStreamsInfo = 0x03,
  kMainStreamsInfo = 0x04,
  kFilesInfo = 0x05,
  kPackInfo = 0x06,
  kUnpackInfo = 0x07,
  kSubStreamsInfo = 0x08,
  kSize = 0x09,
  kCrc = 0x0a,
  kFolder = 0x0b,
  kCodersUnpackSize = 0x0c,
  kNumUnpackStream = 0x0d,
  kEncodedHeader = 0x17,
};

// A bounded reader over one header; every read fails (nullopt/false) past its end.
class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}

  std::optional<uint8_t> byte() {
    if (pos_ >= d_.size()) return std::nullopt;
    return static_cast<uint8_t>(d_[pos_++]);
  }
  bool skip(uint64_t n) { return bytes(n).has_value(); }
  std::optional<std::string_view> bytes(uint64_t n) {
    if (n > d_.size() - pos_) return std::nullopt;
    const std::string_view v = d_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return v;
  }
  uint64_t left() const { return d_.size() - pos_; }
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
// `defined` (when given) gets a flag per item.
bool skip_digests(Reader &r, uint64_t n, std::vector<bool> *defined = nullptr) {
  const auto all = r.byte();
  if (!all || n > r.left() * 8 + 8) return false;
  uint64_t count = n;
  if (defined != nullptr) defined->assign(static_cast<size_t>(n), *all != 0);
  if (*all == 0) {
    count = 0;
    for (uint64_t i = 0; i < n; i += 8) {
      const auto bits = r.byte();
      if (!bits) return false;
      for (uint64_t k = 0; k < 8 && i + k < n; ++k) {
        const bool on = ((*bits >> (7 - k)) & 1u) != 0;
        count += on;
        if (defined != nullptr) (*defined)[static_cast<size_t>(i + k)] = on;
      }
    }
  }
  return count <= UINT64_MAX / 4 && r.skip(count * 4);
}

struct Coder {
  std::string_view id, props;
};

struct Folder {
  std::vector<Coder> coders;
  std::vector<uint64_t> sizes;  // one per output stream
  uint64_t outs = 0;
  bool crc = false;
  uint64_t unpack_streams = 1;
};

struct Streams {
  uint64_t pack_pos = 0;
  std::vector<uint64_t> pack_sizes;
  std::vector<Folder> folders;
};

enum class Parse { kOk, kMalformed, kTooManyFiles };

// Reads one folder's coders and bindings.
bool read_folder(Reader &r, Folder &f) {
  const auto coders = r.number();
  if (!coders || *coders == 0 || *coders > 64) return false;
  uint64_t ins = 0;
  for (uint64_t c = 0; c < *coders; ++c) {
    const auto flag = r.byte();
    if (!flag || (*flag & 0x80) != 0) return false;  // alternative methods: never written
    Coder coder;
    const auto id = r.bytes(*flag & 0x0f);
    if (!id) return false;
    coder.id = *id;
    uint64_t in = 1, out = 1;
    if ((*flag & 0x10) != 0) {
      const auto i = r.number(), o = r.number();
      if (!i || !o || *i > 64 || *o > 64) return false;
      in = *i;
      out = *o;
    }
    if ((*flag & 0x20) != 0) {
      const auto n = r.number();
      if (!n) return false;
      const auto props = r.bytes(*n);
      if (!props) return false;
      coder.props = *props;
    }
    ins += in;
    f.outs += out;
    f.coders.push_back(coder);
  }
  if (f.outs == 0 || ins < f.outs - 1) return false;
  for (uint64_t b = 0; b + 1 < f.outs; ++b) {  // bind pairs: in index, out index
    if (!r.number() || !r.number()) return false;
  }
  const uint64_t packed = ins - (f.outs - 1);
  if (packed > 1) {
    for (uint64_t p = 0; p < packed; ++p) {
      if (!r.number()) return false;
    }
  }
  return true;
}

// Reads a stream description (PackInfo, UnpackInfo, SubStreamsInfo, up to its kEnd). Counts
// whose items take bytes are held to the bytes left; the count of unpacked streams, which takes
// none, to `max_files` (libarchive allocates for each before reading any).
Parse read_streams(Reader &r, Streams &s, uint64_t max_files) {
  for (;;) {
    const auto id = r.byte();
    if (!id) return Parse::kMalformed;
    if (*id == kEnd) return Parse::kOk;
    if (*id == kPackInfo) {
      const auto pos = r.number(), n = r.number();
      if (!pos || !n || *n == 0 || *n > r.left()) return Parse::kMalformed;
      s.pack_pos = *pos;
      for (;;) {
        const auto sub = r.byte();
        if (!sub) return Parse::kMalformed;
        if (*sub == kEnd) break;
        if (*sub == kSize) {
          for (uint64_t i = 0; i < *n; ++i) {
            const auto size = r.number();
            if (!size) return Parse::kMalformed;
            s.pack_sizes.push_back(*size);
          }
        } else if (*sub != kCrc || !skip_digests(r, *n)) {
          return Parse::kMalformed;
        }
      }
    } else if (*id == kUnpackInfo) {
      const auto folder = r.byte();
      const auto n = r.number();
      const auto external = r.byte();
      if (!folder || *folder != kFolder || !n || *n > r.left() || !external || *external != 0)
        return Parse::kMalformed;
      s.folders.resize(static_cast<size_t>(*n));
      for (Folder &f : s.folders)
        if (!read_folder(r, f)) return Parse::kMalformed;
      const auto tag = r.byte();
      if (!tag || *tag != kCodersUnpackSize) return Parse::kMalformed;
      for (Folder &f : s.folders) {
        for (uint64_t i = 0; i < f.outs; ++i) {
          const auto size = r.number();
          if (!size) return Parse::kMalformed;
          f.sizes.push_back(*size);
        }
      }
      for (;;) {
        const auto sub = r.byte();
        if (!sub) return Parse::kMalformed;
        if (*sub == kEnd) break;
        std::vector<bool> defined;
        if (*sub != kCrc || !skip_digests(r, *n, &defined)) return Parse::kMalformed;
        for (size_t i = 0; i < defined.size(); ++i) s.folders[i].crc = defined[i];
      }
    } else if (*id == kSubStreamsInfo) {
      for (;;) {
        const auto sub = r.byte();
        if (!sub) return Parse::kMalformed;
        if (*sub == kEnd) break;
        if (*sub == kNumUnpackStream) {
          uint64_t total = 0;
          for (Folder &f : s.folders) {
            const auto count = r.number();
            if (!count) return Parse::kMalformed;
            if (*count > max_files || (total += *count) > max_files) return Parse::kTooManyFiles;
            f.unpack_streams = *count;
          }
        } else if (*sub == kSize) {
          for (const Folder &f : s.folders) {
            for (uint64_t i = 1; i < f.unpack_streams; ++i) {
              if (!r.number()) return Parse::kMalformed;
            }
          }
        } else if (*sub == kCrc) {
          uint64_t digests = 0;
          for (const Folder &f : s.folders)
            digests += f.unpack_streams == 1 && f.crc ? 0 : f.unpack_streams;
          if (!skip_digests(r, digests)) return Parse::kMalformed;
        } else {
          return Parse::kMalformed;
        }
      }
    } else {
      return Parse::kMalformed;
    }
  }
}

// Reads a header (after its kHeader byte) up to its file count: `files` = the count it declares
// (0 when it has no file list).
Parse read_header(Reader &r, uint64_t max_files, uint64_t &files) {
  files = 0;
  for (;;) {
    const auto id = r.byte();
    if (!id) return Parse::kMalformed;
    if (*id == kEnd) return Parse::kOk;
    if (*id == kArchiveProperties) {
      for (;;) {
        const auto type = r.number();
        if (!type) return Parse::kMalformed;
        if (*type == 0) break;
        const auto size = r.number();
        if (!size || !r.skip(*size)) return Parse::kMalformed;
      }
    } else if (*id == kAdditionalStreamsInfo || *id == kMainStreamsInfo) {
      Streams s;
      if (const Parse p = read_streams(r, s, max_files); p != Parse::kOk) return p;
    } else if (*id == kFilesInfo) {
      const auto n = r.number();
      if (!n) return Parse::kMalformed;
      files = *n;
      return *n > max_files ? Parse::kTooManyFiles : Parse::kOk;
    } else {
      return Parse::kMalformed;
    }
  }
}

// Unpacks an encoded header's single LZMA or LZMA2 coder (what 7-Zip writes) into `out`, at most
// `size` bytes. False when the coder is another method or the data does not decode.
bool unpack_header(const Coder &coder, std::string_view packed, uint64_t size, std::string &out) {
  lzma_options_lzma opt{};
  lzma_filter filters[2] = {{LZMA_VLI_UNKNOWN, nullptr}, {LZMA_VLI_UNKNOWN, nullptr}};
  const lzma_vli id = coder.id == std::string_view("\x03\x01\x01", 3) ? LZMA_FILTER_LZMA1
                      : coder.id == std::string_view("\x21", 1)       ? LZMA_FILTER_LZMA2
                                                                      : LZMA_VLI_UNKNOWN;
  if (id == LZMA_VLI_UNKNOWN) return false;
  filters[0].id = id;
  if (lzma_properties_decode(&filters[0], nullptr,
                             reinterpret_cast<const uint8_t *>(coder.props.data()),
                             coder.props.size()) != LZMA_OK)
    return false;
  // A dictionary larger than all the output is never read: capped to it, so a declared 4 GiB
  // dictionary allocates nothing of the sort.
  auto *o = static_cast<lzma_options_lzma *>(filters[0].options);
  o->dict_size = static_cast<uint32_t>(std::clamp<uint64_t>(
      size, LZMA_DICT_SIZE_MIN, std::max<uint64_t>(o->dict_size, LZMA_DICT_SIZE_MIN)));
  opt = *o;
  free(o);
  filters[0].options = &opt;
  lzma_stream strm = LZMA_STREAM_INIT;
  if (lzma_raw_decoder(&strm, filters) != LZMA_OK) return false;
  out.assign(static_cast<size_t>(size), '\0');
  strm.next_in = reinterpret_cast<const uint8_t *>(packed.data());
  strm.avail_in = packed.size();
  strm.next_out = reinterpret_cast<uint8_t *>(out.data());
  strm.avail_out = out.size();
  lzma_ret rc = LZMA_OK;
  while (rc == LZMA_OK && strm.avail_out > 0 && strm.avail_in > 0) rc = lzma_code(&strm, LZMA_RUN);
  if (rc == LZMA_OK && strm.avail_out > 0) rc = lzma_code(&strm, LZMA_FINISH);
  const size_t got = out.size() - strm.avail_out;
  lzma_end(&strm);
  out.resize(got);
  return (rc == LZMA_OK || rc == LZMA_STREAM_END) && got == size;
}

DeclaredCheck check_at(std::string_view d, size_t at, const DeclaredLimits &lim) {
  DeclaredCheck res;
  auto fail = [&res](DeclaredCheck::Bound b, std::string detail) {
    res.bound = b;
    res.detail = std::move(detail);
    return res;
  };
  const uint64_t offset = load_le(d, at + 12, 8), size = load_le(d, at + 20, 8);
  const uint64_t base = at + kStartHeaderBytes;
  // A header that starts outside the data is a failed seek in libarchive (a split archive's first
  // volume looks like that): nothing is allocated for it.
  if (size == 0 || offset >= d.size() - base) return res;
  const uint64_t header_at = base + offset;
  if (size > d.size() - header_at) {
    return fail(DeclaredCheck::Bound::kPastData,
                "7z directory of " + std::to_string(size) +
                    " bytes lies beyond the data (a split volume or a truncated archive)");
  }
  std::string_view header = d.substr(static_cast<size_t>(header_at), size);
  std::string unpacked;
  if (static_cast<uint8_t>(header[0]) == kEncodedHeader) {
    Reader r(header.substr(1));
    Streams s;
    if (read_streams(r, s, lim.max_files) != Parse::kOk || s.folders.empty() ||
        s.pack_sizes.empty())
      return fail(DeclaredCheck::Bound::kCorrupt,
                  "7-Zip encoded header: its stream description cannot be read");
    for (const Folder &g : s.folders) {
      for (uint64_t out : g.sizes) {
        if (out > lim.max_header_bytes)
          return fail(DeclaredCheck::Bound::kFileBytes,
                      "7-Zip encoded header declares " + std::to_string(out) +
                          " bytes, more than max_file_bytes (" +
                          std::to_string(lim.max_header_bytes) + ")");
        if (out > lim.ratio_bytes)
          return fail(DeclaredCheck::Bound::kRatio,
                      "7-Zip encoded header declares " + std::to_string(out) +
                          " bytes, more than max_compression_ratio allows for its " +
                          std::to_string(d.size()) + " bytes");
      }
    }
    // An encrypted header (7z -mhe) is libarchive's to report: it stops before decoding it.
    for (const Folder &g : s.folders)
      for (const Coder &c : g.coders)
        if (c.id.starts_with(std::string_view("\x06\xf1", 2))) return res;
    // Its file count is inside: unpacked (within the bounds above) to read it.
    const Folder &f = s.folders[0];
    if (s.pack_pos > d.size() - base || s.pack_sizes[0] > d.size() - base - s.pack_pos)
      return fail(DeclaredCheck::Bound::kCorrupt,
                  "7-Zip encoded header: its packed bytes lie beyond the data");
    const std::string_view packed =
        d.substr(static_cast<size_t>(base + s.pack_pos), static_cast<size_t>(s.pack_sizes[0]));
    if (f.coders.size() != 1 || f.sizes.size() != 1)
      return fail(DeclaredCheck::Bound::kUnchecked,
                  "7-Zip header packed with " + std::to_string(f.coders.size()) +
                      " coders: avsink cannot read its file count");
    if (f.coders[0].id == std::string_view("\x00", 1)) {
      unpacked.assign(
          packed.substr(0, static_cast<size_t>(std::min<uint64_t>(f.sizes[0], packed.size()))));
    } else if (!unpack_header(f.coders[0], packed, f.sizes[0], unpacked)) {
      return fail(DeclaredCheck::Bound::kUnchecked,
                  "7-Zip header packed with a method avsink does not unpack (LZMA and LZMA2 "
                  "only), or damaged: its file count cannot be read");
    }
    header = unpacked;
    if (header.empty() || static_cast<uint8_t>(header[0]) != kHeader)
      return fail(DeclaredCheck::Bound::kCorrupt, "7-Zip encoded header: no header inside");
  } else if (static_cast<uint8_t>(header[0]) != kHeader) {
    return res;  // libarchive refuses it before reading further
  }
  Reader r(header.substr(1));
  uint64_t files = 0;
  switch (read_header(r, lim.max_files, files)) {
    case Parse::kOk:
      return res;
    case Parse::kTooManyFiles:
      return fail(DeclaredCheck::Bound::kFiles,
                  "7-Zip header declares more members than max_archive_files (" +
                      std::to_string(lim.max_files) + ")" +
                      (files > 0 ? ": " + std::to_string(files) : std::string()));
    case Parse::kMalformed:
    default:
      return fail(DeclaredCheck::Bound::kCorrupt, "7-Zip header cannot be read");
  }
}

// The test libarchive's SFX search applies to a signature it finds: the start header's CRC.
bool start_header_valid(std::string_view d, size_t at) {
  return d.size() - at >= kStartHeaderBytes &&
         ::crc32(0, reinterpret_cast<const Bytef *>(d.data() + at + 12), 20) ==
             load_le(d, at + 8, 4);
}

}  // namespace

DeclaredCheck check_sevenzip(std::string_view d, const DeclaredLimits &lim) {
  if (d.starts_with(kSignature)) {
    // Debian's libarchive (3.6.2) reads a start header at offset 0 whatever its CRC says.
    if (d.size() < kStartHeaderBytes) return {};
    return check_at(d, 0, lim);
  }
  if (!d.starts_with("MZ") && !d.starts_with("\x7f"
                                             "ELF"))
    return {};
  for (size_t p = d.find(kSignature, 1); p != std::string_view::npos;
       p = d.find(kSignature, p + 1)) {
    if (!start_header_valid(d, p)) continue;
    DeclaredCheck c = check_at(d, p, lim);
    if (!c.ok()) return c;
  }
  return {};
}

}  // namespace avsink::containers
