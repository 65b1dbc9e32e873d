// open.cpp - the backend switch: "filesystem" -> Store, "postgresql" -> PgStore; and reading
// the PostgreSQL connection string from its file.
#include "quarantine/open.h"

#include <sstream>

#include "core/read_file.h"

namespace avsink::quarantine {

Result<std::unique_ptr<Backend>> open_backend(const BackendOptions &options,
                                              std::shared_ptr<AuditLog> audit) {
  if (options.backend == "filesystem" || options.backend.empty()) {
    auto s = Store::open(options.fs, std::move(audit));
    if (!s) return s.error();
    return std::unique_ptr<Backend>(std::move(*s));
  }
  if (options.backend == "postgresql") {
    auto s = PgStore::open(options.pg, std::move(audit));
    if (!s) return s.error();
    return std::unique_ptr<Backend>(std::move(*s));
  }
  return make_error(ErrorCode::kConfig, "[quarantine] backend: unknown backend '" +
                                            options.backend +
                                            "' (want \"filesystem\" or \"postgresql\")");
}

Result<std::string> pg_conninfo(const std::string &conninfo, const std::string &file) {
  if (!conninfo.empty()) return conninfo;
  if (file.empty())
    return make_error(
        ErrorCode::kConfig,
        "[quarantine] backend = \"postgresql\" needs pg_conninfo or pg_conninfo_file");
  auto text = read_regular_file(file, 64 * 1024);
  if (!text) return make_error(ErrorCode::kConfig, text.error().message, file);
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.pop_back();
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos || line[b] == '#') continue;
    return line.substr(b);
  }
  return make_error(ErrorCode::kConfig, "no connection string in the file", file);
}

}  // namespace avsink::quarantine
