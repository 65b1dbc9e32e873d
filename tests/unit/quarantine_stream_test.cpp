// quarantine_stream_test.cpp - entries written and read in pieces: any split decodes alike, every
// truncation and altered byte is caught, and big messages stay within a few pieces of memory.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>

#include <sys/stat.h>

#include "alloc_counter.h"
#include "core/sha256.h"
#include "quarantine/entry.h"
#include "quarantine/store.h"
#include "test_support.h"

namespace q = avsink::quarantine;

namespace {

q::Key test_key() {
  q::Key k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(i * 7 + 1);
  return k;
}

// A message of `n` bytes that is not one repeated byte (so a misplaced piece shows).
std::string make_message(size_t n) {
  std::string m(n, '\0');
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    m[i] = static_cast<char>('a' + (x >> 16) % 26);
  }
  return m;
}

q::EntryMeta meta_for(const std::string &message) {
  q::EntryMeta m;
  m.id = std::string(32, 'a');
  m.time = 1700000000;
  m.envelope.mail_from = "a@example.net";
  m.envelope.rcpt_to = {"b@example.com"};
  m.action = "quarantine";
  m.reason = "test";
  m.sha256 = avsink::sha256_hex(message);
  m.size = message.size();
  return m;
}

// Feeds `file` to a reader in pieces of `step` bytes; returns the message or the error.
avsink::Result<std::string> read_in_pieces(std::string_view file, size_t step, const q::Key *key,
                                           const std::string &id = std::string(32, 'a')) {
  std::string out;
  q::EntryReader r(id, key, [&](std::string_view d) -> avsink::Result<void> {
    out.append(d);
    return {};
  });
  for (size_t off = 0; off < file.size(); off += step)
    if (auto f = r.feed(file.substr(off, step)); !f) return f.error();
  auto m = r.finish();
  if (!m) return m.error();
  if (r.file_sha256() != avsink::sha256_hex(file))
    return avsink::make_error(avsink::ErrorCode::kInternal, "file digest differs");
  return out;
}

}  // namespace

TEST(EntryStream, AnySplitDecodesLikeTheWhole) {
  const q::Key key = test_key();
  for (const q::Key *k : {static_cast<const q::Key *>(nullptr), &key}) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{1000}, q::kStreamPiece + 3}) {
      const std::string msg = make_message(size);
      const std::string file = q::encode_entry(meta_for(msg), msg, k);
      for (size_t step : {size_t{1}, size_t{7}, size_t{4096}, file.size()}) {
        if (step == 1 && file.size() > 100000) continue;  // byte by byte only for small ones
        auto got = read_in_pieces(file, step, k);
        ASSERT_TRUE(got.ok()) << "size " << size << " step " << step << ": " << got.error().message;
        EXPECT_EQ(*got, msg);
      }
    }
  }
}

TEST(EntryStream, StreamedWriteIsTheSameFileFormat) {
  // write_entry in pieces produces what decode_entry (the one-piece reader) accepts.
  const q::Key key = test_key();
  const std::string msg = make_message(3 * q::kStreamPiece + 17);
  std::string file;
  size_t largest = 0, pieces = 0;
  auto w =
      q::write_entry(meta_for(msg), msg, &key, [&](std::string_view d) -> avsink::Result<void> {
        file.append(d);
        largest = std::max(largest, d.size());
        ++pieces;
        return {};
      });
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->size, file.size());
  EXPECT_EQ(w->sha256, avsink::sha256_hex(file));
  EXPECT_LE(largest, q::kStreamPiece + 4096) << "a piece carries more than one chunk";
  EXPECT_GE(pieces, 4u);
  auto d = q::decode_entry(file, std::string(32, 'a'), &key);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->message, msg);
}

TEST(EntryStream, EveryTruncationAndTrailingByteIsCaught) {
  const q::Key key = test_key();
  for (const q::Key *k : {static_cast<const q::Key *>(nullptr), &key}) {
    const std::string msg = make_message(5000);
    const std::string file = q::encode_entry(meta_for(msg), msg, k);
    for (size_t cut = 0; cut < file.size(); cut += (cut < 400 || file.size() - cut < 80) ? 1 : 97) {
      auto got = read_in_pieces(std::string_view(file).substr(0, cut), 333, k);
      EXPECT_FALSE(got.ok()) << "a file cut at " << cut << " of " << file.size() << " was accepted";
    }
    auto longer = read_in_pieces(file + "x", 333, k);
    ASSERT_FALSE(longer.ok());
    EXPECT_NE(longer.error().message.find("trailing"), std::string::npos);
  }
}

