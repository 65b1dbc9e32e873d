// rule_file.cpp - tokenizer and parser of rule files (syntax: docs/rules.md).
// One pass per line, bounded by ParseLimits; a line with any error yields diagnostics, no rule.
#include "rules/rule_file.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include <re2/re2.h>

#include "core/read_file.h"
#include "core/sha256.h"
#include "util/text.h"
#include "util/utc_date.h"
#include "util/utf8.h"

namespace avsink::rules {

namespace {

// SMTP reply text a rule may ask for: printable ASCII, short enough for one reply line.
constexpr size_t kMaxReplyText = 400;
constexpr size_t kMaxIdLength = 128;

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_space(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string base_name(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A token of a rule line.
struct Token {
  enum Kind { kWord, kQuoted, kRegex } kind = kWord;
  std::string prefix;  // kQuoted: text before the opening quote ("glob:", "comment="), else ""
  std::string text;    // kWord: the word; kQuoted: unescaped content; kRegex: the body
  std::string flags;   // letters right after the closing quote or slash
  std::string raw;     // as written
};

struct Tokens {
  std::vector<Token> tokens;
  std::string comment;  // after an unquoted '#' that starts a token
  bool has_comment = false;
};

// Splits a line into tokens. Errors: unterminated quote or regex, junk after a closing delimiter.
Result<Tokens> tokenize(std::string_view line) {
  Tokens out;
  size_t pos = 0;
  const size_t n = line.size();
  auto read_flags = [&](Token *t) -> Result<void> {
    while (pos < n && !is_space(line[pos])) {
      char c = line[pos];
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        return make_error(ErrorCode::kRules, std::string("unexpected '") + c +
                                                 "' after closing delimiter of " + t->raw);
      t->flags += c;
      ++pos;
    }
    return {};
  };
  // Reads a quoted string starting at line[pos] == '"'; a backslash escapes the next character.
  auto read_quoted = [&](Token *t) -> Result<void> {
    size_t start = pos++;
    for (;;) {
      if (pos >= n) return make_error(ErrorCode::kRules, "unterminated quoted string");
      char c = line[pos++];
      if (c == '\\') {
        if (pos >= n) return make_error(ErrorCode::kRules, "unterminated quoted string");
        t->text += line[pos++];
      } else if (c == '"') {
        break;
      } else {
        t->text += c;
      }
    }
    t->raw += std::string(line.substr(start, pos - start));
    return read_flags(t);
  };
  for (;;) {
    while (pos < n && is_space(line[pos])) ++pos;
    if (pos >= n) break;
    char c = line[pos];
    Token t;
    if (c == '#') {
      out.has_comment = true;
      out.comment = std::string(trim(line.substr(pos + 1)));
      break;
    }
    if (c == '"') {
      t.kind = Token::kQuoted;
      if (auto r = read_quoted(&t); !r) return r.error();
    } else if (c == '/') {
      t.kind = Token::kRegex;
      size_t start = pos++;
      bool closed = false;
      while (pos < n) {
        char d = line[pos];
        if (d == '\\' && pos + 1 < n) {
          t.text += d;
          t.text += line[pos + 1];
          pos += 2;
          continue;
        }
        ++pos;
        if (d == '/') {
          closed = true;
          break;
        }
        t.text += d;
      }
      if (!closed)
        return make_error(ErrorCode::kRules,
                          "unterminated regex (no closing '/'; write \\/ "
                          "for a slash inside it)");
      t.raw = std::string(line.substr(start, pos - start));
      if (auto r = read_flags(&t); !r) return r.error();
      t.raw = std::string(line.substr(start, pos - start));
    } else {
      t.kind = Token::kWord;
      size_t start = pos;
      while (pos < n && !is_space(line[pos])) {
        if (line[pos] == '"' && pos > start && (line[pos - 1] == '=' || line[pos - 1] == ':')) {
          t.kind = Token::kQuoted;
          t.prefix = std::string(line.substr(start, pos - start));
          t.raw = t.prefix;
          if (auto r = read_quoted(&t); !r) return r.error();
          break;
        }
        ++pos;
      }
      if (t.kind == Token::kWord) {
        t.text = std::string(line.substr(start, pos - start));
        t.raw = t.text;
      }
    }
    out.tokens.push_back(std::move(t));
  }
  return out;
}

std::optional<RuleKind> kind_from_word(std::string_view w) {
  const std::string k = util::ascii_lower(w);
  if (k == "subject") return RuleKind::kSubject;
  if (k == "from") return RuleKind::kFrom;
  if (k == "header-from") return RuleKind::kHeaderFrom;
  if (k == "envelope-from") return RuleKind::kEnvelopeFrom;
  if (k == "rcpt") return RuleKind::kRcpt;
  if (k == "client") return RuleKind::kClient;
  if (k == "helo") return RuleKind::kHelo;
  if (k == "header") return RuleKind::kHeader;
  return std::nullopt;
}

// RFC 5322 field name: printable ASCII except ':'.
bool valid_field_name(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (char c : s)
    if (c <= 0x20 || c >= 0x7F || c == ':') return false;
  return true;
}

std::string glob_to_regex(std::string_view glob) {
  std::string re = "^";
  bool last_star = false;
  for (size_t i = 0; i < glob.size(); ++i) {
    char c = glob[i];
    if (c == '*') {
      if (!last_star) re += "(?s:.*)";
      last_star = true;
      continue;
    }
    last_star = false;
    if (c == '?') {
      re += "(?s:.)";
    } else if (c == '\\' && i + 1 < glob.size()) {
      re += RE2::QuoteMeta(glob.substr(i + 1, 1));
      ++i;
    } else {
      // Keep multi-byte UTF-8 sequences whole so QuoteMeta leaves them unescaped.
      size_t len = std::max<size_t>(1, util::utf8_lead_length(static_cast<unsigned char>(c)));
      len = std::min(len, glob.size() - i);
      re += RE2::QuoteMeta(glob.substr(i, len));
      i += len - 1;
    }
  }
  return re + "$";
}

Result<void> check_flags(const Token &t) {
  std::set<char> seen;
  for (char f : t.flags) {
    if (f != 'i')
      return make_error(ErrorCode::kRules, std::string("unknown pattern flag '") + f + "' on " +
                                               t.raw + " (the only flag is i)");
    if (!seen.insert(f).second)
      return make_error(ErrorCode::kRules, "flag given twice on " + t.raw);
  }
  return {};
}

// Fills r->type, pattern, nocase and regex from the pattern token.
Result<void> parse_pattern(const Token &t, const ParseLimits &limits, Rule *r) {
  r->pattern = t.raw;
  if (t.kind == Token::kRegex) {
    if (auto f = check_flags(t); !f) return f;
    if (t.text.empty())
      return make_error(ErrorCode::kRules, "empty regex // would match every message");
    r->type = PatternType::kRegex;
    r->nocase = !t.flags.empty();
    r->regex = (r->nocase ? "(?i)" : "") + t.text;
    RE2::Options opt;
    opt.set_log_errors(false);
    opt.set_max_mem(static_cast<int64_t>(limits.pattern_max_mem));
    RE2 re(r->regex, opt);
    if (!re.ok()) return make_error(ErrorCode::kRules, "bad regex " + t.raw + ": " + re.error());
    return {};
  }
  if (t.kind == Token::kQuoted && t.prefix.empty()) {
    if (auto f = check_flags(t); !f) return f;
    r->type = PatternType::kLiteral;
    r->nocase = !t.flags.empty();
    r->regex = (r->nocase ? "(?i)^" : "^") + RE2::QuoteMeta(t.text) + "$";
    return {};
  }
  std::string_view glob;
  if (t.kind == Token::kQuoted && util::ascii_lower(t.prefix) == "glob:") {
    if (auto f = check_flags(t); !f) return f;
    glob = t.text;
    r->nocase = !t.flags.empty();
  } else if (t.kind == Token::kWord && util::ascii_lower(t.text.substr(0, 5)) == "glob:") {
    glob = std::string_view(t.text).substr(5);
  } else if (t.kind == Token::kWord && util::ascii_lower(t.text.substr(0, 6)) == "iglob:") {
    glob = std::string_view(t.text).substr(6);
    r->nocase = true;
  } else if (t.kind == Token::kWord) {
    if (t.text.find('=') != std::string::npos)
      return make_error(ErrorCode::kRules, "missing pattern before option " + t.raw);
    // A bare word is a case-sensitive literal: `rcpt abuse@example.com accept`.
    r->type = PatternType::kLiteral;
    r->regex = "^" + RE2::QuoteMeta(t.text) + "$";
    return {};
  } else {
    return make_error(ErrorCode::kRules, "not a pattern: " + t.raw);
  }
  if (glob.empty()) return make_error(ErrorCode::kRules, "empty glob in " + t.raw);
  r->type = PatternType::kGlob;
  r->regex = (r->nocase ? "(?i)" : "") + glob_to_regex(glob);
  return {};
}

std::optional<Action> rule_action(std::string_view word) {
  const std::string w = util::ascii_lower(word);
  if (w == "allow") return Action::kAccept;
  if (w == "rewrite" || w == "strip") return std::nullopt;
  return action_from_string(w);
}

// Parses one non-blank, non-comment line into `r`.
Result<void> parse_line(std::string_view line, const ParseLimits &limits, Rule *r) {
  auto tok = tokenize(line);
  if (!tok) return tok.error();
  const std::vector<Token> &t = tok->tokens;
  size_t i = 0;
  if (t.empty()) return make_error(ErrorCode::kRules, "missing rule kind");
  if (t[0].kind != Token::kWord)
    return make_error(ErrorCode::kRules, "rule must start with a kind, got " + t[0].raw);
  auto kind = kind_from_word(t[0].text);
  if (!kind)
    return make_error(ErrorCode::kRules,
                      "unknown rule kind '" + t[0].text +
                          "' (want subject, from, header-from, envelope-from, rcpt, client, helo "
                          "or header NAME)");
  r->kind = *kind;
  ++i;
  if (r->kind == RuleKind::kHeader) {
    if (i >= t.size() || t[i].kind != Token::kWord || !valid_field_name(t[i].text))
      return make_error(ErrorCode::kRules,
                        "header rule needs a field name: header NAME PATTERN "
                        "ACTION");
    r->header_name = util::ascii_lower(t[i].text);
    if (r->header_name == "subject") r->kind = RuleKind::kSubject;
    if (r->header_name == "from") r->kind = RuleKind::kHeaderFrom;
    if (r->kind != RuleKind::kHeader) r->header_name.clear();
    ++i;
  }
  if (i >= t.size()) return make_error(ErrorCode::kRules, "missing pattern");
  if (r->kind == RuleKind::kClient) {
    if (t[i].kind != Token::kWord)
      return make_error(ErrorCode::kRules, "client rules take an address or CIDR, got " + t[i].raw);
    auto cidr = parse_cidr(t[i].text);
    if (!cidr) return cidr.error();
    r->type = PatternType::kCidr;
    r->cidr = *cidr;
    r->pattern = t[i].text;
  } else {
    if (auto p = parse_pattern(t[i], limits, r); !p) return p;
  }
  ++i;
  if (i >= t.size()) return make_error(ErrorCode::kRules, "missing action after " + t[i - 1].raw);
  if (t[i].kind != Token::kWord)
    return make_error(ErrorCode::kRules, "expected an action, got " + t[i].raw);
  auto action = rule_action(t[i].text);
  if (!action) {
    const std::string w = util::ascii_lower(t[i].text);
    if (w == "rewrite" || w == "strip")
      return make_error(ErrorCode::kRules,
                        "a rule cannot strip parts; use reject, tempfail, "
                        "quarantine, discard or accept");
    return make_error(ErrorCode::kRules, "unknown action '" + t[i].text +
                                             "' (want reject, tempfail, quarantine, discard or "
                                             "accept)");
  }
  r->action = *action;
  ++i;
  if (i < t.size() && t[i].kind == Token::kQuoted && t[i].prefix.empty()) {
    if (r->action != Action::kReject && r->action != Action::kTempfail)
      return make_error(ErrorCode::kRules, "a reply text is only allowed after reject or tempfail");
    if (!t[i].flags.empty())
      return make_error(ErrorCode::kRules, "unexpected flags after reply text " + t[i].raw);
    if (t[i].text.size() > kMaxReplyText)
      return make_error(ErrorCode::kRules,
                        "reply text longer than " + std::to_string(kMaxReplyText) + " characters");
    for (char c : t[i].text)
      if (c < 0x20 || c > 0x7E)
        return make_error(ErrorCode::kRules,
                          "reply text must be printable ASCII (SMTP replies "
                          "cannot carry control or 8-bit characters)");
    r->reply_text = t[i].text;
    ++i;
  }
  std::set<std::string> seen;
  bool comment_option = false;
  for (; i < t.size(); ++i) {
    std::string key, value;
    if (t[i].kind == Token::kQuoted && !t[i].prefix.empty() && t[i].prefix.back() == '=') {
      key = util::ascii_lower(t[i].prefix.substr(0, t[i].prefix.size() - 1));
      value = t[i].text;
      if (!t[i].flags.empty())
        return make_error(ErrorCode::kRules, "unexpected flags after " + t[i].raw);
    } else if (t[i].kind == Token::kWord && t[i].text.find('=') != std::string::npos) {
      size_t eq = t[i].text.find('=');
      key = util::ascii_lower(t[i].text.substr(0, eq));
      value = t[i].text.substr(eq + 1);
    } else if (t[i].kind == Token::kQuoted && t[i].prefix.empty()) {
      return make_error(ErrorCode::kRules, "unexpected quoted text " + t[i].raw +
                                               " (a reply text goes right after the action)");
    } else {
      return make_error(ErrorCode::kRules,
                        "unexpected '" + t[i].raw + "' (options are expires=, id= and comment=)");
    }
    if (!seen.insert(key).second)
      return make_error(ErrorCode::kRules, "option " + key + "= given twice");
    if (key == "expires") {
      auto e = parse_expiry(value);
      if (!e) return e.error();
      r->expires = *e;
    } else if (key == "id") {
      if (value.empty() || value.size() > kMaxIdLength)
        return make_error(ErrorCode::kRules, "id= must be 1 to 128 characters");
      for (char c : value)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
          return make_error(ErrorCode::kRules,
                            "id= may only contain letters, digits, '.', '_' "
                            "and '-'");
      r->id = value;
    } else if (key == "comment") {
      r->comment = value;
      comment_option = true;
    } else {
      return make_error(ErrorCode::kRules,
                        "unknown option '" + key + "=' (options are expires=, id= and comment=)");
    }
  }
  if (tok->has_comment) {
    if (comment_option)
      return make_error(ErrorCode::kRules, "comment given twice (comment= and # ...)");
    r->comment = tok->comment;
  }
  for (char c : r->comment)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
      return make_error(ErrorCode::kRules, "comment contains control characters");
  return {};
}

bool is_empty_marker(std::string_view comment_line) {
  std::string_view s = trim(comment_line);
  if (s.empty() || s.front() != '#') return false;
  s.remove_prefix(1);
  const std::string l = util::ascii_lower(trim(s));
  return l.rfind("avsink: empty", 0) == 0 || l.rfind("avsink:empty", 0) == 0;
}

}  // namespace

std::string_view to_string(RuleKind kind) {
  switch (kind) {
    case RuleKind::kSubject:
      return "subject";
    case RuleKind::kFrom:
      return "from";
    case RuleKind::kHeaderFrom:
      return "header-from";
    case RuleKind::kEnvelopeFrom:
      return "envelope-from";
    case RuleKind::kRcpt:
      return "rcpt";
    case RuleKind::kClient:
      return "client";
    case RuleKind::kHelo:
      return "helo";
    case RuleKind::kHeader:
      return "header";
  }
  return "unknown";
}

std::string_view to_string(PatternType type) {
  switch (type) {
    case PatternType::kLiteral:
      return "literal";
    case PatternType::kGlob:
      return "glob";
    case PatternType::kRegex:
      return "regex";
    case PatternType::kCidr:
      return "cidr";
  }
  return "unknown";
}

std::string Rule::name() const {
  if (!id.empty()) return id;
  return base_name(file) + ":" + std::to_string(line);
}

Result<int64_t> parse_expiry(std::string_view text) {
  const std::optional<util::UtcTime> t = util::parse_utc_time(text);
  if (!t) {
    return make_error(ErrorCode::kRules, "bad expires= date '" + std::string(text) +
                                             "' (want YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z, UTC)");
  }
  return t->date_only ? t->seconds + 86400 : t->seconds;  // a date: through the whole UTC day
}

ParsedFile parse_rule_text(std::string_view text, const std::string &path,
                           const ParseLimits &limits) {
  ParsedFile out;
  out.path = path;
  out.readable = true;
  out.bytes = text.size();
  out.sha256 = sha256_hex(text);
  auto add_error = [&](uint32_t line, std::string reason) {
    if (out.errors.size() < limits.max_errors)
      out.errors.push_back(make_error(ErrorCode::kRules, std::move(reason), path, line));
  };
  if (text.size() > limits.max_file_bytes) {
    add_error(0, "file is larger than " + std::to_string(limits.max_file_bytes) + " bytes");
    return out;
  }
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::set<std::string> ids;
  uint32_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limits.max_line_bytes) {
      add_error(line_no, "line longer than " + std::to_string(limits.max_line_bytes) + " bytes");
      continue;
    }
    if (line.find('\0') != std::string_view::npos) {
      add_error(line_no, "NUL byte in line");
      continue;
    }
    if (!util::utf8_valid(line)) {
      add_error(line_no, "line is not valid UTF-8");
      continue;
    }
    std::string_view body = trim(line);
    if (body.empty()) continue;
    if (body.front() == '#') {
      if (is_empty_marker(body)) out.empty_on_purpose = true;
      continue;
    }
    Rule r;
    r.file = path;
    r.line = line_no;
    if (auto p = parse_line(body, limits, &r); !p) {
      add_error(line_no, p.error().message);
      continue;
    }
    if (!r.id.empty() && !ids.insert(r.id).second) {
      add_error(line_no, "id=" + r.id + " used twice in this file");
      continue;
    }
    if (out.rules.size() >= limits.max_rules) {
      add_error(line_no, "more than " + std::to_string(limits.max_rules) + " rules in one file");
      break;
    }
    out.rules.push_back(std::move(r));
  }
  if (out.rules.empty() && out.errors.empty() && !out.empty_on_purpose)
    add_error(0,
              "no rules in file (an empty rule file is refused unless it contains the line "
              "'# avsink: empty')");
  return out;
}

ParsedFile parse_rule_file(const std::string &path, const ParseLimits &limits) {
  auto data = read_regular_file(path, limits.max_file_bytes);
  if (!data) {
    ParsedFile out;
    out.path = path;
    out.errors.push_back(data.error());
    return out;
  }
  return parse_rule_text(*data, path, limits);
}

}  // namespace avsink::rules
