// test_support.h - small helpers shared by the unit tests: fixture paths and file reading.
// Tests only; nothing here is part of the library.
#pragma once

#include <chrono>
#include <string>

namespace avsink::test {

// Absolute path of a file under tests/data ("eml/plain.eml" -> ".../tests/data/eml/plain.eml").
std::string data_path(const std::string &relative);
// Whole file as bytes; fails the current test (and returns "") when it cannot be read.
std::string read_file(const std::string &path);
// A fresh private directory under $TMPDIR, removed by the caller (or left for debugging).
std::string make_temp_dir(const std::string &prefix);
// The EICAR test string (68 bytes), assembled at run time so this source is not itself "infected".
std::string eicar();
// `in` in base64 as a MIME body carries it: lines of 76 characters, each ending in CRLF.
std::string base64(const std::string &in);

// The factor every fixed time bound in a unit test is multiplied by: 1 in a plain build, 3 under
// ASan+UBSan, 5 under TSan (CMake's AVSINK_TEST_TIME_SCALE); the environment variable of the same
// name overrides it (a slow machine). Bounds are there to catch hangs and blow-ups, not to time.
double time_scale();
// `d` scaled by time_scale().
template <typename Rep, typename Period>
std::chrono::milliseconds scaled(std::chrono::duration<Rep, Period> d) {
  return std::chrono::milliseconds(
      static_cast<long long>(std::chrono::duration<double, std::milli>(d).count() * time_scale()));
}

}  // namespace avsink::test