TEST(EntryStream, EveryAlteredByteIsCaught) {
  const q::Key key = test_key();
  for (const q::Key *k : {static_cast<const q::Key *>(nullptr), &key}) {
    const std::string msg = make_message(3000);
    const std::string file = q::encode_entry(meta_for(msg), msg, k);
    for (size_t pos = 0; pos < file.size(); ++pos) {
      std::string bad = file;
      bad[pos] = static_cast<char>(bad[pos] ^ 0x01);
      auto got = read_in_pieces(bad, 512, k);
      ASSERT_FALSE(got.ok()) << "flipped byte " << pos << " of " << file.size() << " accepted"
                             << (k ? " (encrypted)" : "");
    }
    // Another entry's file under this id (a moved or swapped file) is refused too.
    EXPECT_FALSE(read_in_pieces(file, 512, k, std::string(32, 'b')).ok());
  }
}

TEST(EntryStream, AFailedReaderStaysFailed) {
  const std::string msg = make_message(100);
  std::string file = q::encode_entry(meta_for(msg), msg, nullptr);
  file[0] = 'X';
  q::EntryReader r(std::string(32, 'a'), nullptr);
  EXPECT_FALSE(r.feed(file.substr(0, 30)).ok());
  EXPECT_FALSE(r.feed(file.substr(30)).ok());
  EXPECT_FALSE(r.finish().ok());
}

// The promise: big messages with bounded memory on write and on read. A 64 MiB message
// goes through put, a streamed read, verify, export and import; none of them may hold more than
// a few pieces (kStreamPiece = 1 MiB) besides the caller's own copy of the message.
TEST(QuarantineMemory, BigMessageStaysWithinAFewPieces) {
  avsink::test::TempDir tmp("avsink-qmem-");
  std::string key_path = tmp.write("key", std::string(64, '7') + "\n");
  ::chmod(key_path.c_str(), 0600);
  q::StoreOptions o;
  o.dir = tmp.file("store");
  o.key_file = key_path;
  auto store = q::Store::open(o, nullptr);
  ASSERT_TRUE(store.ok()) << store.error().message;
  q::StoreOptions o2 = o;
  o2.dir = tmp.file("store2");
  auto store2 = q::Store::open(o2, nullptr);
  ASSERT_TRUE(store2.ok()) << store2.error().message;

  const size_t kSize = size_t{64} << 20;
  const int64_t kBound = 8 * static_cast<int64_t>(q::kStreamPiece);
  const std::string msg = make_message(kSize);
  q::EntryMeta meta = meta_for(msg);

  auto report = [](const char *what, int64_t bytes) {
    std::printf("quarantine memory: %s of a 64 MiB message peaked at %.2f MiB\n", what,
                static_cast<double>(bytes) / (1 << 20));
  };
  std::string id;
  {
    avsink::test::PeakAlloc peak;
    auto put = (*store)->put(msg, meta);
    ASSERT_TRUE(put.ok()) << put.error().message;
    id = *put;
    EXPECT_LT(peak.peak(), kBound) << "put";
    report("put", peak.peak());
  }
  {
    avsink::test::PeakAlloc peak;
    avsink::Sha256 h;
    uint64_t n = 0;
    auto m = (*store)->read_message(id, [&](std::string_view d) -> avsink::Result<void> {
      h.update(d);
      n += d.size();
      return {};
    });
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(n, kSize);
    EXPECT_EQ(h.final_hex(), meta.sha256);
    EXPECT_LT(peak.peak(), kBound) << "streamed read";
    report("streamed read", peak.peak());
  }
  {
    avsink::test::PeakAlloc peak;
    auto v = (*store)->verify();
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->ok, 1u);
    EXPECT_LT(peak.peak(), kBound) << "verify";
    report("verify", peak.peak());
  }
  const std::string archive = tmp.file("export.tar");
  {
    avsink::test::PeakAlloc peak;
    auto e = (*store)->export_to(archive);
    ASSERT_TRUE(e.ok()) << e.error().message;
    EXPECT_LT(peak.peak(), kBound) << "export";
    report("export", peak.peak());
  }
  {
    avsink::test::PeakAlloc peak;
    auto i = (*store2)->import_from(archive);
    ASSERT_TRUE(i.ok()) << i.error().message;
    EXPECT_EQ(*i, 1u);
    EXPECT_LT(peak.peak(), kBound) << "import";
    report("import", peak.peak());
  }
  {
    // The counter sees a whole-message read for what it is (the measurement can fail).
    avsink::test::PeakAlloc peak;
    auto whole = (*store2)->message(id);
    ASSERT_TRUE(whole.ok()) << whole.error().message;
    EXPECT_EQ(whole->size(), kSize);
    EXPECT_GE(peak.peak(), static_cast<int64_t>(kSize));
  }
}
