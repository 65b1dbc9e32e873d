// protocol.cpp - avsink-smtpd's byte rules: command lines, the DATA state machine, path arguments,
// and the relayed message's header block. No I/O here.
#include "protocol.h"

#include <strings.h>

#include <cctype>
#include <map>

#include "avsink/avsink.h"

namespace avsink::smtpd {

LineResult take_line(std::string_view in, size_t max_len, std::string *line, size_t *consumed) {
  size_t lf = in.find('\n');
  if (lf == std::string_view::npos)
    return in.size() > max_len ? LineResult::kTooLong : LineResult::kNone;
  *consumed = lf + 1;
  if (lf + 1 > max_len) return LineResult::kTooLong;
  if (lf == 0 || in[lf - 1] != '\r') return LineResult::kBareLf;
  std::string_view l = in.substr(0, lf - 1);
  if (l.find('\r') != std::string_view::npos) return LineResult::kBareLf;
  line->assign(l);
  return LineResult::kLine;
}

DataReader::DataReader(uint64_t max_size, size_t max_line)
    : max_size_(max_size), max_line_(max_line) {}

void DataReader::put(char c) {
  ++size_;
  if (size_ > max_size_) {
    oversize_ = true;
    return;
  }
  msg_.push_back(c);
}

size_t DataReader::feed(std::string_view in) {
  size_t i = 0;
  for (; i < in.size() && !done_; ++i) {
    const char c = in[i];
    if (cr_) {
      cr_ = false;
      if (c == '\n') {
        // CRLF: a line end. After a line that was only ".", it is the end of data.
        if (pos_ == 1) {
          done_ = true;
          continue;
        }
        put('\r');
        put('\n');
        pos_ = 0;
        line_len_ = 0;
        continue;
      }
      // A bare CR: content, refused at the end. A line of "." followed by a bare CR is content.
      bare_eol_ = true;
      if (pos_ == 1) put('.');
      put('\r');
      pos_ = 2;
      ++line_len_;
    }
    if (c == '\r') {
      cr_ = true;
      continue;
    }
    if (c == '\n') {
      // A bare LF: content (never a line end, never part of an end of data), refused at the end.
      bare_eol_ = true;
      if (pos_ == 1) put('.');
      put('\n');
      pos_ = 2;
      ++line_len_;
      continue;
    }
    if (pos_ == 0 && c == '.') {
      pos_ = 1;  // the stuffing dot: dropped whether or not this line ends the data
      continue;
    }
    if (pos_ == 1) pos_ = 2;  // "." then more: the dot was stuffing, this is the content
    pos_ = 2;
    put(c);
    if (++line_len_ > max_line_) overlong_ = true;
  }
  return i;
}

namespace {

bool bad_path_char(char c) {
  return c == '\r' || c == '\n' || c == '\0' || c == '<' || c == '>' || c == ' ' || c == '\t';
}

std::string upper(std::string_view s) {
  std::string o(s);
  for (char &c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return o;
}

// xtext (RFC 3461): "+HH" is a byte.
bool xtext_decode(std::string_view in, std::string *out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      if (i + 2 >= in.size()) return false;
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      int a = hex(in[i + 1]), b = hex(in[i + 2]);
      if (a < 0 || b < 0) return false;
      out->push_back(static_cast<char>(a * 16 + b));
      i += 2;
    } else {
      out->push_back(in[i]);
    }
  }
  return true;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

std::string parse_path_arg(std::string_view arg, std::string_view keyword, PathArg *out) {
  out->address.clear();
  out->params.clear();
  if (arg.size() < keyword.size() + 1 ||
      strncasecmp(arg.data(), keyword.data(), keyword.size()) != 0 || arg[keyword.size()] != ':')
    return "syntax: expected " + std::string(keyword) + ":<address>";
  arg.remove_prefix(keyword.size() + 1);
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  if (arg.empty() || arg.front() != '<') return "syntax: the address must be in <>";
  size_t close = arg.find('>');
  if (close == std::string_view::npos) return "syntax: missing >";
  std::string_view path = arg.substr(1, close - 1);
  for (char c : path)
    if (bad_path_char(c)) return "syntax: bad character in the address";
  if (path.size() > 512) return "the address is longer than 512 bytes";
  if (!path.empty() && path.front() == '@') {  // source route: <@a,@b:user@host>
    size_t colon = path.find(':');
    if (colon == std::string_view::npos) return "syntax: bad source route";
    path.remove_prefix(colon + 1);
  }
  out->address.assign(path);
  std::string_view rest = arg.substr(close + 1);
  if (!rest.empty() && rest.front() != ' ') return "syntax: expected a space after >";
  for (std::string_view w : words(rest)) {
    size_t eq = w.find('=');
    std::string key = upper(w.substr(0, eq));
    if (key.empty()) return "syntax: empty parameter";
    for (char c : key)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-'))
        return "syntax: bad parameter name";
    out->params.emplace_back(key,
                             eq == std::string_view::npos ? "" : std::string(w.substr(eq + 1)));
  }
  return "";
}

std::string parse_attributes(std::string_view arg,
                             std::vector<std::pair<std::string, std::string>> *out) {
  out->clear();
  auto ws = words(arg);
  if (ws.empty()) return "syntax: no attributes";
  for (std::string_view w : ws) {
    size_t eq = w.find('=');
    if (eq == std::string_view::npos || eq == 0) return "syntax: expected NAME=value";
    std::string value;
    if (!xtext_decode(w.substr(eq + 1), &value)) return "syntax: bad xtext";
    for (char c : value)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "syntax: control character";
    if (value == "[UNAVAILABLE]" || value == "[TEMPUNAVAIL]") value.clear();
    out->emplace_back(upper(w.substr(0, eq)), value);
  }
  return "";
}

namespace {

// Calls f(name, begin, end) for each field of the top header block (end includes its CRLF and
// folded lines). Returns the offset where the header block ends (the empty line, or the size).
template <typename F>
size_t for_each_field(std::string_view m, F f) {
  size_t i = 0;
  while (i < m.size()) {
    if (m[i] == '\r' || m[i] == '\n') return i;  // the empty line
    size_t colon = m.find(':', i);
    size_t eol = m.find('\n', i);
    if (colon == std::string_view::npos || (eol != std::string_view::npos && colon > eol))
      return i;  // not a header line: the body starts here (no empty line)
    size_t end = eol == std::string_view::npos ? m.size() : eol + 1;
    while (end < m.size() && (m[end] == ' ' || m[end] == '\t')) {
      size_t next = m.find('\n', end);
      end = next == std::string_view::npos ? m.size() : next + 1;
    }
    std::string_view name = m.substr(i, colon - i);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    f(name, i, end);
    i = end;
  }
  return i;
}

}  // namespace

std::optional<std::string> prepare_message(
    std::string_view received, const std::vector<HeaderEdit> &edits,
    const std::vector<std::pair<std::string, std::string>> &headers,
    std::optional<std::string_view> body) {
  auto lower = [](std::string_view v) {
    std::string k(v);
    for (char &c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return k;
  };
  // "Name:" + value with its folds as CRLF, and the closing CRLF.
  auto field = [](const std::string &name, const std::string &value) {
    std::string f = name + ":";
    for (char c : value) {
      if (c == '\r' || c == '\0') continue;
      if (c == '\n') f += '\r';
      f += c;
    }
    return f + "\r\n";
  };
  std::map<std::pair<std::string, uint32_t>, const HeaderEdit *> by_occurrence;
  for (const HeaderEdit &e : edits) {
    if (e.kind == AVSINK_HEADER_CHANGE || e.kind == AVSINK_HEADER_DELETE)
      by_occurrence[{lower(e.name), e.index}] = &e;
    else if (e.kind != AVSINK_HEADER_ADD)
      return std::nullopt;
  }
  std::string out;
  out.reserve(received.size() + 256);
  for (const auto &h : headers) {
    out += h.first;
    out += ": ";
    for (char c : h.second)
      if (c != '\r' && c != '\n' && c != '\0') out.push_back(c);
    out += "\r\n";
  }
  std::map<std::string, uint32_t> seen;  // lower-cased name -> occurrences so far
  const size_t block_end =
      for_each_field(received, [&](std::string_view name, size_t begin, size_t end) {
        const std::string k = lower(name);
        auto it = by_occurrence.find({k, ++seen[k]});
        if (it == by_occurrence.end())
          out.append(received.substr(begin, end - begin));
        else if (it->second->kind == AVSINK_HEADER_CHANGE)
          out += field(std::string(name), it->second->value);
      });
  for (const HeaderEdit &e : edits)
    if (e.kind == AVSINK_HEADER_ADD) out += field(e.name, e.value);
  if (body) {
    out += "\r\n";
    out.append(*body);
  } else {
    out.append(received.substr(block_end));
  }
  return out;
}

std::string reply_text(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 400)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (out.empty()) out = "-";
  return out;
}

}  // namespace avsink::smtpd
