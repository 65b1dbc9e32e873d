// header_words.cpp - the one RFC 2045 tokenizer used for every MIME field, plus RFC 2231/2047.
// Every scan is a single forward pass (linear time); at most max_params parameters are kept.
#include "mime/header_words.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "mime/decode.h"
#include "util/utf8.h"

namespace avsink::mime {
namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_tspecial(char c) {
  switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '=':
      return true;
    default:
      return false;
  }
}

bool is_token_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && !is_tspecial(c);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

void add_problem(std::vector<std::string> *problems, const char *name) {
  if (std::find(problems->begin(), problems->end(), name) == problems->end())
    problems->emplace_back(name);
}

// The tokenizer's cursor over one field value.
class Cursor {
 public:
  Cursor(std::string_view v, std::vector<std::string> *problems) : v_(v), problems_(problems) {}
  bool done() const { return i_ >= v_.size(); }
  char peek() const { return v_[i_]; }
  size_t pos() const { return i_; }
  void advance() { ++i_; }

  // Skips whitespace and comments; returns true if any whitespace was seen.
  bool skip_cfws() {
    bool ws = false;
    while (i_ < v_.size()) {
      if (is_wsp(v_[i_])) {
        ws = true;
        ++i_;
      } else if (v_[i_] == '(') {
        skip_comment();
      } else {
        break;
      }
    }
    return ws;
  }

  void skip_comment() {
    int depth = 0;
    while (i_ < v_.size()) {
      char c = v_[i_++];
      if (c == '\\') {
        if (i_ < v_.size()) ++i_;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        if (--depth == 0) return;
      }
    }
    add_problem(problems_, "MIME.Malformed.UnbalancedComment");
  }

  // At a '"': reads the quoted string; returns false when unbalanced (content runs to the end).
  bool read_quoted(std::string *out) {
    ++i_;
    while (i_ < v_.size()) {
      char c = v_[i_++];
      if (c == '\\' && i_ < v_.size()) {
        out->push_back(v_[i_++]);
      } else if (c == '"') {
        return true;
      } else if (c != '\r' && c != '\n') {
        out->push_back(c);
      }
    }
    add_problem(problems_, "MIME.Malformed.UnbalancedQuote");
    return false;
  }

  // Skips to the next top-level ';' (respecting quotes and comments).
  void skip_to_semicolon() {
    while (i_ < v_.size() && v_[i_] != ';') {
      if (v_[i_] == '"') {
        std::string ignored;
        read_quoted(&ignored);
      } else if (v_[i_] == '(') {
        skip_comment();
      } else {
        ++i_;
      }
    }
  }

  std::string_view slice(size_t from, size_t to) const { return v_.substr(from, to - from); }

 private:
  std::string_view v_;
  size_t i_ = 0;
  std::vector<std::string> *problems_;
};

// "As written" reading of a value span: quotes dropped, comments kept, trimmed.
std::string written_form(std::string_view span) {
  std::string s;
  for (char c : trim(span))
    if (c != '"') s.push_back(c);
  return s;
}

// Splits an RFC 2231 initial segment "charset'lang'data"; returns false when not in that shape.
bool split_charset_lang(std::string_view v, std::string *charset, std::string_view *data) {
  size_t q1 = v.find('\'');
  if (q1 == std::string_view::npos) return false;
  size_t q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return false;
  *charset = ascii_lower(v.substr(0, q1));
  *data = v.substr(q2 + 1);
  return true;
}

void push_unique(std::vector<std::string> *v, const std::string &s) {
  if (s.empty()) return;
  if (std::find(v->begin(), v->end(), s) == v->end()) v->push_back(s);
}

}  // namespace

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (s[i] == '%' && i + 2 < s.size()) {
      int h1 = hex(s[i + 1]);
      int h2 = hex(s[i + 2]);
      if (h1 >= 0 && h2 >= 0) {
        out.push_back(static_cast<char>(h1 * 16 + h2));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string strip_comments(std::string_view s) {
  std::string out;
  int depth = 0;
  for (char c : s) {
    if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (depth == 0) {
      out.push_back(c);
    }
  }
  return out;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), is_token_char);
}

