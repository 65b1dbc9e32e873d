// multipart.cpp - the delimiter-line scanner behind split_multipart().
// Only lines that begin with '-' are visited, each compared against the boundary at most twice.
#include "mime/multipart.h"

#include <cstring>
#include <unordered_set>

namespace avsink::mime {
namespace {

// Is the line [pos, content_end) a delimiter? Sets *close for "--boundary--".
bool is_delimiter(std::string_view body, size_t pos, size_t content_end, std::string_view boundary,
                  bool prefix, bool *close) {
  const size_t blen = boundary.size();
  if (content_end - pos < 2 + blen) return false;
  if (body[pos] != '-' || body[pos + 1] != '-') return false;
  if (std::memcmp(body.data() + pos + 2, boundary.data(), blen) != 0) return false;
  size_t p = pos + 2 + blen;
  *close = false;
  if (p + 2 <= content_end && body[p] == '-' && body[p + 1] == '-') {
    *close = true;
    p += 2;
  }
  if (prefix) return true;
  while (p < content_end && (body[p] == ' ' || body[p] == '\t')) ++p;
  return p == content_end;
}

// Start of the line break that ends the line before `pos` (pos itself when there is none).
size_t cut_before(std::string_view body, size_t pos) {
  if (pos == 0 || body[pos - 1] != '\n') return pos;
  size_t cut = pos - 1;
  if (cut > 0 && body[cut - 1] == '\r') --cut;
  return cut;
}

}  // namespace

std::vector<size_t> dash_line_starts(std::string_view body) {
  std::vector<size_t> out;
  const char *const b = body.data();
  const size_t n = body.size();
  size_t p = 0;  // always a line start
  while (p < n) {
    if (b[p] == '-') out.push_back(p);
    if (p + 1 >= n) break;
    // The next '-' after p; the lines before its line do not begin with one.
    const char *d = static_cast<const char *>(std::memchr(b + p + 1, '-', n - p - 1));
    if (d == nullptr) break;
    const size_t dp = static_cast<size_t>(d - b);
    if (b[dp - 1] == '\n') {  // it begins a line
      p = dp;
      continue;
    }
    const char *e = static_cast<const char *>(std::memchr(d, '\n', n - dp));
    if (e == nullptr) break;
    p = static_cast<size_t>(e - b) + 1;
  }
  return out;
}

MultipartSplit split_multipart(std::string_view body, std::string_view boundary, size_t max_parts,
                               bool prefix) {
  return split_multipart(DashLines(body), boundary, max_parts, prefix);
}

MultipartSplit split_multipart(const DashLines &lines, std::string_view boundary, size_t max_parts,
                               bool prefix) {
  MultipartSplit s;
  const std::string_view body = lines.body();
  const size_t n = body.size();
  enum { kPreamble, kInPart, kEpilogue } state = kPreamble;
  size_t part_start = 0;
  for (const size_t pos : lines.starts()) {  // only these lines can be delimiters
    const void *nlp = std::memchr(body.data() + pos, '\n', n - pos);
    size_t content_end =
        nlp ? static_cast<size_t>(static_cast<const char *>(nlp) - body.data()) : n;
    const size_t line_end = nlp ? content_end + 1 : n;
    if (content_end > pos && body[content_end - 1] == '\r') --content_end;
    bool close = false;
    const bool delimiter = is_delimiter(body, pos, content_end, boundary, prefix, &close);
    if (!delimiter && !prefix && is_delimiter(body, pos, content_end, boundary, true, &close))
      s.prefix_lines = true;
    if (delimiter) {
      if (state == kEpilogue) {
        s.after_close = true;
        break;
      }
      const size_t cut = cut_before(body, pos);
      if (state == kPreamble) {
        s.found_start = true;
        s.preamble = Range{0, cut};
      } else {
        s.parts.push_back(Range{part_start, cut > part_start ? cut : part_start});
      }
      if (close) {
        s.found_close = true;
        s.epilogue = Range{line_end, n};
        state = kEpilogue;
      } else {
        if (s.parts.size() >= max_parts) {
          s.parts_exceeded = true;
          return s;
        }
        part_start = line_end;
        state = kInPart;
      }
    }
  }
  if (state == kInPart) {
    // No close delimiter: the rest is the last part (its final line break is not content).
    size_t end = n;
    if (end > part_start && body[end - 1] == '\n') {
      --end;
      if (end > part_start && body[end - 1] == '\r') --end;
    }
    s.parts.push_back(Range{part_start, end});
  }
  return s;
}

std::vector<std::string_view> delimiter_candidates(std::string_view body, size_t max, bool *more) {
  std::vector<std::string_view> out;
  std::unordered_set<std::string_view> seen;
  *more = false;
  const size_t n = body.size();
  for (const size_t pos : dash_line_starts(body)) {
    const void *nlp = std::memchr(body.data() + pos, '\n', n - pos);
    const size_t content_end =
        nlp ? static_cast<size_t>(static_cast<const char *>(nlp) - body.data()) : n;
    if (content_end - pos > 2 && body[pos + 1] == '-') {
      size_t e = content_end;
      while (e > pos + 2 && (body[e - 1] == '\r' || body[e - 1] == ' ' || body[e - 1] == '\t')) --e;
      if (e >= pos + 4 && body[e - 1] == '-' && body[e - 2] == '-') e -= 2;
      std::string_view x = body.substr(pos + 2, e > pos + 2 ? e - pos - 2 : 0);
      if (!x.empty() && !seen.count(x)) {
        if (out.size() >= max) {
          *more = true;
          break;
        }
        seen.insert(x);
        out.push_back(x);
      }
    }
  }
  return out;
}

}  // namespace avsink::mime
