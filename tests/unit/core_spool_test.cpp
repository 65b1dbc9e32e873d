// core_spool_test.cpp - the message spool: memory, spill to file, size cap, chunking independence.
// Also checks log escaping, since both guard the boundary between attacker bytes and our state.
#include <gtest/gtest.h>

#include <string>

#include "core/log.h"
#include "core/spool.h"

namespace {

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) & 0xff);
  return s;
}

TEST(Spool, KeepsBytesInAnyChunkingInMemoryOrOnDisk) {
  struct Case {
    size_t size, threshold, chunk;
    bool want_disk;
  } cases[] = {{1000, 4096, 1, false},    {10000, 4096, 1, true}, {10000, 4096, 333, true},
               {4096, 4096, 4096, false}, {4097, 4096, 7, true},  {0, 0, 1, false}};
  for (const auto &c : cases) {
    avsink::Spool sp("", c.threshold, 1 << 30);
    std::string data = pattern(c.size);
    for (size_t off = 0; off < data.size(); off += c.chunk)
      ASSERT_TRUE(sp.append(std::string_view(data).substr(off, c.chunk)).ok());
    auto v = sp.view();
    ASSERT_TRUE(v.ok()) << v.error().describe();
    EXPECT_EQ(*v, data) << "size " << c.size << " chunk " << c.chunk;
    EXPECT_EQ(sp.on_disk(), c.want_disk) << "size " << c.size;
    EXPECT_FALSE(sp.truncated());
  }
}

TEST(Spool, CapCountsButDoesNotStore) {
  avsink::Spool sp("", 16, 100);
  std::string data = pattern(250);
  ASSERT_TRUE(sp.append(data.substr(0, 90)).ok());
  ASSERT_TRUE(sp.append(data.substr(90)).ok());
  EXPECT_TRUE(sp.truncated());
  EXPECT_EQ(sp.total_bytes(), 250u);
  EXPECT_EQ(sp.view()->size(), 100u);
}

TEST(Spool, UnwritableDirectoryIsAnIoError) {
  avsink::Spool sp("/nonexistent/avsink", 4, 1000);
  auto r = sp.append("0123456789");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, avsink::ErrorCode::kIo);
}

TEST(Log, EscapesControlBytes) {
  EXPECT_EQ(avsink::escape_for_log("a\r\nb\\c\x01"), "a\\x0d\\x0ab\\x5cc\\x01");
  std::string got;
  avsink::Logger lg([&](avsink::LogLevel, const std::string &m) { got = m; },
                    avsink::LogLevel::kWarn);
  lg.info("dropped");
  EXPECT_EQ(got, "");
  lg.warn("x\ny");
  EXPECT_EQ(got, "x\\x0ay");
}

}  // namespace
