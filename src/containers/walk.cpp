// walk.cpp - the container walk: libarchive for archives, tnef.h for winmail.dat, one recursion.
// Reads from memory only (no temp files, no external programs); every bound hit is a Problem.
#include "containers/walk.h"

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include <locale.h>
#include <string.h>

#include <clocale>

#include <algorithm>
#include <cctype>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "containers/declared.h"
#include "containers/tnef.h"
#include "util/text.h"
#include "util/utf8.h"

namespace avsink::containers {
namespace {

struct ArchiveFree {
  void operator()(archive *a) const {
    if (a != nullptr) archive_read_free(a);
  }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

// Which archive formats a reader is offered. libarchive picks the highest bidder among those it
// is offered, and its seekable zip bidder outbids the others whenever a zip's end record sits in
// the tail - so a RAR or tar that stores a zip would be read as that zip and its own members
// never listed. A format named by the magic at offset 0 is therefore read alone, and a zip end
// record in another container is read as a second reading (what SFX-aware readers show).
// kZipLocal: libarchive's streaming zip reader, which follows local headers and never reads the
// central directory (one entry read from where its local header starts; see zip_orphans()).
enum class Formats {
  kAll,
  kZip,
  kZipLocal,
  kRar,
  kRar5,
  kSevenZip,
  kCab,
  kXar,
  kAr,
  kTar,
  kIso,
  kCpio,
  kLha,
  kArj,   // read by avsink alone (read_arj()); libarchive has no ARJ reader
  kNone,  // no archive format: with `raw`, a compressed stream's decompressed bytes
};

bool at(std::string_view d, size_t offset, std::string_view magic) {
  return d.size() >= offset + magic.size() && d.substr(offset, magic.size()) == magic;
}

Formats sniff(std::string_view d) {
  using namespace std::string_view_literals;
  if (at(d, 0, "Rar!\x1a\x07\x00"sv)) return Formats::kRar;
  if (at(d, 0, "Rar!\x1a\x07\x01\x00"sv)) return Formats::kRar5;
  if (at(d, 0, "7z\xbc\xaf\x27\x1c"sv)) return Formats::kSevenZip;
  if (at(d, 0, "PK\x03\x04"sv) || at(d, 0, "PK\x05\x06"sv) || at(d, 0, "PK\x07\x08"sv)) {
    return Formats::kZip;
  }
  if (at(d, 0, "MSCF\0\0\0\0"sv)) return Formats::kCab;
  if (at(d, 0, "xar!"sv)) return Formats::kXar;
  if (at(d, 0, "!<arch>\n"sv)) return Formats::kAr;
  if (at(d, 257, "ustar"sv)) return Formats::kTar;
  if (at(d, 32769, "CD001"sv)) return Formats::kIso;
  if (at(d, 0, "070701"sv) || at(d, 0, "070702"sv) || at(d, 0, "070707"sv) ||
      at(d, 0, "\xc7\x71"sv) || at(d, 0, "\x71\xc7"sv)) {
    return Formats::kCpio;
  }
  if (at(d, 2, "-lh"sv) || at(d, 2, "-lz"sv)) return Formats::kLha;
  // ARJ: the id, then a main header (file type 2) of a plausible size that fits the data.
  if (at(d, 0, "\x60\xea"sv) && d.size() >= 4 + 30 + 4) {
    const size_t size = static_cast<uint8_t>(d[2]) | static_cast<size_t>(static_cast<uint8_t>(d[3]))
                                                         << 8;
    if (size >= 30 && size <= 2600 && 4 + size + 4 <= d.size() &&
        static_cast<uint8_t>(d[4]) >= 30 && static_cast<uint8_t>(d[4]) <= size && d[10] == 2)
      return Formats::kArj;
  }
  return Formats::kAll;  // compressed streams, SFX stubs, old tar: let the bidders decide
}

// Where the last zip end-of-central-directory signature starts in the final 64 KiB + 22 bytes
// (the record's 22 bytes must fit after it), or npos. memrchr finds each candidate 'P', since
// this runs on every extracted member.
size_t zip_end_at(std::string_view d) {
  if (d.size() < 22) return std::string_view::npos;
  const size_t lowest = d.size() > 22 + 0xFFFF ? d.size() - 22 - 0xFFFF : 0;
  for (size_t end = d.size() - 22 + 1; end > lowest;) {  // candidates lie in [lowest, end)
    const void *p = memrchr(d.data() + lowest, 'P', end - lowest);
    if (p == nullptr) break;
    const size_t i = static_cast<size_t>(static_cast<const char *>(p) - d.data());
    if (d.compare(i, 4, std::string_view("PK\x05\x06", 4)) == 0) return i;
    end = i;
  }
  return std::string_view::npos;
}

bool has_zip_end(std::string_view d) {
  return zip_end_at(d) != std::string_view::npos;
}

// The file name a gzip stream's own header stores (FNAME, ISO 8859-1, as UTF-8), or "" when it has
// none. gunzip -N and 7-Zip extract a lone .gz under that name, whatever the attachment is called.
std::string gzip_name(std::string_view d) {
  if (d.size() < 10 || d.substr(0, 3) != std::string_view("\x1f\x8b\x08", 3)) return {};
  const auto flags = static_cast<uint8_t>(d[3]);
  size_t pos = 10;
  if ((flags & 0x04) != 0) {  // FEXTRA: a length, then that many bytes
    if (pos + 2 > d.size()) return {};
    pos += 2 + load_le(d, pos, 2);
  }
  if ((flags & 0x08) == 0 || pos >= d.size()) return {};
  const size_t end = d.find('\0', pos);
  if (end == std::string_view::npos) return {};
  return util::latin1_to_utf8(d.substr(pos, end - pos));
}

// The names in Info-ZIP Unicode Path extra fields (0x7075) of a zip's central directory, at most
// `max` of them. Info-ZIP unzip and 7-Zip name a member by this field; libarchive reads it in
// local headers only, so a name given in the directory alone went unjudged. Best effort: the
// directory of the last end record, at its declared offset or right before the end record.
std::vector<std::string> zip_directory_unicode_names(std::string_view d, size_t max) {
  std::vector<std::string> out;
  const size_t end = zip_end_at(d);
  if (end == std::string_view::npos) return out;
  const uint64_t dir_size = load_le(d, end + 12, 4), dir_at = load_le(d, end + 16, 4);
  size_t pos = dir_at;
  if (pos + 4 > d.size() || d.compare(pos, 4, std::string_view("PK\x01\x02", 4)) != 0)
    pos = dir_size <= end ? end - dir_size : d.size();
  while (pos + 46 <= end && out.size() < max &&
         d.compare(pos, 4, std::string_view("PK\x01\x02", 4)) == 0) {
    const size_t name_len = load_le(d, pos + 28, 2), extra_len = load_le(d, pos + 30, 2),
                 comment_len = load_le(d, pos + 32, 2);
    size_t x = pos + 46 + name_len;
    const size_t extra_end = std::min(x + extra_len, d.size());
    while (x + 4 <= extra_end) {
      const size_t id = load_le(d, x, 2), len = load_le(d, x + 2, 2);
      if (x + 4 + len > extra_end) break;
      if (id == 0x7075 && len > 5) out.emplace_back(d.substr(x + 9, len - 5));
      x += 4 + len;
    }
    pos += 46 + name_len + extra_len + comment_len;
  }
  return out;
}

// A member a zip reading listed: its name, size and the CRC-32 of its bytes (when extracted).
struct ZipListed {
  std::string name;
  uint64_t size = 0;
  bool has_crc = false;
  uint32_t crc = 0;
};

// A zip local file header found in the bytes: where it starts and what it declares.
struct ZipLocal {
  size_t offset = 0;
  std::string_view name;
  bool sized = false;  // CRC and size are in the header (no data descriptor, no zip64 marker)
  uint32_t crc = 0;
  uint64_t size = 0;
};

// Every local file header in `d`, in order. A header's declared data is skipped when its size is
// known (a stored zip inside is content, as streaming readers see it); otherwise the search goes
// on after the header. At most `max` headers.
std::vector<ZipLocal> zip_locals(std::string_view d, size_t max) {
  std::vector<ZipLocal> out;
  static constexpr std::string_view kSig("PK\x03\x04", 4);
  for (size_t pos = d.find(kSig); pos != std::string_view::npos && out.size() < max;) {
    if (pos + 30 > d.size()) break;
    const uint32_t flags = static_cast<uint32_t>(load_le(d, pos + 6, 2));
    const uint64_t csize = load_le(d, pos + 18, 4), usize = load_le(d, pos + 22, 4);
    const size_t nlen = load_le(d, pos + 26, 2), xlen = load_le(d, pos + 28, 2);
    const size_t data_at = pos + 30 + nlen + xlen;
    // A compression method some reader knows (APPNOTE 4.4.5); otherwise the signature is taken
    // for chance bytes (as inside a deflated member whose size only a data descriptor states).
    // So is a header cut short, which no reader could take; the search goes on behind either.
    static constexpr uint16_t kMethods[] = {0,  1,  2,  3,  4,  5,  6,  8,  9,  10, 12, 14,
                                            16, 18, 19, 20, 93, 94, 95, 96, 97, 98, 99};
    const auto method = static_cast<uint16_t>(load_le(d, pos + 8, 2));
    if (data_at > d.size() ||
        std::find(std::begin(kMethods), std::end(kMethods), method) == std::end(kMethods)) {
      pos = d.find(kSig, pos + 4);
      continue;
    }
    ZipLocal e;
    e.offset = pos;
    e.name = d.substr(pos + 30, nlen);
    e.sized = (flags & 0x0008) == 0 && csize != 0xFFFFFFFF && usize != 0xFFFFFFFF;
    e.crc = static_cast<uint32_t>(load_le(d, pos + 14, 4));
    e.size = usize;
    out.push_back(e);
    const size_t next = e.sized && csize <= d.size() - data_at ? data_at + csize : data_at;
    pos = d.find(kSig, std::max(next, pos + 4));
  }
  return out;
}

// False when a cpio "newc" header libarchive would read names a file-name, symlink-target or file
// size beyond the data, or has a field that is not hex: libarchive would first allocate a
// read-ahead buffer of that size (up to 4 GiB; found by fuzz_containers). The headers it reads are
// those on the chain (each member's header, name and data, 4-byte aligned) up to TRAILER!!!; a
// magic inside a member's data on that chain is content, not a header. Where the chain breaks
// (no magic where the next header belongs), libarchive resynchronises on the next magic, so from
// there every magic counts (a header one byte off the chain asked for a 2.5 GB name).
bool cpio_names_fit(std::string_view d) {
  auto hex = [&d](size_t at, uint64_t &v) {
    v = 0;
    for (size_t i = 0; i < 8; ++i) {
      const char c = d[at + i];
      const int x = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (x < 0) return false;
      v = v << 4 | static_cast<uint64_t>(x);
    }
    return true;
  };
  auto magic_at = [&d](size_t pos) { return at(d, pos, "070701") || at(d, pos, "070702"); };
  // One header at `pos`: fits, and where the next one belongs (0 when it claims the rest).
  auto header_fits = [&](size_t pos, uint64_t *next, bool *trailer) {
    if (pos + 110 > d.size()) return false;  // a header cut short
    uint64_t name_size = 0, file_size = 0, any = 0;
    for (size_t f = 6; f < 110; f += 8)  // all 13 fields: a non-hex one shifts libarchive's reading
      if (!hex(pos + f, any)) return false;
    hex(pos + 94, name_size);
    hex(pos + 54, file_size);
    const uint64_t rest = d.size() - pos - 110;
    if (name_size > rest) return false;
    // A symlink's target is read ahead whole, like a name; a member longer than the data may be.
    if (file_size > rest) return false;
    // libarchive stops only at a name of exactly "TRAILER!!!" and its NUL (11 bytes): one
    // without the NUL is an ordinary member, and reading goes on (found by fuzz_containers).
    *trailer = name_size == 11 && d.substr(pos + 110, 11) == std::string_view("TRAILER!!!\0", 11);
    const uint64_t data_at = (pos + 110 + name_size + 3) & ~uint64_t(3);
    *next = (data_at + file_size + 3) & ~uint64_t(3);
    return true;
  };
  size_t pos = 0;
  while (pos < d.size() && magic_at(pos)) {  // the chain
    uint64_t next = 0;
    bool trailer = false;
    if (!header_fits(pos, &next, &trailer)) return false;
    if (trailer || next >= d.size()) return true;  // libarchive stops at the trailer
    pos = static_cast<size_t>(next);
  }
  // The chain broke at `pos`: libarchive takes the next magic it finds, wherever it is.
  for (size_t p = d.find("07070", pos); p != std::string_view::npos; p = d.find("07070", p + 1)) {
    if (!magic_at(p)) continue;
    uint64_t next = 0;
    bool trailer = false;
    if (!header_fits(p, &next, &trailer)) return false;
  }
  return true;
}

// A reader for `data` offered `formats` and only in-library filters (no external program is
// ever started). `raw` adds the format that reads a lone compressed stream. `rc` is the result of
// opening (for memory input libarchive already picks the format there).
ArchivePtr open_reader(std::string_view data, Formats formats, bool raw, int &rc) {
  rc = ARCHIVE_FATAL;
  ArchivePtr a(archive_read_new());
  if (!a) return a;
  archive *p = a.get();
  archive_read_support_filter_gzip(p);
  archive_read_support_filter_bzip2(p);
  archive_read_support_filter_xz(p);
  archive_read_support_filter_lzma(p);
  archive_read_support_filter_lzip(p);
  archive_read_support_filter_zstd(p);
  archive_read_support_filter_lz4(p);
  archive_read_support_filter_compress(p);
  const bool all = formats == Formats::kAll;
  if (all || formats == Formats::kZip) archive_read_support_format_zip(p);
  if (formats == Formats::kZipLocal) archive_read_support_format_zip_streamable(p);
  if (all || formats == Formats::kSevenZip) archive_read_support_format_7zip(p);
  if (all || formats == Formats::kRar) archive_read_support_format_rar(p);
  if (all || formats == Formats::kRar5) archive_read_support_format_rar5(p);
  if (all || formats == Formats::kTar) archive_read_support_format_tar(p);
  if (all || formats == Formats::kCpio) archive_read_support_format_cpio(p);
  if (all || formats == Formats::kIso) archive_read_support_format_iso9660(p);
  if (all || formats == Formats::kCab) archive_read_support_format_cab(p);
  if (all || formats == Formats::kLha) archive_read_support_format_lha(p);
  if (all || formats == Formats::kXar) archive_read_support_format_xar(p);
  if (all || formats == Formats::kAr) archive_read_support_format_ar(p);
  if (raw) archive_read_support_format_raw(p);
  rc = archive_read_open_memory(p, data.data(), data.size());
  return a;
}

// Starts like a stream of one of the compressions open_reader() decompresses.
bool compressed(std::string_view d) {
  using namespace std::string_view_literals;
  return at(d, 0, "\x1f\x8b"sv) || at(d, 0, "\x1f\x9d"sv) || at(d, 0, "BZh"sv) ||
         at(d, 0,
            "\xfd"
            "7zXZ\x00"sv) ||
         at(d, 0, "\x5d\x00\x00"sv) || at(d, 0, "LZIP"sv) || at(d, 0, "\x28\xb5\x2f\xfd"sv) ||
         at(d, 0, "\x04\x22\x4d\x18"sv);
}

// ---- ARJ: names and flags from the local headers (libarchive has no ARJ reader) ----

struct ArjEntry {
  std::string name;
  bool garbled = false;  // "garbled" with a password (arj -g): its data is encrypted
  uint8_t method = 0;    // 0 = stored
  std::string_view data;
};

// The files of an ARJ archive (the main header first, then a local header per file: 0x60 0xEA,
// a basic header of at most 2600 bytes, its CRC, extended headers, the file's data), at most
// `max`. `complete` is false when the headers stop before the end-of-archive header.
std::vector<ArjEntry> read_arj(std::string_view d, size_t max, bool &complete) {
  std::vector<ArjEntry> out;
  complete = false;
  bool main_header = true;
  for (size_t pos = 0; out.size() < max;) {
    if (pos + 4 > d.size() || d[pos] != '\x60' || d[pos + 1] != '\xea') return out;
    const size_t size = load_le(d, pos + 2, 2);
    if (size == 0) {
      complete = true;
      return out;
    }
    if (size < 30 || size > 2600 || pos + 4 + size + 4 > d.size()) return out;
    const std::string_view h = d.substr(pos + 4, size);
    pos += 4 + size + 4;
    while (pos + 2 <= d.size()) {  // extended headers: a size, the header and its CRC; 0 ends
      const size_t ext = load_le(d, pos, 2);
      pos += 2;
      if (ext == 0) break;
      pos = std::min(d.size(), pos + ext + 4);
    }
    const size_t first = static_cast<uint8_t>(h[0]);
    if (main_header) {
      main_header = false;
      continue;
    }
    ArjEntry e;
    if (first < h.size()) {
      const std::string_view rest = h.substr(first);
      e.name = std::string(rest.substr(0, std::min(rest.find('\0'), rest.size())));
    }
    e.garbled = (h[4] & 0x01) != 0;
    e.method = static_cast<uint8_t>(h[5]);
    const uint64_t csize = load_le(h, 12, 4);
    if (csize > d.size() - pos) return out;
    e.data = d.substr(pos, static_cast<size_t>(csize));
    pos += static_cast<size_t>(csize);
    out.push_back(std::move(e));
  }
  return out;
}

// ---- tar headers as GNU tar and Python's tarfile read them ----

// One entry of a tar read header by header: every name a reader could give it and its data.
struct TarEntry {
  std::vector<std::string> names;  // the header's (ustar prefix joined), then GNU longname (L),
                                   // pax path (x), pax global path (g): those present, unique
  uint64_t size = 0;
  std::string_view data;  // the entry's data (short when the archive is)
  bool has_data = false;  // GNU tar and tarfile extract it as a file (any type but 1-6 and S)
};

// A 512-byte header whose checksum (bytes 148-155 counted as spaces) holds.
bool tar_checksum_ok(std::string_view b) {
  if (b.size() < 512) return false;
  uint64_t sum = 0, want = 0;
  for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<uint8_t>(b[i]);
  bool digits = false;
  for (size_t i = 148; i < 156; ++i) {
    const char c = b[i];
    if (c >= '0' && c <= '7') {
      want = want * 8 + static_cast<uint64_t>(c - '0');
      digits = true;
    } else if (digits || (c != ' ' && c != '\0')) {
      break;
    }
  }
  return digits && sum == want;
}

// A numeric header field: octal digits (leading spaces allowed), or GNU base-256 (high bit set).
uint64_t tar_number(std::string_view f) {
  uint64_t v = 0;
  if (!f.empty() && (static_cast<uint8_t>(f[0]) & 0x80) != 0) {
    for (size_t i = 0; i < f.size(); ++i)
      v = v << 8 | static_cast<uint8_t>(i == 0 ? (f[0] & 0x7f) : f[i]);
    return v;
  }
  size_t i = 0;
  while (i < f.size() && f[i] == ' ') ++i;
  for (; i < f.size() && f[i] >= '0' && f[i] <= '7'; ++i)
    v = v * 8 + static_cast<uint64_t>(f[i] - '0');
  return v;
}

std::string tar_cstr(std::string_view f) {
  return std::string(f.substr(0, std::min(f.find('\0'), f.size())));
}

// The "path" value of pax records ("LEN key=value\n" ...), or "".
std::string pax_path(std::string_view r) {
  std::string path;
  for (size_t pos = 0; pos < r.size();) {
    size_t len = 0, i = pos;
    while (i < r.size() && r[i] >= '0' && r[i] <= '9' && len < r.size())
      len = len * 10 + (r[i++] - '0');
    if (len == 0 || i >= r.size() || r[i] != ' ' || pos + len > r.size()) break;
    std::string_view rec = r.substr(i + 1, pos + len - i - 1);
    if (!rec.empty() && rec.back() == '\n') rec.remove_suffix(1);
    if (rec.rfind("path=", 0) == 0) path = std::string(rec.substr(5));
    pos += len;
  }
  return path;
}

// The entries of `tar` read header by header (at most `max`), until a zero block, a header whose
// checksum fails, or the end. Linear; nothing is copied but names.
std::vector<TarEntry> read_tar_headers(std::string_view tar, size_t max) {
  std::vector<TarEntry> out;
  std::string longname, pax, global;
  for (size_t pos = 0; pos + 512 <= tar.size() && out.size() < max;) {
    const std::string_view b = tar.substr(pos, 512);
    if (!tar_checksum_ok(b)) break;
    const uint64_t size = tar_number(b.substr(124, 12));
    const char type = b[156];
    const size_t data_at = pos + 512;
    const std::string_view data =
        tar.substr(data_at, static_cast<size_t>(std::min<uint64_t>(size, tar.size() - data_at)));
    const uint64_t padded = (size + 511) / 512 * 512;
    pos = padded > tar.size() - data_at ? tar.size() : data_at + static_cast<size_t>(padded);
    if (type == 'L') {
      longname = tar_cstr(data);
      continue;
    }
    if (type == 'K') continue;
    if (type == 'x' || type == 'X') {
      pax = pax_path(data);
      continue;
    }
    if (type == 'g') {
      if (std::string p = pax_path(data); !p.empty()) global = p;
      continue;
    }
    TarEntry e;
    std::string name = tar_cstr(b.substr(0, 100));
    const std::string prefix = tar_cstr(b.substr(345, 155));
    if (b.substr(257, 6) == std::string_view("ustar\0", 6) && !prefix.empty())
      name = prefix + "/" + name;
    // A writer puts the start of a long name in the header field: that cut is no reader's name.
    for (const std::string *longer : {&longname, &pax})
      if (!longer->empty() && longer->size() > name.size() && longer->rfind(name, 0) == 0)
        name.clear();
    for (const std::string *n : {&name, &longname, &pax, &global})
      if (!n->empty() && std::find(e.names.begin(), e.names.end(), *n) == e.names.end())
        e.names.push_back(*n);
    longname.clear();
    pax.clear();
    if (type == '5') continue;  // a directory: no file of its own
    e.size = size;
    e.data = data;
    e.has_data = std::string_view("123456S").find(type) == std::string_view::npos;
    if (!e.names.empty()) out.push_back(std::move(e));
  }
  return out;
}

std::string error_text(archive *a) {
  const char *s = archive_error_string(a);
  return s != nullptr && *s != '\0' ? s : "unknown libarchive error";
}

// libarchive states its reasons only in words; these are the words its readers use.
Reason classify(const std::string &message) {
  const std::string m = util::ascii_lower(message);
  const bool encrypted = m.find("encrypt") != std::string::npos ||
                         m.find("passphrase") != std::string::npos ||
                         m.find("password") != std::string::npos;
  if (encrypted)
    return m.find("header") != std::string::npos ? Reason::kEncryptedHeaders : Reason::kEncrypted;
  if (m.find("volume") != std::string::npos) return Reason::kMultiVolume;
  // 7z: "Unknown codec ID: 40109" (Deflate64), "Unexpected codec ID" (a filter it lacks).
  if (m.find("unsupported") != std::string::npos || m.find("not supported") != std::string::npos ||
      m.find("compression method") != std::string::npos ||
      m.find("codec id") != std::string::npos) {
    return Reason::kUnsupportedMethod;
  }
  return Reason::kCorrupt;
}

uint32_t le16(std::string_view d, size_t at) {
  return static_cast<uint32_t>(load_le(d, at, 2));
}
uint64_t le64(std::string_view d, size_t at) {
  return load_le(d, at, 8);
}

// RAR 5 variable-length integer; false when it runs past the end.
bool vint(std::string_view d, size_t &pos, uint64_t &v) {
  v = 0;
  for (int shift = 0; shift < 64 && pos < d.size(); shift += 7) {
    const auto b = static_cast<uint8_t>(d[pos++]);
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Why `data` is one volume of a split archive, or "" when its own headers do not say so. Read
// here because libarchive reports a lone volume only as truncated data, if at all.
std::string volume_reason(std::string_view d) {
  if (d.size() >= 13 && d.substr(0, 7) == std::string_view("Rar!\x1a\x07\x00", 7)) {
    // RAR 4 main header: CRC16, type 0x73, flags (0x0001 = MHD_VOLUME).
    if (static_cast<uint8_t>(d[9]) == 0x73 && (le16(d, 10) & 0x0001) != 0) {
      return "RAR 4 volume flag set in the main header";
    }
  }
  if (d.size() >= 12 && d.substr(0, 8) == std::string_view("Rar!\x1a\x07\x01\x00", 8)) {
    // RAR 5: CRC32, size, type 1 (main), header flags, [extra size], [data size], archive flags.
    size_t pos = 12;
    uint64_t size = 0, type = 0, hflags = 0, skip = 0, aflags = 0;
    if (vint(d, pos, size) && vint(d, pos, type) && type == 1 && vint(d, pos, hflags) &&
        ((hflags & 1) == 0 || vint(d, pos, skip)) && ((hflags & 2) == 0 || vint(d, pos, skip)) &&
        vint(d, pos, aflags) && (aflags & 1) != 0) {
      return "RAR 5 volume flag set in the main header";
    }
  }
  if (d.size() >= 32 && d.substr(0, 6) == std::string_view("7z\xbc\xaf\x27\x1c", 6)) {
    const uint64_t offset = le64(d, 12), size = le64(d, 20);
    if (offset > d.size() || size > d.size() || 32 + offset + size > d.size()) {
      return "7z directory lies beyond the data (a split volume or a truncated archive)";
    }
  }
  if (d.size() >= 4 && d.substr(0, 4) == std::string_view("PK\x07\x08", 4)) {
    return "zip split-archive marker at the start";
  }
  // Zip end-of-central-directory record naming another disk.
  if (const size_t i = zip_end_at(d); i != std::string_view::npos) {
    if (le16(d, i + 4) != 0 || le16(d, i + 6) != 0) return "zip end record names disk > 0";
  }
  return {};
}

constexpr size_t kMaxProblems = 32;

class Walker {
 public:
  Walker(const Limits &limits, const Deadline &deadline, const Visitor &visit, WalkResult &res)
      : limits_(limits), deadline_(deadline), visit_(visit), res_(res) {}

  // Lists `data` (its members at depth `depth`) if it is a container. True when it was one.
  bool walk_item(std::string_view data, const std::string &path, uint32_t depth) {
    if (stopped_) return false;
    if (is_tnef(data)) {
      if (depth == 1) res_.format = "TNEF";
      if (!depth_ok(path, depth)) return true;
      walk_tnef(data, path, depth);
      return true;
    }
    return walk_archive(data, path, depth);
  }

 private:
  // Records one Problem. A limit is reported once per walk (its first place); other reasons once
  // per path, and at most kMaxProblems in all (more are counted in problems_more: the walk is
  // unscannable either way, and ten thousand identical findings help nobody).
  void problem(Reason r, const std::string &path, std::string detail, bool unscannable = true) {
    const bool limit = r == Reason::kFiles || r == Reason::kRecursion ||
                       r == Reason::kDecodedBytes || r == Reason::kRatio || r == Reason::kScanTime;
    for (const auto &p : res_.problems) {
      if (p.reason == r && (limit || p.path == path)) return;
    }
    if (res_.problems.size() >= kMaxProblems) {
      ++res_.problems_more;
      return;
    }
    res_.problems.push_back({r, path, std::move(detail), unscannable});
  }

  bool depth_ok(const std::string &path, uint32_t depth) {
    if (depth < limits_.max_archive_recursion) return true;
    problem(Reason::kRecursion, path,
            "container nested " + std::to_string(depth) +
                " levels deep; max_archive_recursion is " +
                std::to_string(limits_.max_archive_recursion) + ": its members were not listed");
    return false;
  }

  // Counts one listed member; false (and a Problem) once past max_archive_files.
  bool count_member(const std::string &path) {
    if (res_.members >= limits_.max_archive_files) {
      problem(Reason::kFiles, "",
              "more than max_archive_files (" + std::to_string(limits_.max_archive_files) +
                  ") members; listing stopped at " + path);
      stopped_ = true;
      return false;
    }
    ++res_.members;
    return true;
  }

  bool deadline_passed(const std::string &path) {
    if (!deadline_.expired()) return false;
    problem(Reason::kScanTime, path, "the scan deadline passed while listing containers");
    stopped_ = true;
    return true;
  }

  static std::string join(const std::string &parent, const std::string &name) {
    if (name.empty()) return parent;
    return parent.empty() ? name : parent + "/" + name;
  }

  // Visits a member, then walks it when it was extracted (containers in containers).
  void visit_and_recurse(Member &m) {
    visit_(m);
    if (m.extracted && !m.data.empty() && !stopped_) walk_item(m.data, m.path, m.depth + 1);
  }

  // A member named `name` in the container at `path`, counted (count_member()): false, with the
  // Problem recorded, once past max_archive_files.
  bool new_member(Member &m, const std::string &name, const std::string &path, const char *format,
                  uint32_t depth) {
    m.name = name;
    m.path = join(path, name);
    m.format = format;
    m.depth = depth;
    return count_member(m.path);
  }

  // Visits `m` with `bytes` as its data when the walk's byte budget takes them (take_bytes()
  // records the Problem when not), else by its name alone.
  void visit_with(Member &m, std::string_view bytes) {
    if (take_bytes(bytes.size(), m.path)) {
      m.extracted = true;
      m.data = bytes;
      visit_and_recurse(m);
    } else {
      visit_(m);
    }
  }

  // Per-container output budget: false (and a Problem) once past the compression ratio.
  bool ratio_ok(uint64_t out, size_t container_bytes, const std::string &container,
                const std::string &member) {
    if (out <= kRatioFloorBytes) return true;
    const uint64_t allowed = static_cast<uint64_t>(container_bytes) * limits_.max_compression_ratio;
    if (out <= allowed) return true;
    problem(Reason::kRatio, container,
            "yields more than max_compression_ratio (" +
                std::to_string(limits_.max_compression_ratio) + ") x its " +
                std::to_string(container_bytes) + " bytes; extraction stopped at " + member);
    return false;
  }

  void walk_tnef(std::string_view data, const std::string &path, uint32_t depth) {
    TnefStream t = read_tnef(data);
    if (!t.error.empty()) problem(Reason::kCorrupt, path, "TNEF: " + t.error);
    uint64_t out = 0;
    bool ratio_hit = false;
    for (const TnefAttachment &a : t.attachments) {
      if (stopped_ || deadline_passed(path)) return;
      for (size_t i = 0; i < std::max<size_t>(a.names.size(), 1); ++i) {
        const std::string name = a.names.empty() ? std::string() : a.names[i];
        Member m;
        if (!new_member(m, name, path, "TNEF", depth)) return;
        if (i > 0 || !a.has_data) {  // another name of the same bytes: listed only
          visit_(m);
          continue;
        }
        m.size = a.data.size();
        out += a.data.size();
        if (!ratio_hit && !ratio_ok(out, data.size(), path, m.path)) ratio_hit = true;
        if (!ratio_hit && take_bytes(a.data.size(), m.path)) {
          m.extracted = true;
          m.data = a.data;
        }
        visit_and_recurse(m);
      }
    }
  }

  // Accounts for `n` extracted bytes of one member; false (and a Problem) past a byte limit.
  bool take_bytes(uint64_t n, const std::string &member) {
    if (n > limits_.max_file_bytes) {
      problem(Reason::kFileBytes, member,
              "member of " + std::to_string(n) + " bytes is larger than max_file_bytes (" +
                  std::to_string(limits_.max_file_bytes) + ")");
      return false;
    }
    if (res_.bytes + n > limits_.max_decoded_bytes) {
      problem(Reason::kDecodedBytes, "",
              "members extracted past max_decoded_bytes (" +
                  std::to_string(limits_.max_decoded_bytes) + "); first left out: " + member);
      return false;
    }
    res_.bytes += n;
    return true;
  }

  // An ARJ archive: every member's name is judged, a stored member's bytes read, a garbled
  // (password) member is Container.Encrypted. Compressed members' bytes are libclamav's (its
  // ARJ unpacker walks the part).
  bool walk_arj(std::string_view data, const std::string &path, uint32_t depth) {
    if (depth == 1 && res_.format.empty()) res_.format = "ARJ";
    if (!depth_ok(path, depth)) return true;
    bool complete = false;
    const std::vector<ArjEntry> entries = read_arj(data, limits_.max_archive_files + 1, complete);
    if (!complete && entries.size() <= limits_.max_archive_files)
      problem(Reason::kCorrupt, path, "ARJ: the headers end before the end-of-archive header");
    for (const ArjEntry &e : entries) {
      if (stopped_ || deadline_passed(path)) return true;
      Member m;
      if (!new_member(m, e.name, path, "ARJ", depth)) return true;
      m.size = e.data.size();
      if (e.garbled) problem(Reason::kEncrypted, m.path, "ARJ: member data is garbled (password)");
      if (!e.garbled && e.method == 0) {
        visit_with(m, e.data);
      } else {
        visit_(m);
      }
    }
    return true;
  }

  bool walk_archive(std::string_view data, const std::string &path, uint32_t depth) {
    const Formats formats = sniff(data);
    if (formats == Formats::kArj) return walk_arj(data, path, depth);
    if (formats == Formats::kCpio && !cpio_names_fit(data)) {
      if (depth == 1 && res_.format.empty()) res_.format = "cpio";
      problem(Reason::kCorrupt, path, "cpio: a member's name size lies beyond the data");
      return true;
    }
    // What the archive declares about itself, checked before libarchive allocates for it.
    DeclaredLimits lim;
    lim.max_header_bytes = limits_.max_file_bytes;
    lim.ratio_bytes = std::max<uint64_t>(
        kRatioFloorBytes, static_cast<uint64_t>(data.size()) * limits_.max_compression_ratio);
    lim.max_files = limits_.max_archive_files;
    DeclaredCheck c;
    const char *name = "";
    if (formats == Formats::kSevenZip || formats == Formats::kAll) {  // kAll: self-extractors
      c = check_sevenzip(data, lim);
      name = "7-Zip";
    }
    if (c.ok() && (formats == Formats::kXar || formats == Formats::kAll)) {
      c = check_xar(data, lim);
      name = "xar";
    }
    if (c.ok() && formats == Formats::kIso) {
      c = check_iso(data, lim);
      name = "ISO 9660";
    }
    if (!c.ok()) {
      if (depth == 1 && res_.format.empty()) res_.format = name;
      using B = DeclaredCheck::Bound;
      const Reason why = c.bound == B::kFileBytes   ? Reason::kFileBytes
                         : c.bound == B::kRatio     ? Reason::kRatio
                         : c.bound == B::kFiles     ? Reason::kFiles
                         : c.bound == B::kPastData  ? Reason::kMultiVolume
                         : c.bound == B::kUnchecked ? Reason::kUnsupportedMethod
                                                    : Reason::kCorrupt;
      problem(why, path, c.detail);
      return true;
    }
    int format = 0;
    std::vector<ZipListed> zip_listed;
    bool listed = list_archive(data, formats, path, depth, format, &zip_listed);
    bool zip_read = format == ARCHIVE_FORMAT_ZIP;
    // A zip end record inside another container: the zip reading too (SFX, polyglots).
    if (!stopped_ && format != ARCHIVE_FORMAT_ZIP && has_zip_end(data)) {
      listed |= list_archive(data, Formats::kZip, path, depth, format, &zip_listed);
      zip_read |= format == ARCHIVE_FORMAT_ZIP;
    }
    // (Also when the bytes look like a tar, or are compressed, and libarchive could not read
    // them: a tar whose first header is a volume header is "damaged" to it, and not to GNU tar.)
    if (!stopped_ && (format == ARCHIVE_FORMAT_TAR || formats == Formats::kTar ||
                      (format == 0 && compressed(data))))
      listed |= tar_headers(data, path, depth, zip_listed);
    if (!stopped_ && (zip_read || formats == Formats::kZip)) {
      listed |= zip_orphans(data, path, depth, zip_listed);
      // A name only the directory's Unicode Path field gives: judged by its name.
      std::unordered_set<std::string_view> known;
      for (const ZipListed &z : zip_listed) known.insert(z.name);
      for (const std::string &name : zip_directory_unicode_names(data, limits_.max_archive_files)) {
        if (known.count(name) > 0 || stopped_) continue;
        Member m;
        if (!new_member(m, name, path, "ZIP (Unicode Path field)", depth)) break;
        visit_(m);
        listed = true;
      }
    }
    return listed;
  }

  // The zip reading above follows the central directory of the last end record, as most readers
  // do. Streaming readers follow the local headers instead, and the two can disagree: a second
  // end record (appended, or in the comment), zips concatenated, an entry the directory leaves
  // out, names or sizes otherwise, a second entry of the same name. A local header is accounted
  // for when exactly one header matches a listed member (same name, and same size and CRC-32
  // when the header declares them): the member's bytes are then those the directory led to. Every
  // other local header is read on its own, from where it starts, by libarchive's streaming
  // reader: one no member matches, and all of those that match the same member (which of them
  // the directory points at is not known here, and a declared CRC is the sender's word). Each
  // read is judged and scanned like any member. An ordinary zip has none to read, and costs one
  // search for the header signature.
  bool zip_orphans(std::string_view data, const std::string &path, uint32_t depth,
                   const std::vector<ZipListed> &listed) {
    std::unordered_multimap<std::string_view, size_t> by_name;
    for (size_t k = 0; k < listed.size(); ++k) by_name.emplace(listed[k].name, k);
    struct Local {
      size_t offset;
      std::vector<size_t> matches;  // listed members it matches
    };
    std::vector<Local> locals;
    std::vector<uint32_t> hits(listed.size(), 0);  // local headers matching each member
    for (const ZipLocal &l : zip_locals(data, size_t(limits_.max_archive_files) + 1)) {
      // A folder: no reader extracts bytes for it. libarchive writes '\\' in names as '/'.
      std::string name(l.name);
      std::replace(name.begin(), name.end(), '\\', '/');
      if (!name.empty() && name.back() == '/') continue;
      Local local{l.offset, {}};
      auto [it, end] = by_name.equal_range(name);
      for (; it != end; ++it) {
        const ZipListed &z = listed[it->second];
        if (l.sized && (z.size != l.size || (z.has_crc && z.crc != l.crc))) continue;
        local.matches.push_back(it->second);
        ++hits[it->second];
      }
      locals.push_back(std::move(local));
    }
    bool any = false;
    for (const Local &l : locals) {
      if (stopped_ || deadline_passed(path)) return true;
      const bool accounted = std::any_of(l.matches.begin(), l.matches.end(),
                                         [&hits](size_t k) { return hits[k] == 1; });
      if (accounted) continue;
      int code = 0;
      any |= list_archive(data.substr(l.offset), Formats::kZipLocal, path, depth, code, nullptr, 1);
    }
    return any;
  }

  // The second reading of a tar: its headers read as GNU tar and Python's tarfile read them
  // (read_tar_headers()), for what libarchive's reading does not list: an entry of a type
  // libarchive takes for metadata or skips (a Solaris ACL "A", a volume header "V") but those
  // extract as a file, and the names a GNU longname, a pax path or a pax global path give an
  // entry when libarchive settled on another. An entry libarchive listed under none of its
  // names (same size) is read from here, data and all; a name of a listed entry that libarchive
  // did not use is judged as a name. A compressed tar is decompressed once more for this (up to
  // the bounds libarchive's reading of it already reported).
  bool tar_headers(std::string_view data, const std::string &path, uint32_t depth,
                   const std::vector<ZipListed> &listed) {
    std::string stream;
    std::string_view tar = data;
    if (!tar_checksum_ok(data.substr(0, std::min<size_t>(512, data.size())))) {
      int rc = ARCHIVE_FATAL;
      ArchivePtr a = open_reader(data, Formats::kNone, true, rc);
      archive_entry *entry = nullptr;
      if (!a || (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) ||
          archive_read_next_header(a.get(), &entry) != ARCHIVE_OK)
        return false;
      const uint64_t bound = std::min<uint64_t>(
          limits_.max_file_bytes,
          std::max<uint64_t>(kRatioFloorBytes,
                             static_cast<uint64_t>(data.size()) * limits_.max_compression_ratio));
      char buf[64 * 1024];
      for (la_ssize_t n; (n = archive_read_data(a.get(), buf, sizeof buf)) > 0;) {
        if (stream.size() + static_cast<uint64_t>(n) > bound) break;
        stream.append(buf, static_cast<size_t>(n));
      }
      tar = stream;
    }
    bool any = false;
    std::unordered_multimap<std::string_view, uint64_t> sizes;  // what libarchive listed
    for (const ZipListed &l : listed) sizes.emplace(l.name, l.size);
    for (const TarEntry &e : read_tar_headers(tar, limits_.max_archive_files)) {
      if (stopped_ || deadline_passed(path)) return true;
      bool read_here = e.has_data;
      for (const std::string &n : e.names) {
        const auto [from, to] = sizes.equal_range(n);
        read_here &= std::none_of(from, to, [&e](const auto &l) { return l.second == e.size; });
      }
      bool data_given = false;
      for (const std::string &name : e.names) {
        if (!read_here && sizes.count(name) > 0) continue;
        Member m;
        if (!new_member(m, name, path, "tar (header by header)", depth)) return true;
        m.size = e.size;
        any = true;
        if (read_here && !data_given && e.data.size() == e.size) {
          data_given = true;
          visit_with(m, e.data);
        } else {
          visit_(m);
        }
      }
    }
    return any;
  }

  // One reading of `data` with the formats offered; `format` = libarchive's base format code.
  // A zip reading adds what it listed to `zip_listed` (when given); at most `max_entries` entries
  // are read.
  bool list_archive(std::string_view data, Formats formats, const std::string &path, uint32_t depth,
                    int &format_code, std::vector<ZipListed> *zip_listed = nullptr,
                    size_t max_entries = SIZE_MAX) {
    format_code = 0;
    int rc = ARCHIVE_FATAL;
    ArchivePtr a = open_reader(data, formats, false, rc);
    if (!a) return false;
    archive_entry *entry = nullptr;
    if (rc == ARCHIVE_OK || rc == ARCHIVE_WARN) rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_FATAL && archive_format(a.get()) == 0) {
      // No archive format: a lone compressed stream is read as one unnamed member.
      if (archive_filter_count(a.get()) <= 1) return false;
      a = open_reader(data, formats, true, rc);
      if (!a) return false;
      if (rc == ARCHIVE_OK || rc == ARCHIVE_WARN) rc = archive_read_next_header(a.get(), &entry);
      if (rc == ARCHIVE_FATAL && archive_format(a.get()) == 0) return false;
    }
    format_code = archive_format(a.get()) & ARCHIVE_FORMAT_BASE_MASK;
    const bool raw = format_code == ARCHIVE_FORMAT_RAW;
    const char *fmt = archive_format_name(a.get());
    const std::string format = fmt != nullptr ? fmt : "unknown";
    if (depth == 1 && res_.format.empty()) res_.format = format;
    if (!depth_ok(path, depth)) return true;
    if (std::string why = volume_reason(data); !why.empty()) {
      problem(Reason::kMultiVolume, path, format + ": " + why);
    }
    uint64_t out = 0;
    bool ratio_hit = false;
    bool any = false;  // this reading listed something
    // One buffer for every member of this reading: a member's bytes live only during its visit,
    // and keeping the capacity spares a fresh allocation (and its page faults) per member.
    std::string bytes;
    if (format_code != ARCHIVE_FORMAT_ZIP && format_code != ARCHIVE_FORMAT_TAR)
      zip_listed = nullptr;  // what the zip and tar second readings compare against
    for (size_t entries = 0;; rc = archive_read_next_header(a.get(), &entry)) {
      if (rc == ARCHIVE_EOF || entries++ == max_entries) break;
      if (rc == ARCHIVE_FATAL || rc == ARCHIVE_RETRY) {
        const std::string msg = error_text(a.get());
        const Reason why = classify(msg);
        // Bytes that only start like an archive, with no member any reader could list, are
        // plain bytes to every reader (libclamav scans them as such): noted, not unscannable.
        // A 7z's signature is not chance, and 7-Zip finds the header of one whose start header
        // is damaged: not junk.
        const bool junk = !any && why == Reason::kCorrupt && !has_zip_end(data) &&
                          format_code != ARCHIVE_FORMAT_7ZIP;
        problem(why, path, format + ": " + msg + (junk ? " (no member listed)" : ""), !junk);
        break;
      }
      any = true;
      if (stopped_ || deadline_passed(path)) return true;
      // ARCHIVE_WARN: the entry is usable (e.g. a name not convertible to the locale).
      const char *name8 = archive_entry_pathname_utf8(entry);
      if (name8 == nullptr) name8 = archive_entry_pathname(entry);
      if (name8 == nullptr && !raw) {
        problem(Reason::kCorrupt, path, format + ": a member name could not be read");
      }
      Member m;
      m.name = raw ? gzip_name(data) : name8 == nullptr ? "" : name8;
      m.path = join(path, m.name);
      m.format = format;
      m.depth = depth;
      const mode_t type = archive_entry_filetype(entry);
      // A 7z directory, device, fifo or socket entry that carries data all the same (its stored
      // Unix mode says so): 7-Zip extracts the data as a file, so it is read as one. (Other
      // formats: an ISO 9660 directory has a size of its own; a zip's data libclamav also reads.)
      const bool sevenzip = format_code == ARCHIVE_FORMAT_7ZIP;
      const bool has_data =
          sevenzip && archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0;
      if (type == AE_IFDIR && !has_data) continue;
      if (!count_member(m.path)) return true;
      m.size =
          archive_entry_size_is_set(entry) ? static_cast<uint64_t>(archive_entry_size(entry)) : 0;
      m.is_link = type == AE_IFLNK || archive_entry_hardlink(entry) != nullptr;
      if (zip_listed != nullptr) zip_listed->push_back({m.name, m.size});
      if (archive_entry_is_metadata_encrypted(entry)) {
        problem(Reason::kEncryptedHeaders, path, format + ": encrypted metadata");
      }
      if (archive_entry_is_data_encrypted(entry)) {
        problem(Reason::kEncrypted, m.path, format + ": member data is encrypted");
        visit_(m);
        continue;
      }
      if (!has_data && (m.is_link || (type != AE_IFREG && type != 0))) {
        // No data of its own: the name is all there is, and a 7z symbolic link's target, which
        // 7-Zip where it makes no links (Windows) writes as the file's content.
        const char *target = sevenzip && type == AE_IFLNK ? archive_entry_symlink(entry) : nullptr;
        if (target == nullptr || *target == '\0') {
          visit_(m);
          continue;
        }
        bytes.assign(target);
        m.size = bytes.size();
        visit_with(m, bytes);
        continue;
      }
      bytes.clear();
      bool whole = !ratio_hit;
      if (whole && m.size > limits_.max_file_bytes) whole = take_bytes(m.size, m.path);
      char buf[64 * 1024];
      bool fatal = false;
      while (whole) {
        const la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
          const std::string msg = error_text(a.get());
          problem(classify(msg), m.path, format + ": " + msg);
          whole = false;
          fatal = n == ARCHIVE_FATAL;
          break;
        }
        out += static_cast<uint64_t>(n);
        if (bytes.size() + static_cast<uint64_t>(n) > limits_.max_file_bytes) {
          take_bytes(bytes.size() + static_cast<uint64_t>(n), m.path);  // records the Problem
          whole = false;
        } else if (!ratio_ok(out, data.size(), path, m.path)) {
          ratio_hit = true;
          whole = false;
        } else if (deadline_passed(m.path)) {
          return true;
        } else {
          bytes.append(buf, static_cast<size_t>(n));
        }
      }
      if (whole && take_bytes(bytes.size(), m.path)) {
        m.extracted = true;
        m.data = bytes;
        if (m.size == 0) m.size = bytes.size();
        if (zip_listed != nullptr) {
          ZipListed &z = zip_listed->back();
          z.size = bytes.size();
          z.has_crc = true;
          z.crc = static_cast<uint32_t>(
              ::crc32_z(0, reinterpret_cast<const Bytef *>(bytes.data()), bytes.size()));
        }
      }
      visit_and_recurse(m);
      if (fatal) break;
    }
    // A 7z that lists nothing although it holds more than its 32-byte start header: the start
    // header is damaged (7-Zip then searches for the real header and extracts what it finds).
    if (!any && format_code == ARCHIVE_FORMAT_7ZIP && data.size() > 32 && rc == ARCHIVE_EOF)
      problem(Reason::kCorrupt, path,
              format + ": no member listed from " + std::to_string(data.size()) + " bytes");
    return true;
  }

  const Limits &limits_;
  const Deadline &deadline_;
  const Visitor &visit_;
  WalkResult &res_;
  bool stopped_ = false;  // a walk-wide limit (files, deadline) ended the listing
};

}  // namespace

std::string_view problem_name(Reason r) {
  switch (r) {
    case Reason::kEncrypted:
      return "Container.Encrypted";
    case Reason::kEncryptedHeaders:
      return "Container.EncryptedHeaders";
    case Reason::kUnsupportedMethod:
      return "Container.UnsupportedMethod";
    case Reason::kCorrupt:
      return "Container.Corrupt";
    case Reason::kMultiVolume:
      return "Container.MultiVolume";
    case Reason::kFiles:
      return "Limits.Exceeded.ArchiveFiles";
    case Reason::kRecursion:
      return "Limits.Exceeded.ArchiveRecursion";
    case Reason::kFileBytes:
      return "Limits.Exceeded.FileBytes";
    case Reason::kDecodedBytes:
      return "Limits.Exceeded.DecodedBytes";
    case Reason::kRatio:
      return "Limits.Exceeded.CompressionRatio";
    case Reason::kScanTime:
      return "Limits.Exceeded.ScanTime";
  }
  return "Container.Corrupt";
}

// libarchive converts names (7z's UTF-16, RAR's, ISO's) to the thread's locale charset; in the C
// locale a non-ASCII name is lost. The walk runs with C.UTF-8 as this thread's locale
// (uselocale: the process locale and other threads are untouched), restored on every exit.
class Utf8Locale {
 public:
  Utf8Locale() {
    static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    if (utf8 != static_cast<locale_t>(0)) previous_ = uselocale(utf8);
  }
  ~Utf8Locale() {
    if (previous_ != static_cast<locale_t>(0)) uselocale(previous_);
  }
  Utf8Locale(const Utf8Locale &) = delete;  // restores the locale exactly once
  Utf8Locale &operator=(const Utf8Locale &) = delete;

 private:
  locale_t previous_ = static_cast<locale_t>(0);
};

bool read_alone(std::string_view data) {
  return sniff(data) == Formats::kSevenZip;
}

WalkResult walk(std::string_view data, const Limits &limits, const Deadline &deadline,
                const Visitor &visit) {
  WalkResult res;
  Utf8Locale locale;
  Walker w(limits, deadline, visit, res);
  res.container = w.walk_item(data, "", 1);
  return res;
}

}  // namespace avsink::containers