StructuredValue parse_structured(std::string_view value, uint32_t max_params) {
  StructuredValue sv;
  Cursor cur(value, &sv.problems);
  cur.skip_cfws();
  // The leading token: token chars and '/', whitespace allowed only around '/'.
  std::string tok;
  bool junk = false;
  while (!cur.done() && cur.peek() != ';') {
    char c = cur.peek();
    if (is_wsp(c) || c == '(') {
      bool ws = cur.skip_cfws();
      if (ws && !cur.done() && cur.peek() != ';' && !tok.empty() && tok.back() != '/' &&
          cur.peek() != '/')
        junk = true;
      continue;
    }
    if (!junk && (is_token_char(c) || c == '/')) {
      tok.push_back(c);
      cur.advance();
      continue;
    }
    junk = true;
    if (c == '"') {
      std::string ignored;
      cur.read_quoted(&ignored);
    } else {
      cur.advance();
    }
  }
  if (junk) add_problem(&sv.problems, "MIME.Malformed.FieldJunk");
  sv.token = ascii_lower(tok);

  while (!cur.done()) {
    cur.advance();  // the ';'
    cur.skip_cfws();
    if (cur.done()) break;
    if (cur.peek() == ';') continue;
    std::string name;
    while (!cur.done() && !is_wsp(cur.peek()) && cur.peek() != '(' && cur.peek() != '=' &&
           cur.peek() != ';' && cur.peek() != '"')
      name.push_back(cur.peek()), cur.advance();
    cur.skip_cfws();
    if (cur.done() || cur.peek() != '=' || name.empty()) {
      add_problem(&sv.problems, "MIME.Malformed.Param");
      cur.skip_to_semicolon();
      continue;
    }
    cur.advance();  // '='
    cur.skip_cfws();
    const size_t value_start = cur.pos();
    std::string val, alt;
    if (!cur.done() && cur.peek() == '"') {
      if (!cur.read_quoted(&val)) {
        // Unbalanced quote: the other reading stops at the first ';'.
        size_t semi = val.find(';');
        if (semi != std::string::npos) alt = val.substr(0, semi);
      }
    } else {
      while (!cur.done() && !is_wsp(cur.peek()) && cur.peek() != ';' && cur.peek() != '(' &&
             cur.peek() != '"')
        val.push_back(cur.peek()), cur.advance();
    }
    cur.skip_cfws();
    if (!cur.done() && cur.peek() != ';') {
      // Junk after the value (`"a"b.exe`, `a b`): the joined reading wins, the first is kept.
      add_problem(&sv.problems, "MIME.Malformed.ParamJunk");
      alt = val;
      while (!cur.done() && cur.peek() != ';') {
        if (cur.peek() == '"') {
          std::string more;
          cur.read_quoted(&more);
          val += more;
        } else if (cur.peek() == '(') {
          cur.skip_comment();
        } else {
          if (!is_wsp(cur.peek())) val.push_back(cur.peek());
          cur.advance();
        }
      }
    }
    if (alt.empty()) {
      std::string written = written_form(cur.slice(value_start, cur.pos()));
      if (written != val) alt = std::move(written);
    }
    if (sv.params.size() >= max_params) {
      sv.params_exceeded = true;
      break;
    }
    sv.params.push_back(Param{ascii_lower(name), std::move(val), std::move(alt)});
  }
  return sv;
}

std::string normalize_token(std::string_view value) {
  return parse_structured(value, 0).token;
}

