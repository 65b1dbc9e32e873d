// multipart.h - RFC 2046 §5.1.1 body splitting on "--boundary" delimiter lines.
// Visits only the lines that begin with '-' (linear time); stops after max_parts parts.
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

// The offsets of the lines of `body` that begin with '-' (lines end at LF): the only lines that
// can be delimiter lines or delimiter candidates. One pass that skips every other line at memchr
// speed; each byte is read at most three times. Thread-safe.
std::vector<size_t> dash_line_starts(std::string_view body);

// dash_line_starts() of one body, computed on first use and kept: the parser plans several
// readings of one body and splits it more than once. Borrows `body`, which must outlive it. Not
// thread-safe (one per parsing thread).
class DashLines {
 public:
  explicit DashLines(std::string_view body) : body_(body) {}
  std::string_view body() const { return body_; }
  const std::vector<size_t> &starts() const {
    if (!done_) {
      starts_ = dash_line_starts(body_);
      done_ = true;
    }
    return starts_;
  }

 private:
  std::string_view body_;
  mutable std::vector<size_t> starts_;
  mutable bool done_ = false;
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
// The same, over a body whose dash lines are known (`lines.body()` is the body split).
MultipartSplit split_multipart(const DashLines &lines, std::string_view boundary, size_t max_parts,
                               bool prefix = false);

// Boundaries the body itself offers: for each line "--X" (X not empty after the "--" ... "--" and
// trailing whitespace are taken off), X, in order of first appearance, without duplicates; at most
// `max` (*more is set when there were others). Thread-safe; linear time.
std::vector<std::string_view> delimiter_candidates(std::string_view body, size_t max, bool *more);

}  // namespace avsink::mime
