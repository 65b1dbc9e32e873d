// multipart.h - RFC 2046 §5.1.1 body splitting on "--boundary" delimiter lines.
// One forward pass over the body (linear time); stops after max_parts parts.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace avsink::mime {

// A half-open byte range [begin, end) inside the body that was split.
struct Range {
  size_t begin = 0;
  size_t end = 0;
  size_t size() const { return end - begin; }
};

struct MultipartSplit {
  bool found_start = false;     // at least one delimiter line
  bool found_close = false;     // the "--boundary--" line
  bool parts_exceeded = false;  // a part beyond max_parts began; scanning stopped there
  bool after_close = false;     // another delimiter line appears after the close delimiter
  Range preamble;               // before the first delimiter (without its line break)
  Range epilogue;               // after the close delimiter line
  std::vector<Range> parts;     // each part: headers + body, without the line break that
                                // precedes the next delimiter
};

// Splits `body` on lines "--" + boundary [ "--" ] [ SP / HTAB ]* (CR)LF (or end of input).
// Delimiters are only recognised at line starts and matched exactly (case-sensitive), so an
// outer boundary that merely starts with an inner one never matches. Without a close delimiter
// the last part runs to the end (one trailing line break dropped). Thread-safe; no allocation
// beyond the result.
MultipartSplit split_multipart(std::string_view body, std::string_view boundary, size_t max_parts);

}  // namespace avsink::mime