ParamLookup find_param(const std::vector<Param> &params, std::string_view name) {
  ParamLookup r;
  const Param *plain = nullptr;
  // RFC 2231 pieces by segment number (any number of digits, leading zeros allowed: ordered by
  // value), each (param, extended, position written). The single `name*` form has kind 0.
  struct SegKey {
    int kind = 0;     // 0: `name*` (no number), 1: numbered
    std::string num;  // digits without leading zeros ("" for 0)
    bool operator<(const SegKey &o) const {
      if (kind != o.kind) return kind < o.kind;
      if (num.size() != o.num.size()) return num.size() < o.num.size();
      return num < o.num;
    }
  };
  struct Seg {
    const Param *p;
    bool extended;
    size_t written;
  };
  std::map<SegKey, Seg> segments;
  bool segment_dup = false;
  size_t written = 0;
  std::vector<const Param *> dup_segments;  // a second param with the same segment number
  for (const Param &p : params) {
    std::string_view n = p.name;
    if (n == name) {
      if (plain) {
        add_problem(&r.problems, "MIME.Ambiguous.DuplicateParam");
        push_unique(&r.alternates, decode_rfc2047(p.value));
      } else {
        plain = &p;
      }
      continue;
    }
    if (n.size() <= name.size() || n.substr(0, name.size()) != name || n[name.size()] != '*')
      continue;
    std::string_view rest = n.substr(name.size() + 1);
    bool extended = false;
    SegKey key;
    if (rest.empty()) {
      extended = true;
    } else {
      if (rest.back() == '*') {
        extended = true;
        rest.remove_suffix(1);
      }
      if (rest.empty() ||
          !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
        continue;
      while (!rest.empty() && rest.front() == '0') rest.remove_prefix(1);
      key.kind = 1;
      key.num = std::string(rest);
    }
    if (!segments.emplace(key, Seg{&p, extended, written++}).second) {
      segment_dup = true;
      dup_segments.push_back(&p);
    }
  }
  if (segment_dup) add_problem(&r.problems, "MIME.Ambiguous.DuplicateParam");

  std::string plain_value;
  if (plain) {
    plain_value = decode_rfc2047(plain->value);
    if (!plain->alt.empty()) push_unique(&r.alternates, decode_rfc2047(plain->alt));
  }
  if (!segments.empty()) {
    // The charset comes from the first segment that has the charset'lang' shape.
    std::string charset;
    bool have_charset = false;
    for (const auto &[key, seg] : segments) {
      std::string_view data;
      if (seg.extended && split_charset_lang(seg.p->value, &charset, &data)) {
        have_charset = true;
        break;
      }
    }
    // One segment's bytes: its charset'lang' prefix dropped, %XX decoded when extended.
    auto piece = [&](const Seg &seg) {
      std::string_view data = seg.p->value;
      std::string cs;
      if (seg.extended) {
        std::string_view d;
        if (split_charset_lang(seg.p->value, &cs, &d)) data = d;
        return percent_decode(data);
      }
      return std::string(data);
    };
    auto to_utf8 = [&](const std::string &bytes) {
      std::string u;
      charset_to_utf8(bytes, charset, &u);
      return u;
    };
    const bool single_mixed = segments.size() > 1 && segments.begin()->first.kind == 0;
    if (single_mixed) add_problem(&r.problems, "MIME.Malformed.Rfc2231Segments");
    // Numeric order (RFC 2231), skipping the un-numbered form when numbered ones exist.
    std::string bytes, raw;
    std::string expect;  // the next expected number, "" = 0
    bool gaps = false;
    for (const auto &[key, seg] : segments) {
      if (key.kind == 0 && segments.size() > 1) continue;
      if (key.kind == 1 && key.num != expect) gaps = true;
      if (key.kind == 1) {
        // expect = key.num + 1 (decimal string arithmetic on any number of digits)
        std::string next = key.num.empty() ? "0" : key.num;
        int k = static_cast<int>(next.size()) - 1;
        while (k >= 0 && next[static_cast<size_t>(k)] == '9') next[static_cast<size_t>(k--)] = '0';
        if (k < 0)
          next.insert(next.begin(), '1');
        else
          ++next[static_cast<size_t>(k)];
        expect = next;
      }
      raw += seg.p->value;
      bytes += piece(seg);
    }
    if (gaps || !have_charset) {
      if (gaps) add_problem(&r.problems, "MIME.Malformed.Rfc2231Segments");
    }
    for (const auto &[key, seg] : segments)
      if (seg.extended && (key.kind == 0 || key.num.empty()) && !have_charset)
        add_problem(&r.problems, "MIME.Malformed.Rfc2231Charset");
    std::string decoded;
    if (!charset_to_utf8(bytes, charset, &decoded) && !charset.empty())
      add_problem(&r.problems, "MIME.Malformed.UnknownCharset");
    r.found = true;
    r.value = decoded;
    r.raw = raw;
    // Other assemblies: in the order written; each segment alone; duplicates in their place.
    std::vector<const Seg *> by_written;
    for (const auto &[key, seg] : segments) by_written.push_back(&seg);
    std::sort(by_written.begin(), by_written.end(),
              [](const Seg *a, const Seg *b) { return a->written < b->written; });
    std::string written_bytes;
    for (const Seg *seg : by_written) written_bytes += piece(*seg);
    push_unique(&r.alternates, to_utf8(written_bytes));
    for (const Seg *seg : by_written) push_unique(&r.alternates, to_utf8(piece(*seg)));
    for (const Param *d : dup_segments) {
      push_unique(&r.alternates, to_utf8(percent_decode(d->value)));
      push_unique(&r.alternates, to_utf8_lenient(d->value));
    }
    push_unique(&r.alternates, to_utf8_lenient(raw));
    if (plain) {
      push_unique(&r.alternates, plain_value);
      push_unique(&r.alternates, to_utf8_lenient(plain->value));
    }
  } else if (plain) {
    r.found = true;
    r.value = plain_value;
    r.raw = plain->value;
    push_unique(&r.alternates, to_utf8_lenient(plain->value));
  }
  // Alternates never repeat the best reading.
  r.alternates.erase(std::remove(r.alternates.begin(), r.alternates.end(), r.value),
                     r.alternates.end());
  return r;
}

std::string to_utf8_lenient(std::string_view bytes) {
  if (util::utf8_valid(bytes)) return std::string(bytes);
  return util::latin1_to_utf8(bytes);
}

namespace {

// The Unicode charsets under the names Python's codec registry also accepts (it ignores case,
// "-", "_", " " and "."; glibc's iconv does not, and lacks some of the aliases): the name iconv
// knows, or "" when it is not one of them. Senders that name a charset so that only some readers
// decode it hide what a name says from the others.
std::string unicode_charset_alias(std::string_view charset) {
  std::string k;
  for (char c : charset)
    if (c != '-' && c != '_' && c != ' ' && c != '.') k += c;
  static const std::pair<const char *, const char *> kAliases[] = {
      {"utf8", "utf-8"},
      {"u8", "utf-8"},
      {"utf", "utf-8"},
      {"cp65001", "utf-8"},
      {"utf8sig", "utf-8"},
      {"utf16", "utf-16"},
      {"u16", "utf-16"},
      {"utf16le", "utf-16le"},
      {"utf16be", "utf-16be"},
      {"unicodelittleunmarked", "utf-16le"},
      {"unicodebigunmarked", "utf-16be"},
      {"utf32", "utf-32"},
      {"u32", "utf-32"},
      {"utf32le", "utf-32le"},
      {"utf32be", "utf-32be"},
      {"utf7", "utf-7"},
      {"u7", "utf-7"},
      {"unicode11utf7", "utf-7"},
  };
  for (const auto &[name, iconv_name] : kAliases)
    if (k == name) return iconv_name;
  return "";
}

}  // namespace

bool charset_to_utf8(std::string_view bytes, std::string_view charset_in, std::string *out) {
  std::string charset = ascii_lower(trim(charset_in));
  if (std::string alias = unicode_charset_alias(charset); !alias.empty()) charset = alias;
  if (charset.empty()) {
    *out = to_utf8_lenient(bytes);
    return true;
  }
  if (charset == "utf-8" || charset == "utf8" || charset == "us-ascii" || charset == "ascii") {
    *out = util::utf8_sanitize(bytes);
    return true;
  }
  if (charset == "ks_c_5601-1987") charset = "cp949";
  if (charset == "utf-16" || charset == "utf16" || charset == "ucs-2" || charset == "ucs2" ||
      charset == "unicode") {
    // Without a byte-order mark iconv assumes big-endian; Windows writes little-endian. Read it
    // the way that makes the text readable: the NUL high bytes of Latin text sit at odd offsets
    // in little-endian.
    const bool bom = bytes.size() >= 2 && ((bytes[0] == '\xff' && bytes[1] == '\xfe') ||
                                           (bytes[0] == '\xfe' && bytes[1] == '\xff'));
    if (!bom) {
      size_t even = 0, odd = 0;
      for (size_t i = 0; i < bytes.size(); ++i)
        if (bytes[i] == '\0') ++(i % 2 ? odd : even);
      charset = odd > even ? "utf-16le" : "utf-16be";
    }
  }
  if (charset.size() > 64) {
    *out = to_utf8_lenient(bytes);
    return false;
  }
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    *out = to_utf8_lenient(bytes);
    return false;
  }
  out->clear();
  out->reserve(bytes.size() * 2);
  char buf[4096];
  char *in = const_cast<char *>(bytes.data());  // iconv's API is not const-correct
  size_t in_left = bytes.size();
  while (in_left > 0) {
    char *o = buf;
    size_t o_left = sizeof buf;
    size_t rc = iconv(cd, &in, &in_left, &o, &o_left);
    out->append(buf, static_cast<size_t>(o - buf));
    if (rc != static_cast<size_t>(-1)) break;
    if (errno == E2BIG) continue;
    // EILSEQ or EINVAL: mark the byte and go on.
    out->append("\xef\xbf\xbd");
    ++in;
    --in_left;
  }
  // Flush any shift state.
  char *o = buf;
  size_t o_left = sizeof buf;
  iconv(cd, nullptr, nullptr, &o, &o_left);
  out->append(buf, static_cast<size_t>(o - buf));
  iconv_close(cd);
  *out = util::utf8_sanitize(*out);
  return true;
}

