// core_sha256_test.cpp - SHA-256 helpers against FIPS 180-2 test vectors.
// Table-driven: got/want for one-shot and incremental digests.
#include <gtest/gtest.h>

#include "core/sha256.h"

namespace {

struct Case {
  const char *input;
  const char *want;
};

TEST(Sha256, KnownVectors) {
  const Case cases[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
  };
  for (const auto &c : cases) {
    EXPECT_EQ(avsink::sha256_hex(c.input), c.want) << "input '" << c.input << "'";
    avsink::Sha256 h;
    std::string in = c.input;
    for (char ch : in) h.update(std::string_view(&ch, 1));
    EXPECT_EQ(h.final_hex(), c.want) << "incremental, input '" << c.input << "'";
  }
}

}  // namespace
