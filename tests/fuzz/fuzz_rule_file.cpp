// fuzz_rule_file.cpp - libFuzzer target: the rules stage's rule-file parser and its small parsers.
// Invariant: never crashes; every error names the file and a line inside the text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "rules/rule_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace avsink;  // parse_cidr, Cidr (core/cidr.h)
  using namespace avsink::rules;
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  ParseLimits lim;
  lim.max_file_bytes = 1 << 20;
  lim.max_line_bytes = 4096;
  lim.max_rules = 1000;
  lim.max_errors = 50;
  lim.pattern_max_mem = 1 << 20;
  ParsedFile f = parse_rule_text(text, "fuzz.rules", lim);
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  FUZZ_CHECK(f.errors.size() <= lim.max_errors + 1);
  for (const auto &e : f.errors) FUZZ_CHECK(e.line <= lines);
  for (const auto &r : f.rules) FUZZ_CHECK(r.line >= 1 && r.line <= lines);

  const std::string_view first = text.substr(0, std::min<size_t>(text.find('\n'), 256));
  (void)parse_expiry(first);
  (void)parse_cidr(first);
  Cidr addr;
  if (parse_client_address(first, &addr)) {
    auto net = parse_cidr(first);
    (void)(net.ok() && cidr_contains(net.value(), addr));
  }
  return 0;
}
