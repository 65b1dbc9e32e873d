// readings.cpp - lenient parameter reading and the header-side facts behind alternate readings.
// Over-generation is harmless here: the parser keeps only candidates the body actually uses.
#include "mime/readings.h"

#include <algorithm>

#include "mime/entity.h"
#include "mime/header_words.h"

namespace avsink::mime {
namespace {

bool is_space_ctl(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

void push_unique(std::vector<std::string> *v, std::string s) {
  if (s.empty()) return;
  if (std::find(v->begin(), v->end(), s) == v->end()) v->push_back(std::move(s));
}

std::string trim_ws(std::string_view s) {
  while (!s.empty() && is_space_ctl(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space_ctl(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// Skips whitespace and comments from `i`; returns the new position.
size_t skip_cfws(std::string_view v, size_t i) {
  while (i < v.size()) {
    if (is_space_ctl(v[i])) {
      ++i;
    } else if (v[i] == '(') {
      int depth = 0;
      while (i < v.size()) {
        char c = v[i++];
        if (c == '(') ++depth;
        if (c == ')' && --depth == 0) break;
      }
    } else {
      break;
    }
  }
  return i;
}

// The values after the '=' at `i` (see lenient_param_values).
void values_at(std::string_view v, size_t i, std::vector<std::string> *out) {
  i = skip_cfws(v, i);
  if (i >= v.size()) return;
  const std::string_view rest = v.substr(i);
  const char q = rest[0];
  if (q == '"' || q == '\'') {
    // Up to the next quote as written; and with backslash escapes resolved.
    size_t close = rest.find(q, 1);
    push_unique(out, std::string(rest.substr(
                         1, close == std::string_view::npos ? rest.size() - 1 : close - 1)));
    std::string esc;
    size_t k = 1;
    for (; k < rest.size() && rest[k] != q; ++k) {
      if (rest[k] == '\\' && k + 1 < rest.size()) ++k;
      esc.push_back(rest[k]);
    }
    push_unique(out, esc);
    // Unterminated: up to the first ';' too.
    if (close == std::string_view::npos) {
      size_t semi = rest.find(';');
      push_unique(out, trim_ws(rest.substr(
                           1, semi == std::string_view::npos ? std::string_view::npos : semi - 1)));
    }
  }
  // Unquoted: up to ';', up to whitespace, up to the end; each with quotes and comments removed.
  size_t semi = rest.find(';');
  std::string to_semi = trim_ws(rest.substr(0, semi));
  size_t ws = 0;
  while (ws < rest.size() && !is_space_ctl(rest[ws]) && rest[ws] != ';') ++ws;
  const std::string to_ws(rest.substr(0, ws));
  const std::string to_end = trim_ws(rest);
  for (const std::string &s : {to_semi, to_ws, to_end}) {
    if (s.find('"') == std::string::npos && s.find('\'') == std::string::npos) push_unique(out, s);
    std::string unq;
    for (char c : s)
      if (c != '"' && c != '\'') unq.push_back(c);
    push_unique(out, trim_ws(unq));
    push_unique(out, trim_ws(strip_comments(unq)));
  }
}

// Flattens for mention checks: no quotes, backslashes, whitespace or controls.
std::string flatten(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || c == '"' || c == '\'' || c == '\\' || u == 0x7f) continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::vector<std::string> lenient_param_values(std::string_view value, std::string_view key) {
  std::vector<std::string> out;
  if (key.empty() || value.size() < key.size()) return out;
  for (size_t at = 0; at + key.size() <= value.size(); ++at) {
    bool match = true;
    for (size_t k = 0; k < key.size() && match; ++k) match = lower(value[at + k]) == key[k];
    if (!match) continue;
    // Between the key and '=': whitespace, comments and an RFC 2231 "*N*" suffix.
    size_t i = at + key.size();
    while (true) {
      i = skip_cfws(value, i);
      if (i < value.size() && (value[i] == '*' || (value[i] >= '0' && value[i] <= '9'))) {
        ++i;
        continue;
      }
      break;
    }
    if (i < value.size() && value[i] == '=') values_at(value, i + 1, &out);
  }
  return out;
}

bool HeaderReadings::mentions(std::string_view x) const {
  std::string fx = flatten(x);
  if (fx.empty()) return false;
  // A short string is a mention only right after an "=" (else "b" would be in "boundary").
  for (size_t at = flat.find(fx); at != std::string::npos; at = flat.find(fx, at + 1))
    if (fx.size() >= 6 || (at > 0 && flat[at - 1] == '=')) return true;
  return false;
}

HeaderReadings header_readings(const std::vector<HeaderField> &fields, uint32_t max_params) {
  HeaderReadings r;
  for (const HeaderField &f : fields) {
    // Only fields that may define the type (and so the boundary): "Content-Type" in any form.
    const std::string name = normalize_field_name(f.name);
    if (name.find("type") == std::string::npos) continue;
    const std::string decoded = decode_rfc2047(f.value);
    r.flat += flatten(f.value);
    r.flat.push_back('\n');
    if (decoded != f.value) {
      r.flat += flatten(decoded);
      r.flat.push_back('\n');
    }
    if (f.value.find('%') != std::string::npos) {
      r.flat += flatten(percent_decode(f.value));
      r.flat.push_back('\n');
    }
    std::string low = ascii_lower(decoded);
    if (low.find("ulti") != std::string::npos || low.find("boundary") != std::string::npos)
      r.multipart_ish = true;
    // The strict tokenizer: every boundary parameter, its recovery reading, RFC 2231 joined.
    StructuredValue sv = parse_structured(f.value, max_params);
    for (const Param &p : sv.params) {
      if (p.name.rfind("boundary", 0) != 0) continue;
      if (trim_ws(p.value).empty()) r.empty_boundary = true;
      push_unique(&r.boundaries, p.value);
      push_unique(&r.boundaries, p.alt);
    }
    ParamLookup b = find_param(sv.params, "boundary");
    if (b.found) push_unique(&r.boundaries, b.value);
    for (const auto &a : b.alternates) push_unique(&r.boundaries, a);
    // The lenient dialects, on the value as written and RFC 2047-decoded.
    for (const std::string &form : {f.value, decoded})
      for (std::string &v : lenient_param_values(form, "boundary")) push_unique(&r.boundaries, v);
  }
  // Each candidate also with trailing whitespace trimmed (RFC 2046 allows it after the delimiter).
  const size_t n = r.boundaries.size();
  for (size_t i = 0; i < n; ++i) push_unique(&r.boundaries, trim_ws(r.boundaries[i]));
  return r;
}

}  // namespace avsink::mime
