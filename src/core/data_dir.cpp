// data_dir.cpp - finds the shipped data directory from the location of the code itself (dladdr),
// so an installed copy reads its own prefix's data and a build tree reads the source tree.
#include "core/data_dir.h"

#include <dlfcn.h>
#include <link.h>

#include <filesystem>
#include <system_error>

namespace avsink {

namespace {

bool is_under(const std::filesystem::path &p, const std::filesystem::path &dir) {
  auto pi = p.begin();
  for (auto di = dir.begin(); di != dir.end(); ++di, ++pi) {
    if (di->empty()) continue;  // a trailing '/'
    if (pi == p.end() || *pi != *di) return false;
  }
  return true;
}

std::filesystem::path canonical_or_same(const std::filesystem::path &p) {
  std::error_code ec;
  auto c = std::filesystem::weakly_canonical(p, ec);
  return ec ? p.lexically_normal() : c;
}

}  // namespace

std::string shipped_data_dir_for(const std::string &object, bool in_main_program) {
  const std::filesystem::path obj = canonical_or_same(object);
  if (is_under(obj, canonical_or_same(AVSINK_BUILD_DIR))) return AVSINK_SOURCE_TREE_DIR;
  // The installed library lives in LIBDIR, the CLI (linked statically) in BINDIR.
  const char *rel = in_main_program ? AVSINK_DATADIR_FROM_BINDIR : AVSINK_DATADIR_FROM_LIBDIR;
  return (obj.parent_path() / rel).lexically_normal().string();
}

const std::string &shipped_data_dir() {
  static const std::string dir = [] {
    Dl_info info{};
    link_map *map = nullptr;
    if (::dladdr1(reinterpret_cast<void *>(&shipped_data_dir_for), &info,
                  reinterpret_cast<void **>(&map), RTLD_DL_LINKMAP) == 0 ||
        map == nullptr) {
      return std::string(AVSINK_CONFIGURED_DATA_DIR);
    }
    // The main program's link map has an empty name (dladdr would give argv[0]).
    const bool main_program = map->l_name == nullptr || map->l_name[0] == '\0';
    std::string object;
    if (main_program) {
      std::error_code ec;
      object = std::filesystem::read_symlink("/proc/self/exe", ec).string();
      if (ec) return std::string(AVSINK_CONFIGURED_DATA_DIR);
    } else {
      object = map->l_name;
    }
    return shipped_data_dir_for(object, main_program);
  }();
  return dir;
}

}  // namespace avsink
