// fuzz_containers.cpp - libFuzzer target: the container walk (libarchive formats and the TNEF
// reader). Invariant: limits hold (members, bytes, depth) and member views lie inside their data.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "containers/tnef.h"
#include "containers/walk.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view in(reinterpret_cast<const char *>(data), size);
  avsink::Limits limits;
  limits.max_archive_files = 64;
  limits.max_archive_recursion = 6;
  limits.max_file_bytes = 1 << 20;
  limits.max_decoded_bytes = 4 << 20;
  uint32_t visited = 0;
  uint64_t sum = 0;
  const auto r = avsink::containers::walk(in, limits, avsink::Deadline(),
                                          [&](const avsink::containers::Member &m) {
                                            ++visited;
                                            FUZZ_CHECK(m.depth >= 1);
                                            FUZZ_CHECK(m.depth < limits.max_archive_recursion);
                                            FUZZ_CHECK(m.data.size() <= limits.max_file_bytes);
                                            FUZZ_CHECK(m.extracted || m.data.empty());
                                            for (char c : m.data) sum += static_cast<uint8_t>(c);
                                          });
  FUZZ_CHECK(visited == r.members);
  FUZZ_CHECK(r.members <= limits.max_archive_files);
  FUZZ_CHECK(r.bytes <= limits.max_decoded_bytes);
  const auto t = avsink::containers::read_tnef(in);
  for (const auto &a : t.attachments) {
    if (a.data.empty()) continue;
    FUZZ_CHECK(a.data.data() >= in.data() && a.data.data() + a.data.size() <= in.data() + size);
  }
  return static_cast<int>(sum & 0);
}
