// hash_list.cpp - parses `<sha256> <name>` files into a sorted vector; scans by binary search.
// A bad file never replaces a good list: the new snapshot is published only when every file parsed.
#include "engines/hash_list.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <openssl/evp.h>

#include "core/read_file.h"
#include "core/sha256.h"
#include "core/snapshot.h"

namespace avsink::engines {
namespace {

using Digest = std::array<unsigned char, 32>;

// One hash-list file at most (a line is ~80 bytes: about three million entries).
constexpr uint64_t kMaxHashListBytes = 256ull << 20;

struct Entry {
  Digest digest{};
  std::string name;
  uint32_t file = 0;  // index into HashListSnapshot::status.sources
  uint32_t line = 0;
};

bool entry_less(const Entry &a, const Entry &b) {
  if (a.digest != b.digest) return a.digest < b.digest;
  return a.name < b.name;
}

// One loaded generation of every configured file.
struct HashListSnapshot {
  std::vector<Entry> entries;  // sorted by (digest, name), unique
  EngineStatus status;
};
using SnapshotPtr = std::shared_ptr<const HashListSnapshot>;

constexpr std::string_view kEmptyMarker = "avsink: empty";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string to_hex(const unsigned char *p, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Parses one file into `out`; Error names the file and line.
Result<SignatureSource> parse_file(const std::string &path, uint32_t file_index,
                                   std::vector<Entry> *out) {
  auto read = read_regular_file(path, kMaxHashListBytes);
  if (!read) return read.error();
  const std::string text = std::move(*read);

  SignatureSource src;
  src.path = path;
  bool empty_on_purpose = false;
  uint32_t lineno = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line = trim(std::string_view(text).substr(pos, end - pos));
    pos = end + 1;
    ++lineno;
    if (line.empty()) continue;
    if (line.front() == '#') {
      if (trim(line.substr(1)) == kEmptyMarker) empty_on_purpose = true;
      continue;
    }
    auto fail = [&](const std::string &why) {
      return make_error(ErrorCode::kConfig, why, path, lineno);
    };
    if (line.size() < 64) return fail("expected '<64 hex digits> <name>'");
    Entry e;
    for (size_t i = 0; i < 32; ++i) {
      const int hi = hex_value(line[2 * i]);
      const int lo = hex_value(line[2 * i + 1]);
      if (hi < 0 || lo < 0) {
        return fail("not a SHA-256 in hex at column " + std::to_string(2 * i + (hi < 0 ? 1 : 2)));
      }
      e.digest[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    std::string_view rest = line.substr(64);
    if (rest.empty()) return fail("missing name after the hash");
    if (rest.front() != ' ' && rest.front() != '\t') {
      return fail("the hash is longer than 64 hex digits (SHA-256 only)");
    }
    rest = trim(rest);
    if (!rest.empty() && rest.front() == '*') rest.remove_prefix(1);  // sha256sum binary mode
    if (rest.empty()) return fail("missing name after the hash");
    for (char c : rest) {
      if (c <= ' ' || c > '~') return fail("name must be printable ASCII without whitespace");
    }
    e.name = std::string(rest);
    e.file = file_index;
    e.line = lineno;
    out->push_back(std::move(e));
    ++src.signatures;
  }
  if (src.signatures == 0 && !empty_on_purpose) {
    return make_error(ErrorCode::kConfig,
                      "no entries (a list that is empty on purpose says '# avsink: empty')", path);
  }
  struct stat st {};
  const int64_t mtime = ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_mtime) : 0;
  src.files.push_back(SignatureFile{path, sha256_hex(text), mtime});
  return src;
}

Result<SnapshotPtr> build_snapshot(const HashListOptions &options, uint64_t generation) {
  if (options.files.empty()) {
    return make_error(ErrorCode::kConfig, "hash list: no file configured");
  }
  auto snap = std::make_shared<HashListSnapshot>();
  snap->status.name = "hashlist";
  snap->status.generation = generation;
  snap->status.required = options.required;
  std::string digests;
  for (size_t i = 0; i < options.files.size(); ++i) {
    auto src = parse_file(options.files[i], static_cast<uint32_t>(i), &snap->entries);
    if (!src) return src.error();
    for (const auto &f : src->files) {
      snap->status.db_time = std::max(snap->status.db_time, f.mtime);
      digests += f.sha256;
    }
    snap->status.sources.push_back(std::move(*src));
  }
  std::sort(snap->entries.begin(), snap->entries.end(), entry_less);
  snap->entries.erase(std::unique(snap->entries.begin(), snap->entries.end(),
                                  [](const Entry &a, const Entry &b) {
                                    return a.digest == b.digest && a.name == b.name;
                                  }),
                      snap->entries.end());
  snap->entries.shrink_to_fit();
  snap->status.signatures = snap->entries.size();
  snap->status.db_version = "sha256:" + sha256_hex(digests).substr(0, 12);
  return SnapshotPtr(std::move(snap));
}

}  // namespace

struct HashListEngine::Impl {
  HashListOptions options;
  Snapshot<HashListSnapshot> current;  // the generation scans use; reload() publishes the next
  std::mutex reload_mu;  // one reload at a time, so generations are strictly increasing

