// core_read_file_test.cpp - read_regular_file(): regular files only, never blocking, capped.
// Issue 14 item 6: a FIFO used to hang the reader, /dev/zero to grow until memory ran out.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "core/read_file.h"
#include "test_support.h"

namespace {

using avsink::ErrorCode;
using avsink::read_regular_file;

struct Dir {
  std::string path = avsink::test::make_temp_dir("avsink-readfile-");
  ~Dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string &name, const std::string &content) const {
    std::ofstream(path + "/" + name, std::ios::binary) << content;
    return path + "/" + name;
  }
};

// Runs read_regular_file on another thread; a call still blocked after 3 s fails the test and is
// released by opening `fifo` for writing (so the test ends either way).
avsink::Result<std::string> bounded_read(const std::string &path, uint64_t cap,
                                         const std::string &fifo = "") {
  auto fut = std::async(std::launch::async, [=] { return read_regular_file(path, cap); });
  if (fut.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
    ADD_FAILURE() << path << ": read_regular_file blocked for 3 s";
    if (!fifo.empty()) {
      int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (w >= 0) ::close(w);
    }
  }
  return fut.get();
}

TEST(ReadRegularFile, RefusesWhatIsNotARegularFileWithoutBlocking) {
  Dir d;
  const std::string fifo = d.path + "/rules.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  struct Case {
    const char *label;
    std::string path;
    ErrorCode want_code;
    const char *want;
  };
  const Case cases[] = {
      {"fifo without a writer", fifo, ErrorCode::kIo, "not a regular file (a FIFO)"},
      {"/dev/zero", "/dev/zero", ErrorCode::kIo, "not a regular file (a character device)"},
      {"directory", d.path, ErrorCode::kIo, "not a regular file (a directory)"},
      {"missing", d.path + "/none", ErrorCode::kIo, "cannot open: No such file or directory"},
  };
  for (const auto &c : cases) {
    auto r = bounded_read(c.path, 1 << 20, fifo);
    ASSERT_FALSE(r) << c.label << ": got " << r->size() << " bytes, want an error";
    EXPECT_EQ(r.error().code, c.want_code) << c.label;
    EXPECT_EQ(r.error().message, c.want) << c.label;
    EXPECT_EQ(r.error().file, c.path) << c.label << ": the error names the file";
  }
}

TEST(ReadRegularFile, CapAtLimitMinusOneLimitAndPlusOne) {
  Dir d;
  const uint64_t cap = 100;
  for (uint64_t size : {cap - 1, cap, cap + 1}) {
    const std::string p = d.file("f" + std::to_string(size), std::string(size, 'x'));
    auto r = read_regular_file(p, cap);
    if (size <= cap) {
      ASSERT_TRUE(r) << size << ": " << r.error().describe();
      EXPECT_EQ(r->size(), size);
    } else {
      ASSERT_FALSE(r) << size << ": read, want an error";
      EXPECT_EQ(r.error().code, ErrorCode::kLimit);
      EXPECT_EQ(r.error().message, "larger than 100 bytes");
    }
  }
  // Larger than one read buffer, streamed in chunks and returned whole; st_out filled.
  const std::string big(300000, 'y');
  struct stat st {};
  auto r = read_regular_file(d.file("big", big), 1 << 20, &st);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_TRUE(*r == big);
  EXPECT_EQ(st.st_size, 300000);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  // A symlink to a regular file is followed (operators link rule files into place).
  ASSERT_EQ(::symlink((d.path + "/big").c_str(), (d.path + "/link").c_str()), 0);
  EXPECT_TRUE(read_regular_file(d.path + "/link", 1 << 20));
  ASSERT_EQ(::symlink("/dev/zero", (d.path + "/zero").c_str()), 0);
  EXPECT_FALSE(read_regular_file(d.path + "/zero", 1 << 20));
}

}  // namespace
