// cmd_version.cpp - `avsink version`: avsink's, libclamav's and the loaded signatures' versions.
// Also `open_engine()`, the CLI's one way to open an engine with readable errors.
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/engine_handle.h"

namespace avsink::cli {

namespace {
void log_to_stderr(void *, avsink_log_level level, const char *message) {
  static const char *kNames[] = {"debug", "info", "warning", "error", "panic"};
  std::fprintf(stderr, "avsink: %s: %s\n", kNames[level < 5 ? level : 4], message);
}
}  // namespace

EnginePtr open_engine(const std::string &config_path, uint32_t flags) {
  std::string path = config_path;
  if (path.empty()) {
    const char *env = std::getenv("AVSINK_CONFIG");
    if (env != nullptr) path = env;
  }
  avsink_engine_options opts = AVSINK_ENGINE_OPTIONS_INIT;
  opts.config_path = path.empty() ? nullptr : path.c_str();
  opts.flags = flags;
  opts.log = log_to_stderr;
  opts.log_level = AVSINK_LOG_WARN;
  avsink_error err = AVSINK_ERROR_INIT;
  avsink_engine *engine = nullptr;
  avsink_status st = avsink_engine_open(&engine, &opts, &err);
  if (st != AVSINK_OK) {
    if (err.file[0] != '\0' && err.line > 0)
      std::fprintf(stderr, "avsink: %s:%u: %s\n", err.file, err.line, err.message);
    else if (err.file[0] != '\0')
      std::fprintf(stderr, "avsink: %s: %s\n", err.file, err.message);
    else
      std::fprintf(stderr, "avsink: %s: %s\n", avsink_strerror(st), err.message);
    return nullptr;
  }
  return EnginePtr(engine);
}

int cmd_version(const Args &args) {
  std::string config;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      config = args[++i];
    } else if (args[i] == "--help") {
      std::puts("usage: avsink version [--config FILE]");
      return 0;
    } else {
      std::fprintf(stderr, "avsink version: unknown argument '%s'\n", args[i].c_str());
      return 2;
    }
  }
  std::printf("avsink %s (C ABI %u.%u)\n", avsink_version_string(), avsink_abi_version() >> 16,
              avsink_abi_version() & 0xffff);
  EnginePtr engine = open_engine(config, AVSINK_ENGINE_DRY_RUN);
  if (!engine) return 2;
  const char *info = nullptr;
  if (avsink_engine_info(&info, engine.get()) != AVSINK_OK) return 2;
  auto j = nlohmann::json::parse(info, nullptr, false);
  if (j.contains("libclamav"))
    std::printf("libclamav %s\n", j["libclamav"].get<std::string>().c_str());
  for (const auto &e : j["engines"]) {
    std::printf("engine %s: %llu signatures, database %s, generation %llu\n",
                e["name"].get<std::string>().c_str(),
                static_cast<unsigned long long>(e["signatures"].get<uint64_t>()),
                e["db_version"].get<std::string>().c_str(),
                static_cast<unsigned long long>(e["generation"].get<uint64_t>()));
    for (const auto &s : e["sources"]) std::printf("  from %s\n", s.get<std::string>().c_str());
  }
  return 0;
}

}  // namespace avsink::cli
