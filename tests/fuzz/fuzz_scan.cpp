// fuzz_scan.cpp - libFuzzer target: a whole scan through the C ABI (avsink_scan_buffer).
// Invariant: every input gets a verdict or a status; a message whose decoded parts carry the test
// marker is never accepted.
#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "avsink/avsink.h"
#include "core/limits.h"
#include "fuzz_check.h"
#include "mime/parser.h"

namespace {

avsink_engine *g_engine = nullptr;

// Small limits so each input stays fast; the engine's config and the property check both use them.
avsink::Limits fuzz_limits() {
  avsink::Limits l;
  l.max_message_bytes = 1048576;
  l.max_mime_depth = 8;
  l.max_parts = 64;
  l.max_header_fields = 64;
  l.max_header_bytes = 8192;
  l.max_params = 16;
  l.max_decoded_bytes = 1048576;
  l.max_file_bytes = 262144;
  l.scan_deadline_ms = 5000;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  // A private config: shipped signatures only, and the limits above.
  char path[] = "/tmp/avsink-fuzz-scan-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) abort();
  const avsink::Limits l = fuzz_limits();
  const std::string cfg = "[clamav]\nsystem_db = false\n[limits]\nmax_message_bytes = " +
                          std::to_string(l.max_message_bytes) +
                          "\nmax_mime_depth = " + std::to_string(l.max_mime_depth) +
                          "\nmax_parts = " + std::to_string(l.max_parts) +
                          "\nmax_header_fields = " + std::to_string(l.max_header_fields) +
                          "\nmax_header_bytes = " + std::to_string(l.max_header_bytes) +
                          "\nmax_params = " + std::to_string(l.max_params) +
                          "\nmax_decoded_bytes = " + std::to_string(l.max_decoded_bytes) +
                          "\nmax_file_bytes = " + std::to_string(l.max_file_bytes) +
                          "\nscan_deadline_ms = " + std::to_string(l.scan_deadline_ms) + "\n";
  if (write(fd, cfg.data(), cfg.size()) != static_cast<ssize_t>(cfg.size())) abort();
  close(fd);
  avsink_engine_options o = AVSINK_ENGINE_OPTIONS_INIT;
  o.config_path = path;
  o.flags = AVSINK_ENGINE_DRY_RUN;
  avsink_error err = AVSINK_ERROR_INIT;
  avsink_status st = avsink_engine_open(&g_engine, &o, &err);
  unlink(path);
  if (st != AVSINK_OK) {
    fprintf(stderr, "fuzz_scan: avsink_engine_open: %s: %s\n", avsink_strerror(st), err.message);
    abort();
  }
  atexit([] { avsink_engine_free(g_engine); });  // so LeakSanitizer sees only real leaks
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const avsink_verdict *v = nullptr;
  avsink_scan *scan = nullptr;
  avsink_status st = avsink_scan_buffer(&v, &scan, g_engine, nullptr, data, size);
  if (st == AVSINK_OK) {
    FUZZ_CHECK(v != nullptr);
    avsink_action a = avsink_verdict_action(v);
    FUZZ_CHECK(a >= AVSINK_ACTION_ACCEPT && a <= AVSINK_ACTION_REWRITE);
    for (size_t i = 0; i < avsink_verdict_finding_count(v); ++i)
      FUZZ_CHECK(avsink_verdict_finding(v, i) != nullptr);
    // What avsink promises: every decoded part is scanned, so a marker in any part's body is
    // never accepted. (Not "anywhere in the raw bytes": the raw libclamav pass is defense in
    // depth only, and libclamav skips e.g. a leading ID3 tag's bytes; see docs/hostile-input.md.)
    const std::string_view raw(reinterpret_cast<const char *>(data), size);
    if (raw.find("AVSINK-TEST-MARKER-7f3c9e") != std::string_view::npos) {
      auto tree = avsink::mime::parse_message(raw, fuzz_limits());
      for (const auto &p : tree.parts)
        if (!p.is_multipart && !p.is_message &&
            p.body.find("AVSINK-TEST-MARKER-7f3c9e") != std::string::npos)
          FUZZ_CHECK(a != AVSINK_ACTION_ACCEPT);
    }
    FUZZ_CHECK(avsink_verdict_json(v)[0] == '{');
  } else {
    FUZZ_CHECK(v == nullptr);
    FUZZ_CHECK(avsink_scan_errmsg(scan) != nullptr);
  }
  avsink_scan_free(scan);
  return 0;
}
