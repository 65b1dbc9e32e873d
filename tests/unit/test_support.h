// test_support.h - small helpers shared by the unit tests: fixture paths and file reading.
// Tests only; nothing here is part of the library.
#pragma once

#include <chrono>
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
// A private directory under $TMPDIR, removed with everything in it when the object goes. With
// `short_path`, a path short enough for a unix socket inside it (falls back to /tmp).
struct TempDir {
  explicit TempDir(const std::string &prefix = "avsink-test-", bool short_path = false);
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  // path + "/" + name.
  std::string file(const std::string &name) const;
  // Writes `text` to file(name), replacing it; fails the current test when it cannot.
  std::string write(const std::string &name, const std::string &text) const;
  std::string path;
};
// The EICAR test string (68 bytes), assembled at run time so this source is not itself "infected".
std::string eicar();
// `s` with every bare LF turned into CRLF (messages are written with \n in test sources).
std::string crlf(const std::string &s);
// `in` in base64 as a MIME body carries it: lines of 76 characters, each ending in CRLF.
std::string base64(const std::string &in);
// CRC-32 (IEEE 802.3, as zip, RAR and gzip use it).
uint32_t crc32(std::string_view data);
// Little-endian 16- and 32-bit values appended to `s`.
void put16(std::string &s, uint32_t v);
void put32(std::string &s, uint32_t v);
// RAR 5 variable-length integer appended to `s`.
void vint(std::string &s, uint64_t v);
struct RarMember {
  std::string name;
  std::string data;
};
// RAR 5 (no free tool writes RAR): signature, main header, one stored file header per member
// (CRC-32 set), end header. volume: the archive's volume flag. encrypted_headers: an archive
// encryption header first (rar -hp) followed by bytes that stand for encrypted headers.
std::string rar5(const std::vector<RarMember> &members, bool volume = false,
                 bool encrypted_headers = false);
// One TNEF attribute appended to `out`: level, attribute id, length, value, checksum.
void tnef_attr(std::string &out, uint8_t level, uint32_t id, const std::string &value);
// A zip whose members (name, bytes) are stored uncompressed, with a central directory.
std::string stored_zip(const std::vector<std::pair<std::string, std::string>> &members);

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
