// bench_archives.cpp - the cost of archives: avsink's handling of archive attachments next to
// libclamav alone (its defaults, cache on) on the same bytes, side by side in one process.
//
//   bench_archives [--rounds N] [--count N] [--seed S] [--signatures DIR]
//
// Each round builds a fresh seeded corpus of archives (zip, docx-like zip, zip in zip, 7z,
// tar.gz, tar.zst, stored RAR 5; text and incompressible members, a few with EICAR or a banned
// name) and of messages carrying them, so libclamav's clean-file cache helps only within a
// round, as it would in production. Systems, interleaved in every round, timed by thread CPU:
//   libclamav           cl_scanmap on each archive, default engine settings, cache on
//   avsink              what avsink does per archive part: its libclamav scan (its settings, with
//                       the member walk judged by the attachment policy) + the container pass
//                       (session/container_pass.h: listing, names, members libclamav missed);
//                       a 7z is unpacked by the container pass alone (containers::read_alone())
//   avsink-no-listing   the same without the container pass (avsink before issue 13)
//   libclamav-messages  cl_scanmap on each whole message (mail parsing), defaults, cache on
//   avsink-messages     session::Scanner::scan on each whole message (the whole pipeline)
//   listing-only        containers::walk alone (list and extract, nothing scanned)
//   floor               libclamav alone (its own engine, defaults) on each archive, and on each
//                       member only avsink's listing reaches (RAR, tar.zst here), those members
//                       extracted before the clock: what any scanner that scans them must pay
// Output: one JSON object; "ratio" = avsink / libclamav (the target is <= 1.2). Detections are
// checked (EICAR found, banned names rejected); a wrong answer sets "ok": false and exit 1.
#include <archive.h>
#include <archive_entry.h>
#include <clamav.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attachments/attachment_policy.h"
#include "containers/walk.h"
#include "core/config.h"
#include "engines/clamav_lib.h"
#include "mime/message_tree.h"
#include "session/container_pass.h"
#include "session/scanner.h"

