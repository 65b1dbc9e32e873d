// multipart.h - RFC 2046 §5.1.1 body splitting on "--boundary" delimiter lines.
// One forward pass over the body (linear time); stops after max_parts parts.
#pragma once

#include <cstddef>
#include <string>
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
  bool prefix_lines = false;    // (exact mode) a line starts with "--" + boundary but is no
                                // delimiter: the prefix rule would split differently
  Range preamble;               // before the first delimiter (without its line break)
  Range epilogue;               // after the close delimiter line
  std::vector<Range> parts;     // each part: headers + body, without the line break that
                                // precedes the next delimiter
};

// Splits `body` on lines "--" + boundary [ "--" ] [ SP / HTAB ]* (CR)LF (or end of input). An
// empty boundary (`boundary=""`, which some readers accept) splits on "--" lines.
// Delimiters are only recognised at line starts and matched exactly (case-sensitive), so an
// outer boundary that merely starts with an inner one never matches. Without a close delimiter
// the last part runs to the end (one trailing line break dropped). Thread-safe; no allocation
// beyond the result.
// `prefix`: the delimiter-line rule of readers that only compare the start of a line (Thunderbird's
// libmime): any line that starts with "--" + boundary is a delimiter, a close one when "--"
// follows the boundary, whatever else follows.
MultipartSplit split_multipart(std::string_view body, std::string_view boundary, size_t max_parts,
                               bool prefix = false);

// Boundaries the body itself offers: for each line "--X" (X not empty after the "--" ... "--" and
// trailing whitespace are taken off), X, in order of first appearance, without duplicates; at most
// `max` (*more is set when there were others). Thread-safe; linear time.
std::vector<std::string_view> delimiter_candidates(std::string_view body, size_t max, bool *more);

}  // namespace avsink::mime