std::string decode_rfc2047(std::string_view text) {
  if (text.find("=?") == std::string_view::npos) return to_utf8_lenient(text);
  std::string out;
  std::string pending, pending_cs;
  bool have_pending = false;
  auto flush = [&] {
    if (!have_pending) return;
    std::string s;
    charset_to_utf8(pending, pending_cs, &s);
    out += s;
    pending.clear();
    have_pending = false;
  };
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    size_t s = text.find("=?", i);
    if (s == std::string_view::npos) break;
    // charset: up to 64 chars, no whitespace or '?'
    size_t q1 = s + 2;
    while (q1 < n && q1 - s < 66 && text[q1] != '?' && !is_wsp(text[q1])) ++q1;
    bool ok = q1 < n && text[q1] == '?' && q1 > s + 2 && q1 + 2 < n && text[q1 + 2] == '?';
    char enc = ok ? text[q1 + 1] : 0;
    ok = ok && (enc == 'b' || enc == 'B' || enc == 'q' || enc == 'Q');
    if (!ok) {
      flush();
      out += to_utf8_lenient(text.substr(i, s + 2 - i));
      i = s + 2;
      continue;
    }
    size_t data = q1 + 3;
    size_t e = text.find("?=", data);
    if (e == std::string_view::npos) break;  // no word can end any more: rest is plain
    std::string_view gap = text.substr(i, s - i);
    if (!(have_pending && trim(gap).empty())) {
      flush();
      out += to_utf8_lenient(gap);
    }
    std::string cs = ascii_lower(text.substr(s + 2, q1 - s - 2));
    if (size_t star = cs.find('*'); star != std::string::npos) cs.resize(star);
    std::string_view payload = text.substr(data, e - data);
    std::string bytes;
    if (enc == 'b' || enc == 'B') {
      decode_base64(payload, payload.size(), &bytes);
    } else {
      for (size_t k = 0; k < payload.size(); ++k) {
        char c = payload[k];
        if (c == '_') {
          bytes.push_back(' ');
        } else if (c == '=' && k + 2 < payload.size()) {
          std::string dec;
          decode_quoted_printable(payload.substr(k, 3), 3, &dec);
          bytes += dec;
          k += 2;
        } else {
          bytes.push_back(c);
        }
      }
    }
    if (have_pending && cs != pending_cs) flush();
    pending_cs = cs;
    pending += bytes;
    have_pending = true;
    i = e + 2;
  }
  flush();
  if (i < n) out += to_utf8_lenient(text.substr(i));
  return out;
}

