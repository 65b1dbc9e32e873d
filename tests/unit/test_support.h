// test_support.h - small helpers shared by the unit tests: fixture paths and file reading.
// Tests only; nothing here is part of the library.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
// CRC-32 (IEEE 802.3, as zip, RAR and gzip use it).
uint32_t crc32(std::string_view data);
// Little-endian 16- and 32-bit values appended to `s`.
void put16(std::string &s, uint32_t v);
void put32(std::string &s, uint32_t v);
// A zip whose members (name, bytes) are stored uncompressed, with a central directory.
std::string stored_zip(const std::vector<std::pair<std::string, std::string>> &members);

}  // namespace avsink::test