  SnapshotPtr snapshot() const { return current.get(); }
};

HashListEngine::HashListEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HashListEngine::~HashListEngine() = default;

HashListOptions HashListOptions::from(const Config &config) {
  HashListOptions o;
  o.files = config.hashlist_files;
  if (o.files.empty()) {
    std::error_code ec;
    for (const auto &f : std::filesystem::directory_iterator(Config::shipped_signatures_dir(), ec))
      if (f.path().extension() == ".sha256") o.files.push_back(f.path().string());
    std::sort(o.files.begin(), o.files.end());
  }
  o.required = config.hashlist_required;
  return o;
}

Result<std::unique_ptr<HashListEngine>> HashListEngine::open(const HashListOptions &options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto snap = build_snapshot(options, 1);
  if (!snap) return snap.error();
  impl->current.publish(std::move(*snap));
  return std::unique_ptr<HashListEngine>(new HashListEngine(std::move(impl)));
}

bool HashListEngine::required() const {
  return impl_->options.required;
}

const std::vector<std::string> &HashListEngine::files() const {
  return impl_->options.files;
}

Result<void> HashListEngine::reload() {
  std::lock_guard<std::mutex> lock(impl_->reload_mu);
  auto snap = build_snapshot(impl_->options, impl_->current.generation() + 1);
  if (!snap) return snap.error();
  impl_->current.publish(std::move(*snap));  // the old one lives on while a scan holds it
  return {};
}

EngineStatus HashListEngine::status() const {
  return impl_->snapshot()->status;
}

Result<Findings> HashListEngine::scan(const ScanItem &item, const Deadline &deadline) {
  Findings findings;
  auto finding = [&item](FindingKind kind, std::string name, std::string detail) {
    Finding f;
    f.kind = kind;
    f.inspector = "hashlist";
    f.name = std::move(name);
    f.part_path = std::string(item.part_path);
    f.filename = std::string(item.filename);
    f.detail = std::move(detail);
    return f;
  };
  if (deadline.expired()) {
    findings.push_back(finding(FindingKind::kUnscannable, "Limits.Exceeded.ScanTime",
                               "the scan deadline passed before the hash list was checked"));
    return findings;
  }
  if (item.data.empty()) return findings;

  Entry key;
  unsigned int len = 0;
  if (EVP_Digest(item.data.data(), item.data.size(), key.digest.data(), &len, EVP_sha256(),
                 nullptr) != 1 ||
      len != key.digest.size()) {
    return make_error(ErrorCode::kNoMemory, "hashlist: EVP_Digest(sha256) failed");
  }
  SnapshotPtr snap = impl_->snapshot();
  auto it = std::lower_bound(snap->entries.begin(), snap->entries.end(), key,
                             [](const Entry &a, const Entry &b) { return a.digest < b.digest; });
  for (; it != snap->entries.end() && it->digest == key.digest; ++it) {
    const std::string &file = snap->status.sources[it->file].path;
    findings.push_back(finding(FindingKind::kVirus, it->name,
                               "sha256 " + to_hex(key.digest.data(), key.digest.size()) +
                                   " listed in " + file + ":" + std::to_string(it->line)));
  }
  return findings;
}

}  // namespace avsink::engines
