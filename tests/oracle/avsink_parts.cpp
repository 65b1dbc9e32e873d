// avsink_parts.cpp - the differential oracle's view of avsink: runs the MIME stage on each message.
// Prints one JSON line per file: sha256 (and size) of every leaf body, every filename candidate.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/finding.h"
#include "core/limits.h"
#include "core/sha256.h"
#include "mime/parser.h"

namespace {

// Reads the whole file into *out; false when it cannot be read.
bool read_whole(const char *path, std::string *out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

nlohmann::json describe(const avsink::mime::MessageTree &tree) {
  nlohmann::json leaves = nlohmann::json::array(), names = nlohmann::json::array();
  nlohmann::json unscannable = nlohmann::json::array();
  for (const auto &p : tree.parts) {
    for (const auto &n : p.filenames) names.push_back(n);
    if (!p.filename_raw.empty()) names.push_back(p.filename_raw);
    if (p.is_multipart || p.is_message) continue;
    leaves.push_back({{"path", p.path},
                      {"sha256", avsink::sha256_hex(p.body)},
                      {"size", p.body.size()},
                      {"media_type", p.media_type}});
  }
  for (const auto &f : tree.findings)
    if (f.kind == avsink::FindingKind::kUnscannable) unscannable.push_back(f.name);
  return {{"leaves", leaves}, {"filenames", names}, {"unscannable", unscannable}};
}

}  // namespace

// usage: avsink_parts [--bodies DIR] FILE...
//   --bodies DIR: also writes each leaf body to DIR/<n>-<i> (n = file index) so the oracle can
//   look for a payload inside a bigger leaf; the JSON then names the file ("body_file").
int main(int argc, char **argv) {
  std::string bodies;
  int first = 1;
  if (argc > 2 && std::string(argv[1]) == "--bodies") {
    bodies = argv[2];
    first = 3;
  }
  if (first >= argc) {
    std::fprintf(stderr, "usage: avsink_parts [--bodies DIR] FILE...\n");
    return 2;
  }
  int rc = 0;
  for (int i = first; i < argc; ++i) {
    std::string raw;
    nlohmann::json out;
    out["file"] = argv[i];
    if (!read_whole(argv[i], &raw)) {
      out["error"] = "unreadable";
      rc = 2;
    } else {
      avsink::Limits limits;
      avsink::mime::MessageTree tree = avsink::mime::parse_message(raw, limits);
      out.update(describe(tree));
      if (!bodies.empty()) {
        size_t k = 0;
        for (const auto &p : tree.parts) {
          if (p.is_multipart || p.is_message) continue;
          std::string name = bodies + "/" + std::to_string(i - first) + "-" + std::to_string(k);
          std::ofstream(name, std::ios::binary).write(p.body.data(), p.body.size());
          out["leaves"][k++]["body_file"] = name;
        }
      }
    }
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  return rc;
}
