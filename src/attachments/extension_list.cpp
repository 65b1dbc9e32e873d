// extension_list.cpp - parses attachment list files and builds one AttachmentLists generation.
// All-or-nothing: the first bad line fails the build; list files larger than 16 MiB are refused.
#include "attachments/extension_list.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>

#include "core/config.h"
#include "core/read_file.h"
#include "core/sha256.h"

namespace avsink::attachments {
namespace {

constexpr uint64_t kMaxListBytes = 16u << 20;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool valid_extension_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$' || c == '~' ||
         c == '!' || c == '&' || c == '{' || c == '}' || c == '-';
}

}  // namespace

Result<void> apply_list_entry(std::string_view entry, AttachmentLists *lists,
                              const std::string &file, uint32_t line) {
  const ErrorCode code = file.empty() ? ErrorCode::kConfig : ErrorCode::kRules;
  std::string_view e = trim(entry);
  const std::string shown(e);
  bool allow = false;
  if (!e.empty() && (e.front() == '+' || e.front() == '-')) {
    allow = e.front() == '-';
    e.remove_prefix(1);
  }
  std::string lower(e);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  if (lower.rfind("type:", 0) == 0) {
    const auto type = true_type_from_string(lower.substr(5));
    if (!type) {
      std::string known;
      for (TrueType t : all_true_types())
        known += (known.empty() ? "" : ", ") + std::string(to_string(t));
      return make_error(code, "unknown true type \"" + shown + "\" (known: " + known + ")", file,
                        line);
    }
    if (allow) {
      lists->blocked_types.erase(*type);
    } else {
      lists->blocked_types.insert(*type);
    }
    return {};
  }
  if (!lower.empty() && lower.front() == '.') lower.erase(0, 1);
  if (lower.empty() || lower.size() > 64 ||
      !std::all_of(lower.begin(), lower.end(), valid_extension_char)) {
    return make_error(code,
                      "bad entry \"" + shown +
                          "\": want an extension like \"exe\", \"+exe\", \"-exe\" or \"type:pe\"",
                      file, line);
  }
  if (allow) {
    lists->blocked_extensions.erase(lower);
  } else {
    lists->blocked_extensions.insert(lower);
  }
  return {};
}

Result<void> apply_list_text(std::string_view text, const std::string &file, AttachmentLists *lists,
                             std::vector<Error> *all) {
  std::optional<Error> first;
  // Returns true when parsing stops (no `all`): the first error is then the answer.
  auto fail = [&](Error e) {
    if (all != nullptr) all->push_back(e);
    if (!first) first = std::move(e);
    return all == nullptr;
  };
  uint32_t line_no = 0;
  size_t entries = 0;
  bool empty_on_purpose = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    const size_t hash = line.find('#');
    if (hash != std::string_view::npos) {
      std::string comment(line.substr(hash));
      std::transform(comment.begin(), comment.end(), comment.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
      });
      if (comment.find("empty on purpose") != std::string::npos) empty_on_purpose = true;
      line = line.substr(0, hash);
    }
    line = trim(line);
    if (line.empty()) continue;
    ++entries;  // a bad line still counts: the file is not empty
    if (line.find_first_of(" \t") != std::string_view::npos) {
      if (fail(make_error(ErrorCode::kRules,
                          "one entry per line, got \"" + std::string(line) + "\"", file, line_no)))
        return *first;
      continue;
    }
    if (line.find('\0') != std::string_view::npos) {
      if (fail(make_error(ErrorCode::kRules, "NUL byte in entry", file, line_no))) return *first;
      continue;
    }
    if (auto r = apply_list_entry(line, lists, file, line_no); !r)
      if (fail(r.error())) return *first;
  }
  if (entries == 0 && !empty_on_purpose) {
    fail(make_error(ErrorCode::kRules,
                    "no entries (a file that is empty on purpose must say so in a comment: "
                    "\"# empty on purpose\")",
                    file));
  }
  if (first) return *first;
  return {};
}

ListFileInfo stat_list_file(const std::string &path) {
  ListFileInfo info;
  info.path = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    info.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    info.size = static_cast<uint64_t>(st.st_size);
    info.inode = static_cast<uint64_t>(st.st_ino);
  }
  return info;
}

Result<AttachmentLists> build_lists(const std::vector<std::string> &files,
                                    const std::vector<std::string> &extra_blocked,
                                    const std::vector<std::string> &allowed) {
  AttachmentLists lists;
  for (const std::string &path : files) {
    ListFileInfo info = stat_list_file(path);  // before reading: a change during the read is
                                               // seen as a change by the next check
    auto read = read_regular_file(path, kMaxListBytes);
    if (!read) {
      Error e = read.error();
      e.message = "attachment list: " + e.message;
      return e;
    }
    const std::string text = std::move(*read);
    if (auto r = apply_list_text(text, path, &lists); !r) return r.error();
    info.sha256 = sha256_hex(text);
    lists.files.push_back(std::move(info));
  }
  for (const std::string &e : extra_blocked) {
    std::string_view v = trim(e);
    if (!v.empty() && (v.front() == '-' || v.front() == '+')) {
      return make_error(ErrorCode::kConfig,
                        "attachments.block entry \"" + e + "\" must not start with + or -");
    }
    if (auto r = apply_list_entry(v, &lists, "", 0); !r) {
      return make_error(ErrorCode::kConfig, "attachments.block: " + r.error().message);
    }
  }
  for (const std::string &e : allowed) {
    std::string_view v = trim(e);
    if (!v.empty() && (v.front() == '-' || v.front() == '+')) {
      return make_error(ErrorCode::kConfig,
                        "attachments.allow entry \"" + e + "\" must not start with + or -");
    }
    if (auto r = apply_list_entry("-" + std::string(v), &lists, "", 0); !r) {
      return make_error(ErrorCode::kConfig, "attachments.allow: " + r.error().message);
    }
  }
  return lists;
}

std::vector<std::string> shipped_list_files() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto &entry : std::filesystem::directory_iterator(Config::shipped_rules_dir(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("attachments-", 0) == 0 && name.size() > 5 &&
        name.compare(name.size() - 5, 5, ".list") == 0) {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace avsink::attachments
