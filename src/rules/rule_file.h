// rule_file.h - the rule-file language: one rule a line, parsed into Rule values with diagnostics.
// Parsing is linear in the file size, bounded by ParseLimits; every error carries file:line:reason.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/action.h"
#include "core/cidr.h"
#include "core/result.h"

namespace avsink::rules {

// What a rule looks at. kFrom is shorthand for the header From and the envelope sender.
enum class RuleKind {
  kSubject,       // every Subject header field of the message (raw and RFC 2047-decoded)
  kFrom,          // kHeaderFrom and kEnvelopeFrom
  kHeaderFrom,    // every From header field: raw, decoded, and each address in it
  kEnvelopeFrom,  // MAIL FROM (without <>; "" is the null sender)
  kRcpt,          // every RCPT TO
  kClient,        // the SMTP client's address, matched against an IPv4 or IPv6 CIDR
  kHelo,          // the HELO/EHLO name
  kHeader,        // every top-level header field with the rule's name (raw and decoded)
};
std::string_view to_string(RuleKind kind);  // the rule-file keyword ("header-from", ...)

enum class PatternType { kLiteral, kGlob, kRegex, kCidr };
std::string_view to_string(PatternType type);

// One rule, as written and as compiled. Never changes after parsing.
struct Rule {
  RuleKind kind = RuleKind::kSubject;
  std::string header_name;  // kHeader only: the field name, lowercased
  PatternType type = PatternType::kLiteral;
  std::string pattern;  // as written (delimiters and flags included), for logs
  bool nocase = false;
  std::string regex;  // kLiteral/kGlob/kRegex: the RE2 syntax handed to the RE2::Set
  Cidr cidr;          // kCidr only
  Action action = Action::kReject;
  std::string reply_text;  // reject/tempfail only: the SMTP reply text ("" = policy default)
  std::string comment;     // `# text` at the end of the line, or comment="text"
  std::string id;          // id=NAME, "" when not given
  // First unix second at which the rule no longer applies; INT64_MAX = never expires.
  int64_t expires = std::numeric_limits<int64_t>::max();
  std::string file;  // the path as given to the parser
  uint32_t line = 0;

  // The Finding name: the id when given, else "<file basename>:<line>".
  std::string name() const;
};

// Bounds on one rule file. Defaults:
//   max_file_bytes    64 MiB   (rspamd caps maps at 256 MiB; 64 MiB is ~500,000 rules)
//   max_line_bytes    64 KiB
//   max_rules         1000000  per file
//   max_errors        1000     errors reported per file (the file is rejected anyway)
//   pattern_max_mem   8 MiB    RE2 max_mem for each regex compiled on its own
struct ParseLimits {
  uint64_t max_file_bytes = 64ull << 20;
  uint32_t max_line_bytes = 64u << 10;
  uint32_t max_rules = 1000000;
  uint32_t max_errors = 1000;
  uint64_t pattern_max_mem = 8ull << 20;
};

// One parsed file. It is usable only when `errors` is empty.
struct ParsedFile {
  std::string path;
  std::string sha256;  // of the bytes read ("" when unreadable)
  uint64_t bytes = 0;
  bool readable = false;          // false: errors[0] is a kIo error
  bool empty_on_purpose = false;  // the file holds the "# avsink: empty" marker
  std::vector<Rule> rules;        // in line order
  std::vector<Error> errors;      // kRules (kIo when unreadable), each with file and line
};

// Parses `text` as the content of rule file `path` (used in diagnostics only). Every line is
// checked; all errors are reported (up to max_errors). Each regex is compiled on its own with
// pattern_max_mem so that a bad or oversized pattern is reported on its own line. A file with
// no rule is an error unless it contains the line "# avsink: empty". Thread-safe.
ParsedFile parse_rule_text(std::string_view text, const std::string &path,
                           const ParseLimits &limits = {});
// Reads `path` (at most max_file_bytes; more is an error, not a truncation) and parses it.
ParsedFile parse_rule_file(const std::string &path, const ParseLimits &limits = {});

// Parses an expiry: "YYYY-MM-DD" (the rule applies through that UTC day) or
// "YYYY-MM-DDTHH:MM[:SS]Z" (it stops applying at that instant). Returns the first unix second
// at which the rule no longer applies. Errors: kRules with the reason.
Result<int64_t> parse_expiry(std::string_view text);

}  // namespace avsink::rules
