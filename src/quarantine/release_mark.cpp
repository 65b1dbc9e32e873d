// release_mark.cpp - canonical digest, HMAC mark, and top-level header surgery for releases.
// Pure functions over byte strings; the header parser stops at the first empty line.
#include "quarantine/release_mark.h"

#include <array>
#include <cctype>

#include "core/sha256.h"
#include "quarantine/crypto.h"
#include "util/text.h"

namespace avsink::quarantine {

namespace {

constexpr std::array<std::string_view, 8> kSigned = {"from",
                                                     "to",
                                                     "cc",
                                                     "subject",
                                                     "mime-version",
                                                     "content-type",
                                                     "content-transfer-encoding",
                                                     "content-disposition"};

struct Field {
  std::string_view raw;  // the field's lines, line ends included
  std::string name;      // lowercased
  std::string value;     // unfolded, raw (not yet relaxed)
};

struct Split {
  std::vector<Field> fields;  // fields, plus "orphan" lines with empty name
  size_t header_end = 0;      // offset of the empty separator line ("" when none)
  size_t body_start = 0;      // offset after the separator line
};

// Splits the top-level header into fields. A line is up to and including LF.
Split split_header(std::string_view m) {
  Split s;
  size_t pos = 0;
  while (pos < m.size()) {
    size_t nl = m.find('\n', pos);
    size_t end = nl == std::string_view::npos ? m.size() : nl + 1;
    std::string_view line = m.substr(pos, end - pos);
    std::string_view content = line;
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r'))
      content.remove_suffix(1);
    if (content.empty()) {
      s.header_end = pos;
      s.body_start = end;
      return s;
    }
    if ((content[0] == ' ' || content[0] == '\t') && !s.fields.empty()) {
      Field &f = s.fields.back();
      f.raw = std::string_view(f.raw.data(), f.raw.size() + line.size());
      f.value += content;
    } else {
      Field f;
      f.raw = line;
      size_t colon = content.find(':');
      if (colon != std::string_view::npos) {
        std::string_view n = content.substr(0, colon);
        while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) n.remove_suffix(1);
        f.name = util::ascii_lower(n);
        f.value = std::string(content.substr(colon + 1));
      }
      s.fields.push_back(std::move(f));
    }
    pos = end;
  }
  s.header_end = m.size();
  s.body_start = m.size();
  return s;
}

std::string relaxed(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == '\r' || c == '\n') continue;
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string mac_input(const std::string &id, int64_t time, const std::string &digest_hex) {
  return "avsink-release-1\n" + id + "\n" + std::to_string(time) + "\n" + digest_hex;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::string release_canonical(std::string_view m) {
  Split s = split_header(m);
  std::string out = "avsink-release-canon-1\n";
  for (std::string_view name : kSigned)
    for (const Field &f : s.fields)
      if (f.name == name) out += f.name + ":" + relaxed(f.value) + "\n";
  out += "\n";
  std::string_view body = m.substr(s.body_start);
  std::string norm;
  norm.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') continue;
    norm.push_back(body[i]);
  }
  while (!norm.empty() && (norm.back() == '\n' || norm.back() == '\r')) norm.pop_back();
  out += norm;
  return out;
}

std::string release_digest_hex(std::string_view message) {
  return sha256_hex(release_canonical(message));
}

std::string make_release_mark(std::string_view secret, const std::string &id, int64_t time,
                              std::string_view message) {
  return id + "; " + std::to_string(time) + "; " +
         to_hex(hmac_sha256(secret, mac_input(id, time, release_digest_hex(message))));
}

std::optional<ParsedMark> parse_release_mark(std::string_view value) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  for (;;) {
    size_t semi = value.find(';', pos);
    parts.push_back(trim(value.substr(pos, semi == std::string_view::npos ? semi : semi - pos)));
    if (semi == std::string_view::npos) break;
    pos = semi + 1;
  }
  if (parts.size() != 3) return std::nullopt;
  ParsedMark pm;
  pm.id = std::string(parts[0]);
  if (pm.id.size() != 32) return std::nullopt;
  for (char c : pm.id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  if (parts[1].empty() || parts[1].size() > 18) return std::nullopt;
  for (char c : parts[1]) {
    if (c < '0' || c > '9') return std::nullopt;
    pm.time = pm.time * 10 + (c - '0');
  }
  pm.mac_hex = std::string(parts[2]);
  if (pm.mac_hex.size() != 64) return std::nullopt;
  for (char c : pm.mac_hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  return pm;
}

bool check_release_mark_digest(std::string_view secret, std::string_view value,
                               const std::string &digest_hex, int64_t now,
                               int64_t max_age_seconds) {
  auto pm = parse_release_mark(value);
  if (!pm) return false;
  if (pm->time > now + 300 || now - pm->time > max_age_seconds) return false;
  std::string want = to_hex(hmac_sha256(secret, mac_input(pm->id, pm->time, digest_hex)));
  return equal_ct(want, pm->mac_hex);
}

bool check_release_mark(std::string_view secret, std::string_view value, std::string_view message,
                        int64_t now, int64_t max_age_seconds) {
  return check_release_mark_digest(secret, value, release_digest_hex(message), now,
                                   max_age_seconds);
}

std::vector<std::string> header_values(std::string_view message, std::string_view name) {
  std::string want = util::ascii_lower(name);
  std::vector<std::string> out;
  for (const Field &f : split_header(message).fields)
    if (f.name == want) out.push_back(std::string(trim(relaxed(f.value))));
  return out;
}

std::string remove_header(std::string_view message, std::string_view name) {
  std::string want = util::ascii_lower(name);
  Split s = split_header(message);
  std::string out;
  out.reserve(message.size());
  for (const Field &f : s.fields)
    if (f.name != want) out.append(f.raw);
  out.append(message.substr(s.header_end));
  return out;
}

std::string prepend_header(std::string_view message, std::string_view name,
                           std::string_view value) {
  size_t nl = message.find('\n');
  bool crlf = nl != std::string_view::npos && nl > 0 && message[nl - 1] == '\r';
  std::string out(name);
  out += ": ";
  out += value;
  out += crlf ? "\r\n" : "\n";
  out.append(message);
  return out;
}

}  // namespace avsink::quarantine
