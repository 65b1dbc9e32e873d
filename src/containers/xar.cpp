// xar.cpp - inflates a XAR archive's table of contents (zlib-packed XML) and counts its <file>
// elements, to bound what libarchive builds from it before listing a member.
#include <zlib.h>

#include <algorithm>
#include <string>

#include "containers/declared.h"

namespace avsink::containers {
namespace {

constexpr size_t kXarHeaderBytes = 28;

uint64_t be(std::string_view d, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = v << 8 | static_cast<uint8_t>(d[at + i]);
  return v;
}

// Counts "<file" element starts (followed by whitespace, '>' or '/') in XML fed piece by piece;
// each is counted once, when the byte after it arrives (the last 8 bytes carry over).
class FileCounter {
 public:
  void feed(std::string_view piece) {
    std::string joined = carry_;
    joined.append(piece);
    for (size_t p = joined.find("<file"); p != std::string::npos; p = joined.find("<file", p + 1)) {
      const size_t after = p + 5;
      if (after >= joined.size()) break;
      if (after < carry_.size()) continue;  // counted with the previous piece
      const char c = joined[after];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '>' || c == '/') ++count_;
    }
    doctype_ |= joined.find("<!DOCTYPE") != std::string::npos;
    carry_ = joined.substr(joined.size() - std::min<size_t>(joined.size(), 8));
  }
  uint64_t count() const { return count_; }
  bool doctype() const { return doctype_; }

 private:
  std::string carry_;
  uint64_t count_ = 0;
  bool doctype_ = false;
};

}  // namespace

DeclaredCheck check_xar(std::string_view d, const DeclaredLimits &lim) {
  DeclaredCheck res;
  auto fail = [&res](DeclaredCheck::Bound b, std::string detail) {
    res.bound = b;
    res.detail = std::move(detail);
    return res;
  };
  if (d.size() < kXarHeaderBytes || !d.starts_with("xar!")) return res;
  const uint64_t header = be(d, 4, 2), packed = be(d, 8, 8);
  if (header < kXarHeaderBytes || header > d.size() || packed > d.size() - header)
    return fail(DeclaredCheck::Bound::kCorrupt, "xar table of contents lies beyond the data (" +
                                                    std::to_string(packed) + " bytes at " +
                                                    std::to_string(header) + ")");
  const uint64_t cap = std::min(lim.max_header_bytes, lim.ratio_bytes);
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return fail(DeclaredCheck::Bound::kCorrupt, "zlib: no memory");
  z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(d.data() + header));
  z.avail_in = static_cast<uInt>(std::min<uint64_t>(packed, UINT32_MAX));
  std::string out(64 * 1024, '\0');
  FileCounter files;
  uint64_t total = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef *>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    rc = inflate(&z, Z_NO_FLUSH);
    const size_t got = out.size() - z.avail_out;
    total += got;
    files.feed(std::string_view(out.data(), got));
    if (total > cap || files.count() > lim.max_files) break;
    if (rc == Z_BUF_ERROR && got == 0) break;
    if (rc == Z_BUF_ERROR) rc = Z_OK;  // more output space, same input
  }
  inflateEnd(&z);
  if (total > lim.max_header_bytes)
    return fail(DeclaredCheck::Bound::kFileBytes,
                "xar table of contents inflates past max_file_bytes (" +
                    std::to_string(lim.max_header_bytes) + ")");
  if (total > lim.ratio_bytes)
    return fail(DeclaredCheck::Bound::kRatio,
                "xar table of contents inflates past what max_compression_ratio allows for its " +
                    std::to_string(d.size()) + " bytes");
  if (files.count() > lim.max_files)
    return fail(DeclaredCheck::Bound::kFiles,
                "xar table of contents lists more than max_archive_files (" +
                    std::to_string(lim.max_files) + ") files");
  if (files.doctype())
    return fail(DeclaredCheck::Bound::kUnchecked,
                "xar table of contents has a DOCTYPE: its entities could add files unseen");
  if (rc != Z_STREAM_END)
    return fail(DeclaredCheck::Bound::kCorrupt, "xar table of contents does not inflate");
  return res;
}

}  // namespace avsink::containers
