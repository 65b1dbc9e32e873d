// fuzz_config.cpp - libFuzzer target: avsink::parse_config on arbitrary TOML text.
// Invariant: never crashes or throws; an accepted config dumps to TOML that parses back the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/config.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  auto cfg = avsink::parse_config(text, "fuzz.toml");
  if (!cfg) {
    FUZZ_CHECK(cfg.error().code == avsink::ErrorCode::kConfig);
    return 0;
  }
  const std::string dumped = avsink::dump_config(cfg.value());
  auto again = avsink::parse_config(dumped, "dumped.toml");
  FUZZ_CHECK(again.ok());
  // The first line names the source file; everything after it must be identical.
  const std::string redumped = avsink::dump_config(again.value());
  FUZZ_CHECK(redumped.substr(redumped.find('\n')) == dumped.substr(dumped.find('\n')));
  return 0;
}
