// decode.cpp - base64, quoted-printable, uuencode, yEnc, BinHex decoders and block finders.
// Every loop advances by at least one input byte; output is capped; no input byte is read twice.
#include "mime/decode.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace avsink::mime {
namespace {

constexpr std::array<int8_t, 256> make_b64_table() {
  std::array<int8_t, 256> t{};
  for (auto &v : t) v = -1;
  const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alpha[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kB64 = make_b64_table();

// Decoders look at the deadline once per this many input bytes (a few ms of work).
constexpr size_t kDeadlineStride = 1u << 20;

bool passed(const Deadline *deadline) {
  return deadline != nullptr && deadline->expired();
}

// BinHex 4.0's 64-character alphabet (no 7, O, W, g, n, o, s-z and friends).
constexpr std::array<int8_t, 256> make_binhex_table() {
  std::array<int8_t, 256> t{};
  for (auto &v : t) v = -1;
  const char *alpha = "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alpha[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kBinhex = make_binhex_table();

int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// Appends one byte unless the cap is reached; returns false when it was dropped.
inline bool put(std::string *out, uint64_t cap, char c) {
  if (out->size() >= cap) return false;
  out->push_back(c);
  return true;
}

std::string_view trim_line(std::string_view line) {
  while (!line.empty() &&
         (line.back() == '\r' || line.back() == '\n' || line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  return line;
}

// One line of `text` starting at `pos`: its content (without the line break) and the next line.
struct Line {
  std::string_view content;
  size_t next = 0;
};
Line line_at(std::string_view text, size_t pos) {
  const void *nlp = std::memchr(text.data() + pos, '\n', text.size() - pos);
  size_t end =
      nlp ? static_cast<size_t>(static_cast<const char *>(nlp) - text.data()) : text.size();
  Line l;
  l.next = nlp ? end + 1 : text.size();
  l.content = text.substr(pos, end - pos);
  if (!l.content.empty() && l.content.back() == '\r') l.content.remove_suffix(1);
  return l;
}

std::string_view trim_leading(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

uint32_t be32(std::string_view s, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

}  // namespace

TransferEncoding classify_transfer_encoding(std::string_view cte) {
  if (cte.empty() || cte == "7bit" || cte == "8bit" || cte == "binary")
    return TransferEncoding::kIdentity;
  if (cte == "base64") return TransferEncoding::kBase64;
  if (cte == "quoted-printable") return TransferEncoding::kQuotedPrintable;
  if (cte == "x-uuencode" || cte == "uuencode" || cte == "x-uue" || cte == "uue")
    return TransferEncoding::kUuencode;
  if (cte == "mac-binhex40" || cte == "x-binhex" || cte == "binhex" || cte == "binhex40" ||
      cte == "x-mac-binhex40")
    return TransferEncoding::kBinhex;
  if (cte == "x-yencode" || cte == "yencode" || cte == "x-yenc" || cte == "yenc")
    return TransferEncoding::kYenc;
  return TransferEncoding::kUnknown;
}

bool looks_like_base64(std::string_view body) {
  const size_t n = body.size() < (64u << 10) ? body.size() : (64u << 10);
  size_t alpha = 0, other = 0;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    if (kB64[c] >= 0 || c == '=') {
      ++alpha;
    } else if (!is_space(c)) {
      ++other;
    }
  }
  return alpha >= 16 && other * 20 <= alpha;
}

bool looks_like_quoted_printable(std::string_view body) {
  const size_t n = body.size() < (64u << 10) ? body.size() : (64u << 10);
  for (size_t i = 0; i + 1 < n; ++i) {
    if (body[i] != '=') continue;
    const char a = body[i + 1];
    if (a == '\n' || a == '\r') return true;
    if (i + 2 < n && hex_value(static_cast<unsigned char>(a)) >= 0 &&
        hex_value(static_cast<unsigned char>(body[i + 2])) >= 0)
      return true;
  }
  return false;
}

DecodeStatus decode_base64(std::string_view in, uint64_t cap, std::string *out,
                           const Deadline *deadline) {
  DecodeStatus st;
  // Output goes straight into room reserved up front (at most 3 bytes per 4 input bytes, + 2 for
  // an unpadded tail, and never past the cap), made writable one stride at a time, so a decode
  // the deadline stops early never zero-fills pages it does not reach; the string is cut to what
  // was written at the end.
  const size_t start = out->size();
  const uint64_t room = cap > start ? cap - start : 0;
  const uint64_t most = in.size() / 4 * 3 + 3;
  const size_t limit = start + static_cast<size_t>(most < room ? most : room);
  out->reserve(limit);  // the pointers below stay valid: every resize stays within this
  char *const base = out->data();
  char *w = base + start;
  char *const end = base + limit;  // the cap: writing stops here
  // Before each stride of input: writable room for all that stride can produce (3 bytes per 4
  // sextets, with room for up to 3 sextets carried in and the tail after the loop).
  auto grow = [out, base, &w, limit](size_t in_bytes) {
    const size_t want = static_cast<size_t>(w - base) + in_bytes / 4 * 3 + 8;
    out->resize(want < limit ? want : limit);
  };
  // Writes one byte if the cap allows; false when it was dropped.
  auto emit = [&w, end](uint32_t byte) {
    if (w == end) return false;
    *w++ = static_cast<char>(byte);
    return true;
  };
  uint32_t acc = 0;
  int n = 0;            // sextets in the current quad
  bool padded = false;  // saw "=" since the last data byte
  // One byte of input; false when the cap dropped output.
  auto byte = [&](unsigned char c) {
    const int v = kB64[c];
    if (v >= 0) {
      if (padded) st.malformed = true;  // data after padding: keep decoding (Thunderbird)
      padded = false;
      acc = (acc << 6) | static_cast<uint32_t>(v);
      if (++n == 4) {
        const bool ok = emit(acc >> 16) && emit(acc >> 8) && emit(acc);
        n = 0;
        acc = 0;
        return ok;
      }
    } else if (c == '=') {
      // Padding closes a partial quad; a stray "=" elsewhere is only noted.
      bool ok = true;
      if (n == 2 || n == 3) {
        ok = emit(acc >> (n == 2 ? 4 : 10));
        if (ok && n == 3) ok = emit(acc >> 2);
      } else if (n == 1) {
        st.malformed = true;
      }
      n = 0;
      acc = 0;
      padded = true;
      return ok;
    } else if (!is_space(c)) {
      st.malformed = true;
    }
    return true;
  };
  for (size_t from = 0; from < in.size() && !st.truncated; from += kDeadlineStride) {
    if (from > 0 && passed(deadline)) {
      st.timed_out = true;
      break;
    }
    const size_t to = std::min(in.size(), from + kDeadlineStride);
    grow(to - from);
    for (size_t i = from; i < to; ++i) {
      // The common case, four alphabet bytes that start a quad: decoded together. What the byte
      // loop below would do with them, without its branches per byte.
      if (n == 0) {
        while (to - i >= 4 && end - w >= 3) {
          const int a = kB64[static_cast<unsigned char>(in[i])];
          const int b = kB64[static_cast<unsigned char>(in[i + 1])];
          const int c = kB64[static_cast<unsigned char>(in[i + 2])];
          const int d = kB64[static_cast<unsigned char>(in[i + 3])];
          if ((a | b | c | d) < 0) break;
          const uint32_t q = static_cast<uint32_t>(a) << 18 | static_cast<uint32_t>(b) << 12 |
                             static_cast<uint32_t>(c) << 6 | static_cast<uint32_t>(d);
          w[0] = static_cast<char>(q >> 16);
          w[1] = static_cast<char>(q >> 8);
          w[2] = static_cast<char>(q);
          w += 3;
          i += 4;
          if (padded) st.malformed = true;  // data after padding: keep decoding (Thunderbird)
          padded = false;
        }
        if (i >= to) break;
      }
      if (!byte(static_cast<unsigned char>(in[i]))) {
        st.truncated = true;  // the cap: nothing more is written
        break;
      }
    }
  }
  if (!st.truncated && !st.timed_out) {
    if (n == 1) {
      st.malformed = true;
    } else if (n == 2 || n == 3) {
      st.malformed = true;  // missing padding: decode what is there
      bool ok = emit(acc >> (n == 2 ? 4 : 10));
      if (ok && n == 3) ok = emit(acc >> 2);
      if (!ok) st.truncated = true;
    }
  }
  out->resize(static_cast<size_t>(w - base));
  return st;
}

namespace {

// quoted-printable; upper_only: "=xx" with a lowercase hex digit is not an escape (kept literally);
// drop_invalid: an invalid "=" is dropped instead of kept.
DecodeStatus decode_qp(std::string_view in, uint64_t cap, std::string *out, bool upper_only,
                       bool drop_invalid, const Deadline *deadline) {
  auto hexd = [upper_only](char c) {
    if (upper_only && c >= 'a' && c <= 'f') return -1;
    return hex_value(static_cast<unsigned char>(c));
  };
  DecodeStatus st;
  out->reserve(static_cast<size_t>(out->size() + in.size() < cap ? out->size() + in.size() : cap));
  const size_t len = in.size();
  size_t i = 0;
  size_t next_check = kDeadlineStride;
  while (i < len) {
    if (i >= next_check) {
      next_check = i + kDeadlineStride;
      if (passed(deadline)) {
        st.timed_out = true;
        return st;
      }
    }
    // Copy the run up to the next "=" in one go.
    const void *eq = std::memchr(in.data() + i, '=', len - i);
    size_t stop = eq ? static_cast<size_t>(static_cast<const char *>(eq) - in.data()) : len;
    if (stop > i) {
      uint64_t room = cap > out->size() ? cap - out->size() : 0;
      size_t take = stop - i;
      if (take > room) {
        out->append(in.data() + i, static_cast<size_t>(room));
        st.truncated = true;
        return st;
      }
      out->append(in.data() + i, take);
      i = stop;
    }
    if (i >= len) break;
    // in[i] == '='
    int h1 = i + 1 < len ? hexd(in[i + 1]) : -1;
    int h2 = i + 2 < len ? hexd(in[i + 2]) : -1;
    if (h1 >= 0 && h2 >= 0) {
      if (!put(out, cap, static_cast<char>(h1 * 16 + h2))) {
        st.truncated = true;
        return st;
      }
      i += 3;
      continue;
    }
    // Soft line break: "=" [WSP...] (CR)LF, or "=" at the very end.
    size_t j = i + 1;
    while (j < len && (in[j] == ' ' || in[j] == '\t')) ++j;
    if (j >= len) {
      i = len;  // trailing "=" (and padding): nothing to emit
      break;
    }
    if (in[j] == '\n') {
      i = j + 1;
      continue;
    }
    if (in[j] == '\r' && j + 1 < len && in[j + 1] == '\n') {
      i = j + 2;
      continue;
    }
    if (in[j] == '\r' && j + 1 >= len) {
      i = len;
      break;
    }
    // Invalid "=": keep it literally (or drop it).
    st.malformed = true;
    if (!drop_invalid && !put(out, cap, '=')) {
      st.truncated = true;
      return st;
    }
    ++i;
  }
  return st;
}

}  // namespace

DecodeStatus decode_quoted_printable(std::string_view in, uint64_t cap, std::string *out,
                                     const Deadline *deadline) {
  return decode_qp(in, cap, out, false, false, deadline);
}

DecodeStatus decode_uuencode_lines(std::string_view in, uint64_t cap, std::string *out,
                                   const Deadline *deadline) {
  DecodeStatus st;
  size_t pos = 0;
  size_t next_check = kDeadlineStride;
  while (pos < in.size()) {
    if (pos >= next_check) {
      next_check = pos + kDeadlineStride;
      if (passed(deadline)) {
        st.timed_out = true;
        return st;
      }
    }
    size_t nl = in.find('\n', pos);
    size_t end = nl == std::string_view::npos ? in.size() : nl;
    std::string_view line = in.substr(pos, end - pos);
    pos = nl == std::string_view::npos ? in.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim_line(line) == "end") break;
    if (line.empty()) continue;
    int count = (static_cast<unsigned char>(line[0]) - 32) & 63;
    if (count == 0) continue;  // the "`" line before "end"
    size_t need = (static_cast<size_t>(count) + 2) / 3 * 4;
    if (line.size() - 1 < need) st.malformed = true;  // short line: missing chars read as 0
    int emitted = 0;
    for (size_t g = 0; emitted < count; g += 4) {
      uint32_t acc = 0;
      for (size_t k = 0; k < 4; ++k) {
        size_t idx = 1 + g + k;
        unsigned char c = idx < line.size() ? static_cast<unsigned char>(line[idx]) : ' ';
        acc = (acc << 6) | (static_cast<uint32_t>(c - 32) & 63u);
      }
      for (int b = 2; b >= 0 && emitted < count; --b, ++emitted) {
        if (!put(out, cap, static_cast<char>(acc >> (8 * b)))) {
          st.truncated = true;
          return st;
        }
      }
    }
  }
  return st;
}

DecodeStatus decode_transfer(TransferEncoding te, std::string_view in, uint64_t cap,
                             std::string *out) {
  return decode_transfer_dialect(te, DecodeDialect::kDefault, in, cap, out);
}

namespace {

// base64 in the dialects that work line by line (kBase64PerLine, kBase64SkipJunkLines,
// kBase64StopAtJunk): each kept line goes through decode_base64(); kBase64PerLine flushes a
// partial quad at every line end, the others carry it over.
DecodeStatus decode_base64_lines(DecodeDialect d, std::string_view in, uint64_t cap,
                                 std::string *out, const Deadline *deadline) {
  DecodeStatus st;
  size_t next_check = kDeadlineStride;
  std::string carry;  // alphabet characters of a partial quad carried to the next line
  size_t pos = 0;
  while (pos < in.size()) {
    if (pos >= next_check) {
      next_check = pos + kDeadlineStride;
      if (passed(deadline)) {
        st.timed_out = true;
        return st;
      }
    }
    Line l = line_at(in, pos);
    pos = l.next;
    bool junk = false;
    for (unsigned char c : l.content)
      if (kB64[c] < 0 && c != '=' && !is_space(c)) junk = true;
    if (junk) {
      st.malformed = true;
      if (d == DecodeDialect::kBase64StopAtJunk) break;
      if (d == DecodeDialect::kBase64SkipJunkLines) continue;
    }
    if (d == DecodeDialect::kBase64PerLine) {
      DecodeStatus s = decode_base64(l.content, cap, out);
      st.malformed |= s.malformed;
      if (s.truncated) {
        st.truncated = true;
        break;
      }
      continue;
    }
    carry.append(l.content);
    size_t alpha = 0, keep_from = 0;  // decode whole quads now, keep the rest
    for (size_t k = 0; k < carry.size(); ++k) {
      const unsigned char c = static_cast<unsigned char>(carry[k]);
      if (c == '=') {
        alpha = 0;
        keep_from = k + 1;
      } else if (kB64[c] >= 0 && ++alpha % 4 == 0) {
        keep_from = k + 1;
      }
    }
    DecodeStatus s = decode_base64(std::string_view(carry).substr(0, keep_from), cap, out);
    st.malformed |= s.malformed;
    if (s.truncated) {
      st.truncated = true;
      return st;
    }
    carry.erase(0, keep_from);
  }
  if (!st.truncated && !carry.empty()) {
    DecodeStatus s = decode_base64(carry, cap, out);
    st.malformed |= s.malformed;
    st.truncated |= s.truncated;
  }
  return st;
}

// base64 that ends at the first "=" closing a quad (or at a stray "="), as Python's binascii and
// MIME::Base64 do: the bytes before it.
DecodeStatus decode_base64_stop_at_pad(std::string_view in, uint64_t cap, std::string *out,
                                       const Deadline *deadline) {
  int n = 0;
  size_t stop = in.size();
  for (size_t k = 0; k < in.size(); ++k) {
    const unsigned char c = static_cast<unsigned char>(in[k]);
    if (kB64[c] >= 0) {
      n = (n + 1) % 4;
    } else if (c == '=') {
      // the quad's padding runs on to its end ("xx==" / "xxx=")
      size_t e = k;
      while (e < in.size() && (in[e] == '=' || is_space(static_cast<unsigned char>(in[e])))) ++e;
      stop = e;
      break;
    }
  }
  DecodeStatus st = decode_base64(in.substr(0, stop), cap, out, deadline);
  if (stop < in.size()) st.malformed = true;
  return st;
}

}  // namespace

std::vector<DecodeDialect> decode_dialects(TransferEncoding te, std::string_view body,
                                           const Deadline *deadline) {
  std::vector<DecodeDialect> out;
  if (te == TransferEncoding::kBase64) {
    bool partial_line = false, data_after_pad = false, junk_line = false;
    bool pad_seen = false;
    uint64_t total_alpha = 0;
    size_t pos = 0;
    size_t next_check = kDeadlineStride;
    while (pos < body.size()) {
      if (pos >= next_check) {
        next_check = pos + kDeadlineStride;
        if (passed(deadline)) return out;
      }
      Line l = line_at(body, pos);
      const bool last = l.next >= body.size();
      pos = l.next;
      // The alphabet bytes a line starts with (all of an ordinary line), four at a time.
      const std::string_view t = l.content;
      size_t alpha = 0;
      while (t.size() - alpha >= 4 && (kB64[static_cast<unsigned char>(t[alpha])] |
                                       kB64[static_cast<unsigned char>(t[alpha + 1])] |
                                       kB64[static_cast<unsigned char>(t[alpha + 2])] |
                                       kB64[static_cast<unsigned char>(t[alpha + 3])]) >= 0)
        alpha += 4;
      if (alpha > 0 && pad_seen) data_after_pad = true;
      for (unsigned char c : t.substr(alpha)) {
        if (kB64[c] >= 0) {
          ++alpha;
          if (pad_seen) data_after_pad = true;
        } else if (c == '=') {
          pad_seen = true;
        } else if (!is_space(c)) {
          junk_line = true;
        }
      }
      if (!last && alpha % 4 != 0) partial_line = true;
      total_alpha += alpha;
    }
    if (partial_line) out.push_back(DecodeDialect::kBase64PerLine);
    if (data_after_pad) out.push_back(DecodeDialect::kBase64StopAtPad);
    if (junk_line) {
      out.push_back(DecodeDialect::kBase64SkipJunkLines);
      out.push_back(DecodeDialect::kBase64StopAtJunk);
      out.push_back(DecodeDialect::kRawBody);  // not base64 text: some readers keep it as it is
    }
    if (total_alpha % 4 == 1) out.push_back(DecodeDialect::kRawJoinedLines);
  } else if (te == TransferEncoding::kUuencode || te == TransferEncoding::kBinhex ||
             te == TransferEncoding::kYenc) {
    out.push_back(DecodeDialect::kRawBody);
  } else if (te == TransferEncoding::kQuotedPrintable) {
    bool lower = false, invalid = false;
    for (size_t i = body.find('='); i != std::string_view::npos; i = body.find('=', i + 1)) {
      const int h1 = i + 1 < body.size() ? hex_value(static_cast<unsigned char>(body[i + 1])) : -1;
      const int h2 = i + 2 < body.size() ? hex_value(static_cast<unsigned char>(body[i + 2])) : -1;
      if (h1 >= 0 && h2 >= 0) {
        if ((body[i + 1] >= 'a' && body[i + 1] <= 'f') ||
            (body[i + 2] >= 'a' && body[i + 2] <= 'f'))
          lower = true;
        continue;
      }
      size_t j = i + 1;
      while (j < body.size() && (body[j] == ' ' || body[j] == '\t')) ++j;
      if (j < body.size() && body[j] != '\n' && body[j] != '\r') invalid = true;
    }
    if (lower) out.push_back(DecodeDialect::kQpUpperHexOnly);
    if (invalid) out.push_back(DecodeDialect::kQpDropInvalid);
  }
  return out;
}

DecodeStatus decode_transfer_dialect(TransferEncoding te, DecodeDialect dialect,
                                     std::string_view in, uint64_t cap, std::string *out,
                                     const Deadline *deadline) {
  if (dialect == DecodeDialect::kRawJoinedLines) {
    DecodeStatus st;
    for (size_t pos = 0; pos < in.size();) {
      const size_t stop = std::min(in.find_first_of("\r\n", pos), in.size());
      const uint64_t room = cap > out->size() ? cap - out->size() : 0;
      if (stop - pos > room) {
        out->append(in.data() + pos, static_cast<size_t>(room));
        st.truncated = true;
        return st;
      }
      out->append(in.data() + pos, stop - pos);
      pos = stop + 1;
    }
    return st;
  }
  if (dialect == DecodeDialect::kRawBody) te = TransferEncoding::kIdentity;  // copied below
  switch (te) {
    case TransferEncoding::kBase64:
      if (dialect == DecodeDialect::kBase64StopAtPad)
        return decode_base64_stop_at_pad(in, cap, out, deadline);
      if (dialect == DecodeDialect::kBase64PerLine ||
          dialect == DecodeDialect::kBase64SkipJunkLines ||
          dialect == DecodeDialect::kBase64StopAtJunk)
        return decode_base64_lines(dialect, in, cap, out, deadline);
      return decode_base64(in, cap, out, deadline);
    case TransferEncoding::kQuotedPrintable:
      if (dialect == DecodeDialect::kQpUpperHexOnly || dialect == DecodeDialect::kQpDropInvalid)
        return decode_qp(in, cap, out, dialect == DecodeDialect::kQpUpperHexOnly,
                         dialect == DecodeDialect::kQpDropInvalid, deadline);
      return decode_quoted_printable(in, cap, out, deadline);
    case TransferEncoding::kUuencode: {
      // A whole body in x-uuencode: decode the first block, or the body as data lines.
      auto blocks = find_uuencode_blocks(in, 1);
      if (!blocks.empty())
        return decode_uuencode_lines(
            in.substr(blocks[0].data_begin, blocks[0].data_end - blocks[0].data_begin), cap, out,
            deadline);
      return decode_uuencode_lines(in, cap, out, deadline);
    }
    case TransferEncoding::kBinhex: {
      // The file starts after the first ":" (the marker line is optional here) and ends at the
      // next one.
      size_t colon = in.find(':');
      std::string_view data = colon == std::string_view::npos ? in : in.substr(colon + 1);
      size_t close = data.find(':');
      if (close != std::string_view::npos) data = data.substr(0, close);
      BinhexFile file;
      DecodeStatus st = decode_binhex(data, cap > out->size() ? cap - out->size() : 0, &file);
      out->append(file.data_fork);
      if (!file.resource_fork.empty()) {
        uint64_t room = cap > out->size() ? cap - out->size() : 0;
        out->append(file.resource_fork.substr(
            0, static_cast<size_t>(std::min<uint64_t>(room, file.resource_fork.size()))));
      }
      return st;
    }
    case TransferEncoding::kYenc: {
      // "=ybegin" (and "=ypart") lines, when present, are skipped; data ends at "=yend".
      auto blocks = find_yenc_blocks(in, 1);
      if (!blocks.empty())
        return decode_yenc_lines(
            in.substr(blocks[0].data_begin, blocks[0].data_end - blocks[0].data_begin), cap, out);
      return decode_yenc_lines(in, cap, out);
    }
    case TransferEncoding::kIdentity:
    case TransferEncoding::kUnknown:
    default:
      break;
  }
  DecodeStatus st;
  uint64_t room = cap > out->size() ? cap - out->size() : 0;
  if (in.size() > room) {
    out->append(in.data(), static_cast<size_t>(room));
    st.truncated = true;
  } else {
    out->append(in.data(), in.size());
  }
  return st;
}

std::vector<UuBlock> find_uuencode_blocks(std::string_view text, size_t max_blocks) {
  std::vector<UuBlock> blocks;
  size_t pos = 0;
  UuBlock *open = nullptr;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    size_t next = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view line = trim_line(text.substr(pos, end - pos));
    if (open) {
      if ((!open->base64 && line == "end") || (open->base64 && line == "====")) {
        open->data_end = pos;
        open->has_end = true;
        open = nullptr;
      }
    } else if (line.size() > 6 && line.substr(0, 5) == "begin" &&
               (line[5] == ' ' || line.substr(0, 13) == "begin-base64 ")) {
      bool b64 = line[5] == '-';
      size_t p = b64 ? 13 : 6;
      size_t digits = 0;
      while (p < line.size() && line[p] >= '0' && line[p] <= '7' && digits < 5) ++p, ++digits;
      if (digits >= 1 && digits <= 4 && p < line.size() && line[p] == ' ') {
        if (blocks.size() >= max_blocks) break;
        UuBlock b;
        b.begin = pos;
        b.data_begin = next;
        b.data_end = text.size();
        b.name = std::string(line.substr(p + 1));
        b.base64 = b64;
        blocks.push_back(std::move(b));
        open = &blocks.back();
      }
    }
    pos = next;
  }
  return blocks;
}

std::vector<YencBlock> find_yenc_blocks(std::string_view text, size_t max_blocks) {
  std::vector<YencBlock> blocks;
  YencBlock *open = nullptr;
  for (size_t pos = 0; pos < text.size();) {
    const Line l = line_at(text, pos);
    if (open) {
      if (l.content.substr(0, 5) == "=yend") {
        open->data_end = pos;
        open->has_end = true;
        open = nullptr;
      }
    } else if (l.content.substr(0, 8) == "=ybegin ") {
      if (blocks.size() >= max_blocks) break;
      YencBlock b;
      b.begin = pos;
      b.data_begin = l.next;
      b.data_end = text.size();
      size_t n = l.content.find(" name=");
      if (n != std::string_view::npos) b.name = std::string(trim_line(l.content.substr(n + 6)));
      blocks.push_back(std::move(b));
      open = &blocks.back();
    }
    pos = l.next;
  }
  return blocks;
}

DecodeStatus decode_yenc_lines(std::string_view in, uint64_t cap, std::string *out) {
  DecodeStatus st;
  out->reserve(static_cast<size_t>(out->size() + in.size() < cap ? out->size() + in.size() : cap));
  for (size_t pos = 0; pos < in.size();) {
    const Line l = line_at(in, pos);
    pos = l.next;
    std::string_view d = l.content;
    if (d.substr(0, 5) == "=yend") break;
    if (d.substr(0, 6) == "=ypart") continue;
    for (size_t i = 0; i < d.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(d[i]);
      if (c == '\r') continue;  // a stray CR inside a line is transport noise
      if (c == '=') {
        if (i + 1 >= d.size()) {
          st.malformed = true;  // an escape with nothing after it on the line
          break;
        }
        c = static_cast<unsigned char>(static_cast<unsigned char>(d[++i]) - 64);
      }
      if (!put(out, cap, static_cast<char>(static_cast<unsigned char>(c - 42)))) {
        st.truncated = true;
        return st;
      }
    }
  }
  return st;
}

std::vector<BinhexBlock> find_binhex_blocks(std::string_view text, size_t max_blocks) {
  static constexpr std::string_view kMarker = "(This file must be converted with BinHex";
  std::vector<BinhexBlock> blocks;
  bool marked = false;  // a marker line was seen; looking for the ":" line
  size_t marker = 0;
  for (size_t pos = 0; pos < text.size();) {
    const Line l = line_at(text, pos);
    const std::string_view c = trim_leading(l.content);
    if (starts_with_nocase(c, kMarker)) {
      marked = true;
      marker = pos;
      pos = l.next;
      continue;
    }
    if (marked && !c.empty() && c.front() == ':') {
      if (blocks.size() >= max_blocks) break;
      BinhexBlock b;
      b.begin = marker;
      b.data_begin = static_cast<size_t>(c.data() - text.data()) + 1;
      size_t close = text.find(':', b.data_begin);
      b.has_end = close != std::string_view::npos;
      b.data_end = b.has_end ? close : text.size();
      blocks.push_back(b);
      marked = false;
      pos = b.has_end ? line_at(text, close).next : text.size();
      continue;
    }
    pos = l.next;
  }
  return blocks;
}

DecodeStatus decode_binhex(std::string_view in, uint64_t cap, BinhexFile *out) {
  DecodeStatus st;
  std::string stream;
  uint32_t bits = 0;
  int nbits = 0;
  bool marker = false;  // the previous byte was the 0x90 run marker
  unsigned char last = 0;
  auto emit = [&](unsigned char b) -> bool {
    if (stream.size() >= cap) return false;
    stream.push_back(static_cast<char>(b));
    last = b;
    return true;
  };
  for (unsigned char c : in) {
    int v = kBinhex[c];
    if (v < 0) {
      if (!is_space(c)) st.malformed = true;
      continue;
    }
    bits = (bits << 6) | static_cast<uint32_t>(v);
    nbits += 6;
    if (nbits < 8) continue;
    nbits -= 8;
    const unsigned char b = static_cast<unsigned char>(bits >> nbits);
    bits &= (1u << nbits) - 1;
    bool ok = true;
    if (marker) {
      marker = false;
      if (b == 0) {
        ok = emit(0x90);
      } else {
        for (unsigned k = 1; k < b && ok; ++k) ok = emit(last);
      }
    } else if (b == 0x90) {
      marker = true;
    } else {
      ok = emit(b);
    }
    if (!ok) {
      st.truncated = true;
      break;
    }
  }
  // Header: len, name, version, type[4], creator[4], flags[2], dlen[4], rlen[4], crc[2].
  const size_t n = stream.empty() ? 0 : static_cast<unsigned char>(stream[0]);
  if (n == 0 || n > 63 || stream.size() < n + 22) {
    st.malformed = true;
    out->name.clear();
    out->data_fork = std::move(stream);
    out->resource_fork.clear();
    return st;
  }
  out->name = stream.substr(1, n);
  const uint64_t dlen = be32(stream, n + 12), rlen = be32(stream, n + 16);
  const size_t data_at = n + 22;
  const size_t have = stream.size() - data_at;
  if (dlen > have) st.malformed = true;
  out->data_fork = stream.substr(data_at, static_cast<size_t>(dlen < have ? dlen : have));
  const uint64_t rsrc_at = data_at + dlen + 2;  // after the data fork's CRC
  if (rlen > 0) {
    if (rsrc_at >= stream.size() || rlen > stream.size() - rsrc_at) st.malformed = true;
    if (rsrc_at < stream.size())
      out->resource_fork = stream.substr(static_cast<size_t>(rsrc_at), static_cast<size_t>(rlen));
  }
  return st;
}

}  // namespace avsink::mime
