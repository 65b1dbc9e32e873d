// protocol.cpp - avsink-smtpd's byte rules: command lines, the DATA state machine, path arguments,
// and the relayed message's header block. No I/O here.
#include "protocol.h"

#include "smtp/client.h"  // next_cr_or_lf

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <map>

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
  put_run(std::string_view(&c, 1));
}

void DataReader::put_run(std::string_view run) {
  const uint64_t room = size_ < max_size_ ? max_size_ - size_ : 0;
  size_ += run.size();
  if (run.size() > room) oversize_ = true;
  msg_.append(run.data(), static_cast<size_t>(std::min<uint64_t>(room, run.size())));
}

size_t DataReader::feed(std::string_view in) {
  size_t i = 0;
  for (; i < in.size() && !done_; ++i) {
    if (!cr_ && pos_ == 2) {
      // Inside a line: its ordinary bytes up to the next CR or LF, taken whole.
      const size_t stop = smtp::next_cr_or_lf(in, i);
      if (stop > i) {
        put_run(in.substr(i, stop - i));
        line_len_ += stop - i;
        if (line_len_ > max_line_) overlong_ = true;
        i = stop;
        if (i >= in.size()) break;
      }
    }
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

std::string reply_text(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 400)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (out.empty()) out = "-";
  return out;
}

}  // namespace avsink::smtpd