namespace {

using json = nlohmann::json;

[[noreturn]] void die(const std::string &what) {
  std::cerr << "bench_archives: " << what << "\n";
  std::exit(1);
}

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

std::string eicar() {
  return std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$") + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
}

// ---- corpus ----

struct File {
  std::string name;
  std::string data;
};

struct Sample {
  std::string kind;    // zip, docx, zipzip, 7z, tgz, tzst, rar5
  std::string name;    // the attachment name
  std::string bytes;   // the archive
  std::string expect;  // clean | infected | banned
  std::string message;
};

// Writes `files` with libarchive's writer: format and filter by name.
std::string write_archive(const std::vector<File> &files, const std::string &kind) {
  std::string out;
  archive *a = archive_write_new();
  if (kind == "7z") {
    archive_write_set_format_7zip(a);
  } else if (kind == "tgz" || kind == "tzst") {
    archive_write_set_format_pax_restricted(a);
    if (kind == "tgz") archive_write_add_filter_gzip(a);
    if (kind == "tzst") archive_write_add_filter_zstd(a);
  } else {
    archive_write_set_format_zip(a);
  }
  archive_write_set_bytes_in_last_block(a, 1);
  auto writer = [](archive *, void *buf, const void *data, size_t n) -> la_ssize_t {
    static_cast<std::string *>(buf)->append(static_cast<const char *>(data), n);
    return static_cast<la_ssize_t>(n);
  };
  if (archive_write_open2(a, &out, nullptr, writer, nullptr, nullptr) != ARCHIVE_OK)
    die(std::string("archive_write_open2: ") + archive_error_string(a));
  for (const auto &f : files) {
    archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, f.name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(f.data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 1700000000, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK)
      die(std::string("archive_write_header: ") + archive_error_string(a));
    if (!f.data.empty()) archive_write_data(a, f.data.data(), f.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

uint32_t crc32(std::string_view d) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : d) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void vint(std::string &s, uint64_t v) {
  do {
    unsigned char b = v & 0x7F;
    v >>= 7;
    if (v != 0) b |= 0x80;
    s += static_cast<char>(b);
  } while (v != 0);
}

// RAR 5 with stored members (no free RAR writer exists).
std::string rar5(const std::vector<File> &files) {
  std::string out("Rar!\x1a\x07\x01\x00", 8);
  auto header = [&out](const std::string &body) {
    std::string sized;
    vint(sized, body.size());
    sized += body;
    const uint32_t c = crc32(sized);
    for (int i = 0; i < 4; ++i) out += static_cast<char>(c >> (8 * i) & 0xFF);
    out += sized;
  };
  std::string main;
  vint(main, 1);
  vint(main, 0);
  vint(main, 0);
  header(main);
  for (const auto &f : files) {
    std::string h;
    vint(h, 2);
    vint(h, 2);
    vint(h, f.data.size());
    vint(h, 4);
    vint(h, f.data.size());
    vint(h, 0x20);
    const uint32_t c = crc32(f.data);
    for (int i = 0; i < 4; ++i) h += static_cast<char>(c >> (8 * i) & 0xFF);
    vint(h, 0);
    vint(h, 0);
    vint(h, f.name.size());
    h += f.name;
    header(h);
    out += f.data;
  }
  std::string end;
  vint(end, 5);
  vint(end, 0);
  vint(end, 0);
  header(end);
  return out;
}

std::string base64(const std::string &in) {
  static const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0, line = 0;
  auto put = [&](char c) {
    out += c;
    if (++line == 76) {
      out += "\r\n";
      line = 0;
    }
  };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint8_t(in[i]) << 16 | uint8_t(in[i + 1]) << 8 | uint8_t(in[i + 2]);
    for (int k = 3; k >= 0; --k) put(abc[v >> (6 * k) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    put(abc[v >> 18 & 63]);
    put(abc[v >> 12 & 63]);
    put(i + 1 < in.size() ? abc[v >> 6 & 63] : '=');
    put('=');
  }
  return out + "\r\n";
}

class Corpus {
 public:
  explicit Corpus(uint32_t seed) : rng_(seed) {}

  std::vector<Sample> make(int count) {
    std::vector<Sample> out;
    static const char *kinds[] = {"zip", "zip", "docx", "zipzip", "7z", "tgz", "tzst", "rar5"};
    for (int i = 0; i < count; ++i) {
      Sample s;
      s.kind = kinds[pick(8)];
      std::vector<File> files;
      const int n = 1 + static_cast<int>(pick(5));
      for (int k = 0; k < n; ++k) files.push_back(member(k));
      s.expect = "clean";
      const uint32_t roll = pick(100);
      if (roll < 4) {
        files.push_back({"sample.com", eicar()});
        s.expect = "infected";
      } else if (roll < 8) {
        files.push_back({"invoice.pdf.exe", "MZ" + text(200)});
        s.expect = "banned";
      }
      if (s.kind == "docx") {
        for (auto &f : files) f.name = "word/media/" + f.name;
        files.push_back({"[Content_Types].xml", text(1500)});
        files.push_back({"word/document.xml", text(30000)});
      }
      if (s.kind == "rar5") {
        s.bytes = rar5(files);
      } else if (s.kind == "zipzip") {
        s.bytes = write_archive({{"inner.zip", write_archive(files, "zip")}, member(9)}, "zip");
      } else {
        s.bytes = write_archive(files, s.kind == "docx" ? "zip" : s.kind);
      }
      static const std::pair<const char *, const char *> ext[] = {
          {"zip", ".zip"},    {"docx", ".docx"},    {"zipzip", ".zip"}, {"7z", ".7z"},
          {"tgz", ".tar.gz"}, {"tzst", ".tar.zst"}, {"rar5", ".rar"}};
      for (const auto &[k, e] : ext)
        if (s.kind == k) s.name = "attachment" + std::to_string(i) + e;
      s.message = "From: a@example.org\r\nTo: b@example.org\r\nSubject: files " +
                  std::to_string(i) +
                  "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                  "--b\r\nContent-Type: text/plain\r\n\r\n" +
                  text(400) +
                  "\r\n--b\r\nContent-Type: application/octet-stream\r\n"
                  "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; "
                  "filename=\"" +
                  s.name + "\"\r\n\r\n" + base64(s.bytes) + "--b--\r\n";
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  uint32_t pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }
  std::string text(size_t n) {
    static const char *words[] = {"report",    "invoice", "meeting", "budget", "the",      "and",
                                  "quarterly", "figures", "please",  "review", "attached", "team"};
    std::string s;
    while (s.size() < n) s += std::string(words[pick(12)]) + (pick(12) == 0 ? ".\n" : " ");
    return s.substr(0, n);
  }
  File member(int k) {
    if (pick(3) == 0) {  // incompressible, like an image
      std::string b(2048 + pick(60000), '\0');
      for (auto &c : b) c = static_cast<char>(pick(256));
      return {"image" + std::to_string(k) + ".png", b};
    }
    return {"notes" + std::to_string(k) + ".txt", text(2000 + pick(100000))};
  }
  std::mt19937 rng_;
};

// ---- systems ----

class DefaultLibclamav {
 public:
  explicit DefaultLibclamav(const std::string &sigdir) {
    engine_ = cl_engine_new();  // every setting at its default; the cache stays on
    unsigned int sigs = 0;
    if (cl_load(sigdir.c_str(), engine_, &sigs, CL_DB_STDOPT) != CL_SUCCESS) die("cl_load");
    if (cl_engine_compile(engine_) != CL_SUCCESS) die("cl_engine_compile");
    opts_.parse = ~0u;  // clamscan's defaults: every parser, heuristics on
    opts_.general = CL_SCAN_GENERAL_HEURISTICS;
  }
  ~DefaultLibclamav() { cl_engine_free(engine_); }
  DefaultLibclamav(const DefaultLibclamav &) = delete;  // owns the engine
  DefaultLibclamav &operator=(const DefaultLibclamav &) = delete;
  bool infected(const std::string &data) const {
    cl_fmap_t *map = cl_fmap_open_memory(data.data(), data.size());
    const char *virname = nullptr;
    unsigned long scanned = 0;
    struct cl_scan_options o = opts_;
    cl_error_t rc = cl_scanmap_callback(map, nullptr, &virname, &scanned, engine_, &o, nullptr);
    cl_fmap_close(map);
    return rc == CL_VIRUS;
  }

 private:
  cl_engine *engine_ = nullptr;
  struct cl_scan_options opts_ {};
};

struct Timing {
  std::vector<double> rounds;
  double median() const {
    std::vector<double> r = rounds;
    std::sort(r.begin(), r.end());
    return r.empty() ? 0 : r[r.size() / 2];
  }
};

}  // namespace

int main(int argc, char **argv) {
  int rounds = 5, count = 200;
  uint32_t seed = 20261203;
  std::string sigdir = AVSINK_BENCH_SIGNATURES_DIR;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (a == "--count")
      count = std::atoi(argv[i + 1]);
    else if (a == "--seed")
      seed = static_cast<uint32_t>(std::atol(argv[i + 1]));
    else if (a == "--signatures")
      sigdir = argv[i + 1];
    else
      die("unknown argument " + a);
  }
  if (cl_init(CL_INIT_DEFAULT) != CL_SUCCESS) die("cl_init");
  // Two engines: one shared cache would let the message scans warm it for the archive scans.
  DefaultLibclamav plain(sigdir), plain_messages(sigdir), plain_floor(sigdir);

  avsink::Config cfg;
  cfg.system_db = false;
  cfg.signature_dirs = {sigdir};
  cfg.watch_files = false;
  cfg.clamav_watch = false;
  cfg.part_threads = 1;  // timed by this thread's CPU: every part must run on it
  auto scanner = avsink::session::Scanner::open(cfg, avsink::Logger(), true);
  if (!scanner) die(scanner.error().describe());
  avsink::engines::ClamavOptions co;
  co.signature_dirs = {sigdir};
  co.load_system_db = false;
  co.limits = cfg.limits;
  auto clamav = avsink::engines::ClamavEngine::open(co);
  if (!clamav) die(clamav.error().describe());
  avsink::attachments::AttachmentOptions ao;
  ao.watch = false;
  auto policy = avsink::attachments::AttachmentPolicy::open(ao, nullptr);
  if (!policy) die(policy.error().describe());

  // What avsink does for one archive part (session/scanner.cpp, scan_parts): libclamav's walk
  // with the policy on each member, then (unless `listing` is false) the container pass.
  const avsink::Deadline deadline;
  std::map<std::string, uint64_t> handed_over;  // bytes the container pass gave libclamav, by kind
  std::vector<std::string> *capture = nullptr;  // set: also keep those bytes (the floor's members)
  auto avsink_part = [&](const Sample &s, bool listing, avsink::Findings &out) {
    avsink::mime::Part part;
    part.path = "1.2";
    part.filenames = {s.name};
    part.body = s.bytes;
    avsink::Findings members;
    avsink::session::SeenMembers seen;
    avsink::engines::ScanItem item;
    item.data = part.body;
    item.part_path = part.path;
    item.filename = s.name;
    item.members_read_by_caller = listing && avsink::containers::read_alone(part.body);
    item.on_member = [&](const avsink::engines::ContainerMember &m) {
      seen.add(m.data);
      return (*policy)->on_member(part, m, members);
    };
    auto r = (*clamav)->scan(item, deadline);
    if (r) out.insert(out.end(), r->begin(), r->end());
    if (listing) {
      avsink::session::ContainerPassContext ctx;
      ctx.limits = &cfg.limits;
      ctx.deadline = &deadline;
      ctx.policy = policy->get();
      ctx.walker_engine = clamav->get();
      ctx.member_engines = {clamav->get()};
      ctx.scan_one = [&](avsink::engines::Engine &e, const avsink::engines::ScanItem &it,
                         avsink::Findings &found) {
        if (capture != nullptr) {
          capture->emplace_back(it.data);
          return true;  // not timed, not scanned: only collected
        }
        handed_over[s.kind] += it.data.size();
        auto fr = e.scan(it, deadline);
        if (fr) found.insert(found.end(), fr->begin(), fr->end());
        return fr.ok();
      };
      avsink::session::scan_part_containers(ctx, part, seen, members, out);
    }
    out.insert(out.end(), members.begin(), members.end());
  };

  const char *names[] = {
      "libclamav",    "avsink", "avsink-no-listing", "libclamav-messages", "avsink-messages",
      "listing-only", "floor"};
  constexpr int kSystems = 7;
  Timing t[kSystems];
  bool ok = true;
  json problems = json::array();
  std::map<std::string, std::array<double, kSystems>> by_kind;  // CPU ms over all rounds
  uint64_t archive_bytes = 0, message_bytes = 0;
  for (int r = 0; r < rounds; ++r) {
    Corpus corpus(seed + static_cast<uint32_t>(r));
    const std::vector<Sample> samples = corpus.make(count);
    // The floor's members: what the container pass would hand libclamav, collected untimed.
    std::vector<std::vector<std::string>> missed(samples.size());
    for (size_t i = 0; i < samples.size(); ++i) {
      avsink::Findings ignored;
      capture = &missed[i];
      avsink_part(samples[i], true, ignored);
      capture = nullptr;
    }
    for (const auto &s : samples) {
      archive_bytes += s.bytes.size();
      message_bytes += s.message.size();
    }
    // The order of systems rotates per round, so none always runs first (warm caches).
    for (int k = 0; k < kSystems; ++k) {
      const int sys = (k + r) % kSystems;
      const double start = thread_cpu_ms();
      for (size_t si = 0; si < samples.size(); ++si) {
        const Sample &s = samples[si];
        const double sample_start = thread_cpu_ms();
        bool infected = false, blocked = false;
        if (sys == 0) {
          infected = plain.infected(s.bytes);
        } else if (sys == 1 || sys == 2) {
          avsink::Findings f;
          avsink_part(s, sys == 1, f);
          for (const auto &x : f) {
            infected |= x.kind == avsink::FindingKind::kVirus;
            blocked |= x.kind == avsink::FindingKind::kBannedAttachment;
          }
        } else if (sys == 6) {
          infected = plain_floor.infected(s.bytes);
          for (const auto &m : missed[si]) infected |= plain_floor.infected(m);
        } else if (sys == 3) {
          infected = plain_messages.infected(s.message);
        } else if (sys == 5) {
          (void)avsink::containers::walk(s.bytes, cfg.limits, deadline,
                                         [](const avsink::containers::Member &) {});
        } else {
          avsink::session::RawMessage raw{s.message, s.message.size()};
          auto v = (*scanner)->scan(avsink::Envelope{}, raw);
          if (!v) die(v.error().describe());
          for (const auto &x : v->findings) {
            infected |= x.kind == avsink::FindingKind::kVirus;
            blocked |= x.kind == avsink::FindingKind::kBannedAttachment;
          }
        }
        // libclamav cannot read RAR or tar.zst here; avsink must find everything.
        const bool avsink_sys = sys == 1 || sys == 4;
        const bool want_virus = s.expect == "infected";
        const bool want_block = s.expect == "banned" || want_virus;
        bool wrong = false;
        if (avsink_sys) wrong = infected != want_virus || (want_block && !(infected || blocked));
        if (!avsink_sys && !want_virus && infected) wrong = true;
        if (sys == 6 && infected != want_virus) wrong = true;  // the floor judges no names
        if (wrong) {
          ok = false;
          problems.push_back({{"system", names[sys]}, {"sample", s.name}, {"expect", s.expect}});
        }
        by_kind[s.kind][sys] += thread_cpu_ms() - sample_start;
      }
      t[sys].rounds.push_back(thread_cpu_ms() - start);
    }
  }
  json out;
  out["rounds"] = rounds;
  out["archives_per_round"] = count;
  out["archive_mib_per_round"] = archive_bytes / double(rounds) / (1 << 20);
  out["message_mib_per_round"] = message_bytes / double(rounds) / (1 << 20);
  for (int k = 0; k < kSystems; ++k) out["cpu_ms_median"][names[k]] = t[k].median();
  out["ratio"] = t[1].median() / t[0].median();
  out["ratio_no_listing"] = t[2].median() / t[0].median();
  out["ratio_messages"] = t[4].median() / t[3].median();
  // The least any scanner pays that scans the members libclamav alone never reads.
  out["ratio_floor"] = t[6].median() / t[0].median();
  out["target"] = 1.2;
  // Per archive kind: avsink / libclamav. RAR and tar.zst are formats this libclamav does not
  // unpack: there it scans the container's bytes only, and avsink scans the members too.
  for (const auto &[kind, ms] : by_kind) {
    out["ratio_by_kind"][kind] = ms[1] / ms[0];
    out["listing_share_by_kind"][kind] = (ms[1] - ms[2]) / ms[0];
    out["floor_by_kind"][kind] = ms[6] / ms[0];
    for (int k = 0; k < kSystems; ++k)
      out["cpu_ms_per_round_by_kind"][kind][names[k]] = ms[k] / rounds;
  }
  for (const auto &[kind, bytes] : handed_over)
    out["member_mib_handed_to_libclamav_per_round"][kind] = bytes / double(rounds) / (1 << 20);
  out["ok"] = ok;
  if (!problems.empty()) out["wrong"] = problems;
  std::cout << out.dump(2) << "\n";
  return ok ? 0 : 1;
}