std::vector<TransferEncoding> lenient_transfer_encodings(std::string_view value) {
  std::vector<TransferEncoding> out;
  auto add = [&out](TransferEncoding te) {
    if (std::find(out.begin(), out.end(), te) == out.end()) out.push_back(te);
  };
  // Every way the value can be read: as written, RFC 2047-decoded; comments kept or dropped.
  std::vector<std::string> forms{std::string(value), decode_rfc2047(value)};
  forms.push_back(strip_comments(forms[1]));
  for (const std::string &form : forms) {
    // Lowercase, drop quotes and every control or space byte; split lists on , ; / and spaces.
    std::vector<std::string> items(1);
    for (char c : form) {
      const auto u = static_cast<unsigned char>(c);
      if (c == ',' || c == ';' || c == '/' || c == ' ' || c == '(' || c == ')') {
        if (!items.back().empty()) items.emplace_back();
      } else if (u > 0x20 && u < 0x7f && c != '"' && c != '\'' && c != '\\') {
        items.back().push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      }
    }
    for (const std::string &t : items) {
      if (t.empty()) continue;
      TransferEncoding te = classify_transfer_encoding(t);
      if (te != TransferEncoding::kUnknown) {
        add(te);
        continue;
      }
      auto has = [&t](const char *what) { return t.find(what) != std::string::npos; };
      if (has("quoted") || has("printable") || t == "qp" || has("-qp") || has("qp-")) {
        add(TransferEncoding::kQuotedPrintable);
      } else if (has("base64") || has("b64") || t == "64" || has("base-64") ||
                 (t.size() >= 2 && t.compare(t.size() - 2, 2, "64") == 0)) {
        add(TransferEncoding::kBase64);
      } else if (has("binhex") || has("hqx")) {
        add(TransferEncoding::kBinhex);
      } else if (has("yenc") || has("ybegin")) {
        add(TransferEncoding::kYenc);
      } else if (has("uu")) {
        add(TransferEncoding::kUuencode);
      } else if (has("7bit") || has("8bit") || has("binary")) {
        add(TransferEncoding::kIdentity);
      }
    }
  }
  return out;
}

}  // namespace avsink::mime
