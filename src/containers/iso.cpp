// iso.cpp - counts the entries of an ISO 9660 image's directory trees (primary and Joliet), to
// bound what libarchive queues from them before listing a member.
#include <algorithm>
#include <deque>
#include <unordered_set>

#include "containers/declared.h"

namespace avsink::containers {
namespace {

constexpr size_t kSector = 2048;
constexpr size_t kFirstDescriptor = 16 * kSector;

// The entries of the tree whose root record starts at `root` ("." and ".." not counted), up to
// `limit` + 1. Each directory extent is read once; reading stops at `budget` bytes.
uint64_t count_tree(std::string_view d, size_t root, uint64_t block, uint64_t limit,
                    bool &past_data) {
  std::deque<std::pair<uint64_t, uint64_t>> extents{
      {load_le(d, root + 2, 4) * block, load_le(d, root + 10, 4)}};
  std::unordered_set<uint64_t> seen;
  uint64_t count = 0, budget = 4 * static_cast<uint64_t>(d.size());
  while (!extents.empty() && count <= limit) {
    const auto [at, size] = extents.front();
    extents.pop_front();
    // libarchive reads a directory ahead whole: one that runs past the data would have it
    // allocate what the record claims (3.75 GB in a crafted image).
    if (at >= d.size() || size > d.size() - at) {
      past_data = true;
      break;
    }
    if (!seen.insert(at).second) continue;
    const uint64_t end = at + size;
    if (end - at > budget) break;
    budget -= end - at;
    for (uint64_t pos = at; pos < end && count <= limit;) {
      const uint8_t len = static_cast<uint8_t>(d[pos]);
      if (len == 0) {  // the rest of this sector is padding
        pos = (pos / block + 1) * block;
        continue;
      }
      if (len < 34 || pos + len > end) break;
      const uint8_t name_len = static_cast<uint8_t>(d[pos + 32]);
      const bool self_or_parent = name_len == 1 && (d[pos + 33] == '\0' || d[pos + 33] == '\x01');
      if (!self_or_parent) {
        ++count;
        if ((static_cast<uint8_t>(d[pos + 25]) & 0x02) != 0)
          extents.emplace_back(load_le(d, pos + 2, 4) * block, load_le(d, pos + 10, 4));
      }
      pos += len;
    }
  }
  return count;
}

}  // namespace

DeclaredCheck check_iso(std::string_view d, const DeclaredLimits &lim) {
  DeclaredCheck res;
  for (size_t vd = kFirstDescriptor;
       vd + kSector <= d.size() && vd < kFirstDescriptor + 64 * kSector; vd += kSector) {
    if (d.substr(vd + 1, 5) != "CD001") break;
    const uint8_t type = static_cast<uint8_t>(d[vd]);
    if (type == 255) break;
    if (type != 1 && type != 2) continue;  // primary, or supplementary (Joliet)
    const uint64_t block = load_le(d, vd + 128, 2);
    if (block < 512 || block > 32768 || (block & (block - 1)) != 0) continue;
    bool past_data = false;
    const uint64_t files = count_tree(d, vd + 156, block, lim.max_files, past_data);
    if (past_data) {
      res.bound = DeclaredCheck::Bound::kCorrupt;
      res.detail = "ISO 9660 directory lies beyond the data";
      return res;
    }
    if (files > lim.max_files) {
      res.bound = DeclaredCheck::Bound::kFiles;
      res.detail = "ISO 9660 directories hold more than max_archive_files (" +
                   std::to_string(lim.max_files) + ") entries";
      return res;
    }
  }
  return res;
}

}  // namespace avsink::containers
