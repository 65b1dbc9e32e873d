// test_support.cpp - implementation of the unit-test helpers (paths, file reading, temp dirs).
// Tests only; failures are reported through GoogleTest, never by exiting.
#include "test_support.h"

#include <cstdint>
#include <cstdlib>
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

std::string eicar() {
  // Split so that no scanner flags this source file.
  return std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$") + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
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

}  // namespace avsink::test
