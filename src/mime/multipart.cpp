// multipart.cpp - the delimiter-line scanner behind split_multipart().
// Each line is visited once and compared against the boundary at most once: O(body size).
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

MultipartSplit split_multipart(std::string_view body, std::string_view boundary, size_t max_parts,
                               bool prefix) {
  MultipartSplit s;
  const size_t n = body.size();
  enum { kPreamble, kInPart, kEpilogue } state = kPreamble;
  size_t part_start = 0;
  size_t pos = 0;
  while (pos < n) {
    const void *nlp = std::memchr(body.data() + pos, '\n', n - pos);
    size_t content_end =
        nlp ? static_cast<size_t>(static_cast<const char *>(nlp) - body.data()) : n;
    const size_t line_end = nlp ? content_end + 1 : n;
    if (content_end > pos && body[content_end - 1] == '\r') --content_end;
    bool close = false;
    const bool delimiter =
        body[pos] == '-' && is_delimiter(body, pos, content_end, boundary, prefix, &close);
    if (!delimiter && !prefix && body[pos] == '-' &&
        is_delimiter(body, pos, content_end, boundary, true, &close))
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
    pos = line_end;
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
  size_t pos = 0;
  while (pos < n) {
    const void *nlp = std::memchr(body.data() + pos, '\n', n - pos);
    size_t content_end =
        nlp ? static_cast<size_t>(static_cast<const char *>(nlp) - body.data()) : n;
    const size_t line_end = nlp ? content_end + 1 : n;
    if (content_end - pos > 2 && body[pos] == '-' && body[pos + 1] == '-') {
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
    pos = line_end;
  }
  return out;
}

}  // namespace avsink::mime
