// cmd_status.cpp - `avsink status`: each engine's signatures, database version and age, and the
// rule/list generations, from avsink_engine_info(). Exit 1 when a required engine needs attention.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/engine_handle.h"

namespace avsink::cli {

int cmd_status(const Args &args) {
  std::string config;
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      config = args[++i];
    } else if (args[i] == "--json") {
      json = true;
    } else if (args[i] == "--help") {
      std::puts(
          "usage: avsink status [--json] [--config FILE]\n"
          "  one line per engine: signatures, database version, age, generation, state;\n"
          "  exit 1 when a required engine is failing or its database is older than\n"
          "  [clamav] max_db_age_hours");
      return 0;
    } else {
      std::fprintf(stderr, "avsink status: unknown argument '%s'\n", args[i].c_str());
      return 2;
    }
  }
  EnginePtr engine = open_engine(config, AVSINK_ENGINE_DRY_RUN);
  if (!engine) return 2;
  const char *info = nullptr;
  if (avsink_engine_info(&info, engine.get()) != AVSINK_OK) return 2;
  if (json) {
    std::printf("%s\n", info);
  }
  auto j = nlohmann::json::parse(info, nullptr, false);
  int status = 0;
  if (!json)
    std::printf("%-10s %-9s %10s  %-22s %10s %5s  %s\n", "engine", "required", "signatures",
                "database", "age", "gen", "state");
  for (const auto &e : j["engines"]) {
    bool required = e.value("required", true);
    std::string warning = e.value("warning", "");
    if (required && !warning.empty()) status = 1;
    if (json) continue;
    int64_t age = e.value("db_age_seconds", int64_t(-1));
    std::string age_text = age < 0 ? "-" : std::to_string(age / 3600) + " h";
    std::string sigs = e.value("signatures_known", true)
                           ? std::to_string(e.value("signatures", uint64_t(0)))
                           : std::string("n/a");
    std::printf("%-10s %-9s %10s  %-22s %10s %5llu  %s\n", e.value("name", "").c_str(),
                required ? "yes" : "no", sigs.c_str(), e.value("db_version", "").c_str(),
                age_text.c_str(), static_cast<unsigned long long>(e.value("generation", 0ull)),
                e.value("state", "ok").c_str());
  }
  if (!json) {
    if (j.contains("rules"))
      std::printf("rules: %llu rules, generation %llu\n",
                  static_cast<unsigned long long>(j["rules"].value("rules", 0ull)),
                  static_cast<unsigned long long>(j["rules"].value("generation", 0ull)));
    if (j.contains("attachment_lists"))
      std::printf("attachment lists: generation %llu\n",
                  static_cast<unsigned long long>(j["attachment_lists"].value("generation", 0ull)));
    for (const auto &e : j["engines"])
      if (e.contains("warning"))
        std::printf("warning: %s\n", e["warning"].get<std::string>().c_str());
  }
  return status;
}

}  // namespace avsink::cli
