// test_support.h - small helpers shared by the unit tests: fixture paths and file reading.
// Tests only; nothing here is part of the library.
#pragma once

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

}  // namespace avsink::test
