// test_support.cpp - implementation of the unit-test helpers (paths, file reading, temp dirs).
// Tests only; failures are reported through GoogleTest, never by exiting.
#include "test_support.h"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace avsink::test {

std::string data_path(const std::string &relative) {
  return std::string(AVSINK_TEST_DATA_DIR) + "/" + relative;
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string make_temp_dir(const std::string &prefix) {
  const char *tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << tmpl;
    return {};
  }
  return tmpl;
}

TempDir::TempDir(const std::string &prefix, bool short_path) : path(make_temp_dir(prefix)) {
  if (short_path && path.size() > 60) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    std::string tmpl = "/tmp/" + prefix + "XXXXXX";
    path = mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path.empty()) std::filesystem::remove_all(path, ec);
}

std::string TempDir::file(const std::string &name) const {
  return path + "/" + name;
}

std::string TempDir::write(const std::string &name, const std::string &text) const {
  const std::string p = file(name);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.good()) ADD_FAILURE() << "cannot write " << p;
  return p;
}

double time_scale() {
  if (const char *env = std::getenv("AVSINK_TEST_TIME_SCALE"); env && *env) {
    const double v = std::strtod(env, nullptr);
    if (v > 0) return v;
  }
  return AVSINK_TEST_TIME_SCALE;
}

std::string eicar() {
  // Split so that no scanner flags this source file.
  return std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$") + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
}

std::string crlf(const std::string &s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
    out += s[i];
  }
  return out;
}

std::string base64(const std::string &in) {
  static const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(alphabet[(v >> (6 * k)) & 63]);
    if (out.size() % 78 == 76) out += "\r\n";
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  if (out.size() >= 2 && out.compare(out.size() - 2, 2, "\r\n") == 0) return out;
  return out + "\r\n";
}

uint32_t crc32(std::string_view data) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void put16(std::string &s, uint32_t v) {
  s.push_back(static_cast<char>(v & 0xFF));
  s.push_back(static_cast<char>((v >> 8) & 0xFF));
}

void put32(std::string &s, uint32_t v) {
  put16(s, v & 0xFFFF);
  put16(s, v >> 16);
}

std::string stored_zip(const std::vector<std::pair<std::string, std::string>> &members) {
  std::string local, central;
  for (const auto &[name, data] : members) {
    const uint32_t offset = static_cast<uint32_t>(local.size()), crc = crc32(data);
    const uint32_t n = static_cast<uint32_t>(name.size()), len = static_cast<uint32_t>(data.size());
    put32(local, 0x04034B50);
    for (uint32_t v : {20u, 0u, 0u, 0u, 0x5B21u}) put16(local, v);
    for (uint32_t v : {crc, len, len}) put32(local, v);
    put16(local, n);
    put16(local, 0);
    local += name + data;
    put32(central, 0x02014B50);
    for (uint32_t v : {20u, 20u, 0u, 0u, 0u, 0x5B21u}) put16(central, v);
    for (uint32_t v : {crc, len, len}) put32(central, v);
    for (uint32_t v : {n, 0u, 0u, 0u, 0u}) put16(central, v);
    put32(central, 0644u << 16);
    put32(central, offset);
    central += name;
  }
  std::string end;
  put32(end, 0x06054B50);
  put16(end, 0);
  put16(end, 0);
  put16(end, static_cast<uint32_t>(members.size()));
  put16(end, static_cast<uint32_t>(members.size()));
  put32(end, static_cast<uint32_t>(central.size()));
  put32(end, static_cast<uint32_t>(local.size()));
  put16(end, 0);
  return local + central + end;
}

void vint(std::string &s, uint64_t v) {
  do {
    unsigned char b = v & 0x7F;
    v >>= 7;
    if (v != 0) b |= 0x80;
    s += static_cast<char>(b);
  } while (v != 0);
}

// RAR 5: signature, main header, one stored file header per member, end header. volume: the
// archive flag for a volume. encrypted_headers: an archive encryption header first (rar -hp).
std::string rar5(const std::vector<RarMember> &members, bool volume, bool encrypted_headers) {
  std::string out("Rar!\x1a\x07\x01\x00", 8);
  auto header = [&out](const std::string &body /* from the header type on */) {
    std::string sized;
    vint(sized, body.size());
    sized += body;
    std::string crc;
    put32(crc, crc32(sized));
    out += crc + sized;
  };
  if (encrypted_headers) {
    std::string e;
    vint(e, 4);                    // archive encryption header
    vint(e, 0);                    // header flags
    vint(e, 0);                    // AES-256
    vint(e, 0);                    // no password check value
    e += '\x0f';                   // KDF count
    e += std::string(16, '\x5a');  // salt
    header(e);
    out += std::string(64, '\x33');  // what would be encrypted headers
    return out;
  }
  std::string main;
  vint(main, 1);  // main archive header
  vint(main, 0);
  vint(main, volume ? 1 : 0);
  header(main);
  for (const auto &m : members) {
    std::string f;
    vint(f, 2);    // file header
    vint(f, 0x2);  // header flags: data area present
    vint(f, m.data.size());
    vint(f, 0x4);  // file flags: CRC32 present
    vint(f, m.data.size());
    vint(f, 0x20);  // attributes
    put32(f, crc32(m.data));
    vint(f, 0);  // compression: version 0, method 0 (store)
    vint(f, 0);  // host OS: Windows
    vint(f, m.name.size());
    f += m.name;
    header(f);
    out += m.data;
  }
  std::string end;
  vint(end, 5);
  vint(end, 0);
  vint(end, 0);
  header(end);
  return out;
}

void tnef_attr(std::string &out, uint8_t level, uint32_t id, const std::string &value) {
  out += static_cast<char>(level);
  put32(out, id);
  put32(out, static_cast<uint32_t>(value.size()));
  out += value;
  uint16_t sum = 0;
  for (unsigned char c : value) sum = static_cast<uint16_t>(sum + c);
  put16(out, sum);
}

}  // namespace avsink::test
