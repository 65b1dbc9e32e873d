// archive.cpp - ustar (POSIX.1-1988) encoding and strict decoding for quarantine archives.
// Only what export writes is read back: regular files, octal sizes, names under 100 bytes.
#include "quarantine/archive.h"

#include <algorithm>
#include <cstring>

#include <unistd.h>

#include "quarantine/fs_util.h"

namespace avsink::quarantine {

namespace {

constexpr size_t kBlock = 512;

void put_octal(char *field, size_t width, uint64_t v) {
  // width-1 octal digits, zero padded, then NUL (callers keep v below 8^(width-1)).
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0; v >>= 3) field[i] = static_cast<char>('0' + (v & 7));
}

bool get_octal(const char *field, size_t width, uint64_t *out) {
  uint64_t v = 0;
  size_t i = 0;
  while (i < width && field[i] == ' ') ++i;
  bool any = false;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (v > (UINT64_MAX >> 3)) return false;
    v = v * 8 + static_cast<uint64_t>(field[i] - '0');
    any = true;
  }
  for (; i < width; ++i)
    if (field[i] != ' ' && field[i] != '\0') return false;
  *out = v;
  return any;
}

uint64_t checksum(const char *block) {
  uint64_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i)
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(block[i]);
  return sum;
}

bool safe_name(std::string_view n) {
  if (n.empty() || n.front() == '/') return false;
  size_t pos = 0;
  while (pos <= n.size()) {
    size_t slash = n.find('/', pos);
    std::string_view seg = n.substr(pos, slash == std::string_view::npos ? slash : slash - pos);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  for (char c : n)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

Error bad(const std::string &path, const std::string &what) {
  return make_error(ErrorCode::kIo, "archive: " + what, path);
}

}  // namespace

Result<void> tar_add(const Sink &sink, const std::string &name, std::string_view data,
                     int64_t mtime) {
  if (auto r = tar_begin_member(sink, name, data.size(), mtime); !r) return r;
  if (auto r = sink(data); !r) return r;
  return tar_end_member(sink, data.size());
}

Result<void> tar_begin_member(const Sink &sink, const std::string &name, uint64_t size,
                              int64_t mtime) {
  if (name.size() >= 100 || size >= (uint64_t{1} << 33))
    return make_error(ErrorCode::kInvalidArgument, "archive: member name or size out of range");
  char h[kBlock];
  std::memset(h, 0, sizeof h);
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 99));
  put_octal(h + 100, 8, 0600);
  put_octal(h + 108, 8, 0);
  put_octal(h + 116, 8, 0);
  put_octal(h + 124, 12, size);
  put_octal(h + 136, 12, static_cast<uint64_t>(mtime < 0 ? 0 : mtime));
  h[156] = '0';
  std::memcpy(h + 257, "ustar", 6);  // magic "ustar\0"
  std::memcpy(h + 263, "00", 2);
  std::memcpy(h + 265, "avsink", 6);
  std::memcpy(h + 297, "avsink", 6);
  put_octal(h + 148, 7, checksum(h));  // six digits, NUL, then a space (tar convention)
  h[155] = ' ';
  return sink(std::string_view(h, kBlock));
}

Result<void> tar_end_member(const Sink &sink, uint64_t size) {
  size_t pad = static_cast<size_t>((kBlock - size % kBlock) % kBlock);
  if (pad) return sink(std::string(pad, '\0'));
  return {};
}

Result<void> tar_finish(const Sink &sink) {
  return sink(std::string(2 * kBlock, '\0'));
}

Result<void> tar_member_pieces(const MemberReader &read, size_t piece, const Sink &f) {
  for (;;) {
    auto c = read(piece);
    if (!c) return c.error();
    if (c->empty()) return {};
    if (auto r = f(*c); !r) return r;
  }
}

Result<void> tar_read(
    int fd, const std::string &path,
    const std::function<Result<void>(const TarMember &, const MemberReader &)> &on_member) {
  uint64_t off = 0;
  for (;;) {
    auto hb = pread_exact(fd, off, kBlock, path);
    if (!hb) return bad(path, "truncated (no end-of-archive marker)");
    const char *h = hb->data();
    off += kBlock;
    if (std::all_of(hb->begin(), hb->end(), [](char c) { return c == 0; })) {
      auto second = pread_exact(fd, off, kBlock, path);
      if (!second || !std::all_of(second->begin(), second->end(), [](char c) { return c == 0; }))
        return bad(path, "malformed end-of-archive marker");
      return {};
    }
    uint64_t want_sum = 0, size = 0;
    if (!get_octal(h + 148, 8, &want_sum) || want_sum != checksum(h))
      return bad(path, "header checksum mismatch at offset " + std::to_string(off - kBlock));
    if (std::memcmp(h + 257, "ustar", 5) != 0) return bad(path, "not a ustar archive");
    if (h[156] != '0' && h[156] != '\0') return bad(path, "member is not a regular file");
    if (h[345] != '\0') return bad(path, "member name uses the prefix field");
    if (!get_octal(h + 124, 12, &size)) return bad(path, "bad member size");
    TarMember m;
    m.name.assign(h, strnlen(h, 100));
    m.size = size;
    if (!safe_name(m.name)) return bad(path, "unsafe member name");
    uint64_t data_off = off, left = size;
    MemberReader reader = [&](size_t max) -> Result<std::string> {
      size_t n = static_cast<size_t>(std::min<uint64_t>(left, max));
      if (n == 0) return std::string();
      auto r = pread_exact(fd, data_off, n, path);
      if (!r) return bad(path, "truncated member " + m.name);
      data_off += n;
      left -= n;
      return r;
    };
    if (auto r = on_member(m, reader); !r) return r;
    if (left != 0) return bad(path, "member not fully read: " + m.name);
    off += size + (kBlock - size % kBlock) % kBlock;
  }
}

}  // namespace avsink::quarantine
